"""The Sequence: list behaviour on one replica, one order on all replicas."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crdtredis.crdt import Sequence


class SequenceIsAList(RuleBasedStateMachine):
    """One replica alone must behave exactly like a Python list."""

    def __init__(self) -> None:
        super().__init__()
        self.sequence = Sequence("solo")
        self.model: list[Any] = []

    @rule(value=st.integers() | st.text(max_size=3))
    def append(self, value: Any) -> None:
        self.sequence.append(value)
        self.model.append(value)

    @rule(data=st.data(), value=st.integers())
    def insert(self, data: Any, value: int) -> None:
        n = len(self.model)
        index = data.draw(st.integers(min_value=-n, max_value=n))
        self.sequence.insert(index, value)
        self.model.insert(index, value)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def remove(self, data: Any) -> None:
        n = len(self.model)
        index = data.draw(st.integers(min_value=-n, max_value=n - 1))
        assert self.sequence.remove(index) == self.model.pop(index)

    @rule()
    def merge_with_own_copy(self) -> None:
        self.sequence.merge(Sequence.from_dict(self.sequence.to_dict(), "copy"))

    @invariant()
    def same_as_list(self) -> None:
        assert self.sequence.to_list() == self.model
        assert len(self.sequence) == len(self.model)
        if self.model:
            assert self.sequence[0] == self.model[0]
            assert self.sequence[-1] == self.model[-1]


TestSequenceIsAList = SequenceIsAList.TestCase


def test_concurrent_appends_after_a_shared_prefix_converge_without_interleaving() -> None:
    # The article's Sequence ends in different orders here; RGA must not.
    a = Sequence("alice")
    a.append("x")
    b = Sequence("bob").merge(a)
    a.append("a1")
    a.append("a2")
    b.append("b1")
    b.append("b2")
    ab = Sequence.from_dict(a.to_dict(), "alice").merge(b)
    ba = Sequence.from_dict(b.to_dict(), "bob").merge(a)
    assert ab == ba
    assert ab.to_list() == ba.to_list() == ["x", "b1", "b2", "a1", "a2"]


def test_each_replicas_own_order_survives_merges() -> None:
    rng = random.Random(7)
    replicas = [Sequence(f"r{i}") for i in range(4)]
    for round_ in range(30):
        for i, r in enumerate(replicas):
            r.insert(rng.randint(0, len(r)), f"{i}:{round_}")
        a, b = rng.sample(replicas, 2)
        a.merge(b)
    for r in replicas:
        for other in replicas:
            r.merge(other)
    final = replicas[0].to_list()
    assert all(r.to_list() == final for r in replicas)
    assert len(final) == 4 * 30


def test_remove_concurrent_with_insert_after_it_keeps_the_insert() -> None:
    a = Sequence("a")
    a.append("keep")
    a.append("gone")
    b = Sequence("b").merge(a)
    a.remove(1)
    b.append("after-gone")
    a.merge(b)
    b.merge(a)
    assert a.to_list() == b.to_list() == ["keep", "after-gone"]
    assert a.tombstones() == 1


@pytest.mark.parametrize("index", [2, 5, -3])
def test_insert_out_of_range_raises_instead_of_clamping(index: int) -> None:
    s = Sequence("a")
    s.append(1)
    with pytest.raises(IndexError, match="out of range"):
        s.insert(index, 0)
    assert s.to_list() == [1]


def test_remove_out_of_range_raises() -> None:
    with pytest.raises(IndexError):
        Sequence("a").remove(0)


def test_payloads_are_stored_as_json_values() -> None:
    s = Sequence("a")
    s.append((1, 2))
    s.append({"k": [True, None]})
    assert s.to_list() == [[1, 2], {"k": [True, None]}]
    with pytest.raises(ValueError, match="JSON"):
        s.append(object())
    with pytest.raises(ValueError, match="JSON"):
        s.append(float("nan"))
    assert len(s) == 2


def test_merge_refuses_two_replicas_that_share_an_id() -> None:
    a, b = Sequence("same"), Sequence("same")
    a.append("one")
    b.append("two")
    before = a.to_dict()
    with pytest.raises(ValueError, match="share an id"):
        a.merge(b)
    assert a.to_dict() == before


def test_long_logs_with_random_edits_match_a_list() -> None:
    rng = random.Random(1)
    s, model = Sequence("a"), []
    for i in range(20_000):
        s.append(i)
        model.append(i)
    for i in range(2_000):
        if rng.random() < 0.5:
            index = rng.randint(0, len(model))
            s.insert(index, -i)
            model.insert(index, -i)
        else:
            index = rng.randrange(len(model))
            assert s.remove(index) == model.pop(index)
    assert s.to_list() == model
    copy = Sequence("b").merge(s)
    assert copy.to_list() == model


@pytest.mark.parametrize(
    ("ops", "removed", "message"),
    [
        ([[[1, "a"], [1, "a"], 0]], [], "not older"),
        ([[[2, "a"], [1, "b"], 0]], [], "unknown op"),
        ([[[1, "a"], None, 0], [[1, "a"], None, 1]], [], "twice"),
        ([[[1, "a"], None, 0]], [[9, "a"]], "unknown op"),
        ([[[0, "a"], None, 0]], [], "outside"),
        ([[[1, ""], None, 0]], [], "empty"),
        ([[[1, "a"], None]], [], r"\[id, ref, value\]"),
    ],
)
def test_from_dict_rejects_inconsistent_logs(ops: Any, removed: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sequence.from_dict({"type": "sequence", "ops": ops, "removed": removed}, "x")


def test_sequence_counters_stay_exact_in_lua() -> None:
    state = {"type": "sequence", "ops": [[[2**53, "us.x"], None, "v"]], "removed": []}
    with pytest.raises(ValueError, match="outside"):
        Sequence.from_dict(state, "eu")


def nested(levels: int) -> object:
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("levels", [101, 985, 990, 50_000])
def test_a_payload_nested_past_the_limit_is_a_value_error(levels: int) -> None:
    log = Sequence("eu.a")
    with pytest.raises(ValueError, match="at most 100 levels"):
        log.append(nested(levels))
    assert len(log) == 0


def test_a_payload_at_the_depth_limit_round_trips() -> None:
    log = Sequence("eu.a")
    log.append(nested(100))
    assert Sequence.from_dict(log.to_dict(), "us.b").to_list() == [nested(100)]


def test_a_removed_elements_skeleton_merges_with_its_full_value_either_way() -> None:
    """Collection drops a removed element's value (a skeleton); the skeleton stands for both."""
    full = Sequence("eu.aaaa1111")
    first = full.append("kept")
    gone = full.append("removed")
    full.remove(1)
    state = full.to_dict()
    skeleton = {
        **state,
        "ops": [[op, ref, None if op == list(gone) else value] for op, ref, value in state["ops"]],
    }
    a = Sequence.from_dict(skeleton, "us.bbbb2222").merge(Sequence.from_dict(state, "x.cccc3333"))
    b = Sequence.from_dict(state, "us.bbbb2222").merge(Sequence.from_dict(skeleton, "x.cccc3333"))
    assert a.to_dict() == b.to_dict() and a.to_list() == b.to_list() == ["kept"]
    assert first != gone
    # Not removed on either side: a different value is two replicas sharing an id.
    live, other = {**state, "removed": []}, {**skeleton, "removed": []}
    with pytest.raises(ValueError, match="share an id"):
        Sequence.from_dict(live, "us.bbbb2222").merge(Sequence.from_dict(other, "x.cccc3333"))
