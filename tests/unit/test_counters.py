"""Counter behaviour the laws do not cover: amounts, bounds and errors."""

from __future__ import annotations

import pytest

from crdtredis.crdt import SLOT_MAX, GCounter, PNCounter


@pytest.mark.parametrize("cls", [GCounter, PNCounter])
@pytest.mark.parametrize("amount", [-1, 1.5, True, "3"])
def test_bad_increments_raise_value_error_and_change_nothing(cls: type, amount: object) -> None:
    c = cls("eu")
    c.incr(5)
    with pytest.raises(ValueError, match="amount"):
        c.incr(amount)
    assert c.value() == 5


def test_gcounter_cannot_be_decremented() -> None:
    c = GCounter("eu")
    c.incr(3)
    with pytest.raises(ValueError, match="only grows"):
        c.decr()
    assert c.value() == 3


def test_pncounter_counts_down_past_zero() -> None:
    c = PNCounter("eu")
    assert c.incr(2) == 2
    assert c.decr(5) == -3
    assert c.to_dict() == {"type": "pncounter", "p": {"eu": 2}, "n": {"eu": 5}}


def test_a_slot_cannot_pass_the_redis_integer_width() -> None:
    c = GCounter("eu")
    c.incr(SLOT_MAX)
    with pytest.raises(ValueError, match="overflow"):
        c.incr(1)
    assert c.value() == SLOT_MAX


def test_replicas_join_at_any_time_and_keep_their_own_slot() -> None:
    eu, us = PNCounter("eu"), PNCounter("us")
    eu.incr(2)
    us.merge(eu)
    late = PNCounter("ap:2").merge(us)
    late.decr()
    eu.merge(late)
    assert eu.value() == 1
    assert eu.to_dict()["p"] == {"eu": 2}
    assert eu.to_dict()["n"] == {"ap:2": 1}


def test_merge_keeps_the_higher_slot_not_the_sum() -> None:
    a = GCounter("a")
    a.incr(4)
    b = GCounter("b").merge(a)
    b.merge(a).merge(a)
    assert b.value() == 4


@pytest.mark.parametrize("replica", ["", " eu", "e\nu", 3, "x" * 201])
def test_replica_ids_are_checked(replica: object) -> None:
    with pytest.raises(ValueError, match="replica id"):
        GCounter(replica)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"type": "gcounter", "slots": {"a": -1}}, "outside"),
        ({"type": "gcounter", "slots": {"a": SLOT_MAX + 1}}, "outside"),
        ({"type": "gcounter", "slots": {"a": True}}, "integer"),
        ({"type": "gcounter", "slots": {"": 1}}, "empty"),
        ({"type": "gcounter", "slots": [1]}, "object"),
        ({"type": "pncounter", "slots": {}}, "expected 'gcounter'"),
        ({"type": "gcounter"}, "missing"),
        ({"type": "gcounter", "slots": {}, "x": 1}, "unexpected"),
        ([], "object"),
    ],
)
def test_from_dict_rejects_bad_counter_state(state: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GCounter.from_dict(state, "eu")
