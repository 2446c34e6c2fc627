"""Set behaviour the laws do not cover: removal rules and errors."""

from __future__ import annotations

from typing import Any

import pytest

from crdtredis.crdt import GSet, ORSet, TwoPhaseSet


def test_twophase_set_refuses_a_re_add_and_keeps_its_state() -> None:
    s = TwoPhaseSet("eu")
    s.add("x")
    s.remove("x")
    with pytest.raises(ValueError, match="cannot be re-added"):
        s.add("x")
    assert s.members() == set()
    assert s.to_dict() == {"type": "2pset", "added": ["x"], "removed": ["x"]}


def test_twophase_remove_wins_over_a_concurrent_add() -> None:
    a = TwoPhaseSet("a")
    a.add("x")
    b = TwoPhaseSet("b").merge(a)
    a.remove("x")
    b.add("x")
    assert "x" not in a.merge(b)


@pytest.mark.parametrize("cls", [TwoPhaseSet, ORSet])
def test_removing_a_non_member_is_a_key_error(cls: type) -> None:
    with pytest.raises(KeyError, match="not a member"):
        cls("eu").remove("ghost")


def test_orset_elements_come_back_after_removal() -> None:
    s = ORSet("eu")
    s.add("x")
    s.remove("x")
    s.add("x")
    assert s.members() == {"x"}
    assert s.tombstones() == 1


def test_orset_add_wins_over_a_concurrent_remove() -> None:
    a = ORSet("a")
    a.add("x")
    b = ORSet("b").merge(a)
    a.remove("x")
    b.add("x")
    assert a.merge(b).members() == {"x"}
    assert b.merge(a).members() == {"x"}


def test_orset_tags_keep_counting_after_a_restore_from_state() -> None:
    a = ORSet("a")
    a.add("x")
    a.remove("x")
    restored = ORSet.from_dict(a.to_dict(), "a")
    tag = restored.add("x")
    assert tag == ("a", 2)


@pytest.mark.parametrize("cls", [GSet, TwoPhaseSet, ORSet])
def test_set_elements_must_be_strings(cls: type) -> None:
    s = cls("eu")
    with pytest.raises(ValueError, match="strings"):
        s.add(1)
    assert len(s) == 0


@pytest.mark.parametrize(
    ("cls", "state", "message"),
    [
        (GSet, {"type": "gset", "members": ["a", "a"]}, "twice"),
        (GSet, {"type": "gset", "members": [1]}, "string"),
        (TwoPhaseSet, {"type": "2pset", "added": [], "removed": ["a"]}, "never added"),
        (
            ORSet,
            {"type": "orset", "entries": {"x": [["a", 1]]}, "removed": {"x": [["a", 1]]}},
            "twice",
        ),
        (
            ORSet,
            {"type": "orset", "entries": {"x": [["a", 1]], "y": [["a", 1]]}, "removed": {}},
            "twice",
        ),
        (ORSet, {"type": "orset", "entries": {"x": []}, "removed": {}}, "no tags"),
        (ORSet, {"type": "orset", "entries": {"x": [["a", 0]]}, "removed": {}}, "outside"),
        (ORSet, {"type": "orset", "entries": {"x": [["a"]]}, "removed": {}}, "pair"),
        (ORSet, {"type": "orset", "entries": [], "removed": {}}, "object"),
        (ORSet, {"type": "orset", "entries": {}, "removed": [["a", 1]]}, "object"),
    ],
)
def test_from_dict_rejects_bad_set_state(cls: type[Any], state: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls.from_dict(state, "eu")


def test_orset_merge_refuses_a_tag_naming_two_elements() -> None:
    a, b = ORSet("same"), ORSet("same")
    a.add("x")
    b.add("y")
    with pytest.raises(ValueError, match="share an id"):
        a.merge(b)
    assert a.members() == {"x"}
