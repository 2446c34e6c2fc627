"""Bad input: a clear error naming the key and the cause, and Redis left as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crdtredis.crdt import SLOT_MAX
from crdtredis.errors import (
    BatchError,
    InvalidKeyNameError,
    InvalidStateError,
    SlotOverflowError,
    WrongTypeError,
)
from crdtredis.store import RegionStore
from tests.store.snapshot import snapshot

CREATE: dict[str, Callable[[RegionStore, str], Any]] = {
    "gcounter": lambda r, k: r.gcounter(k).incr(),
    "pncounter": lambda r, k: r.counter(k).decr(),
    "gset": lambda r, k: r.gset(k).add("x"),
    "2pset": lambda r, k: r.twophase_set(k).add("x"),
    "orset": lambda r, k: r.orset(k).add("x"),
    "sequence": lambda r, k: r.sequence(k).append("x"),
}
USE: dict[str, list[Callable[[RegionStore, str], Any]]] = {
    "gcounter": [lambda r, k: r.gcounter(k).incr(), lambda r, k: r.gcounter(k).value()],
    "pncounter": [lambda r, k: r.counter(k).decr(), lambda r, k: r.counter(k).value()],
    "gset": [lambda r, k: r.gset(k).add("y"), lambda r, k: "x" in r.gset(k)],
    "2pset": [lambda r, k: r.twophase_set(k).remove("x"), lambda r, k: r.twophase_set(k).members()],
    "orset": [lambda r, k: r.orset(k).add("y"), lambda r, k: r.orset(k).tombstones()],
    "sequence": [lambda r, k: r.sequence(k).append("y"), lambda r, k: r.sequence(k).to_list()],
}
PAIRS = [(a, b) for a in CREATE for b in USE if a != b]


@pytest.mark.parametrize(("stored", "used"), PAIRS, ids=[f"{a}-as-{b}" for a, b in PAIRS])
def test_a_key_keeps_its_type_for_life(
    region: RegionStore, client: Any, stored: str, used: str
) -> None:
    CREATE[stored](region, "k")
    before = snapshot(client)
    for use in USE[used]:
        with pytest.raises(WrongTypeError) as caught:
            use(region, "k")
        message = str(caught.value)
        assert "'k'" in message and stored in message and used in message
    assert snapshot(client) == before


@pytest.mark.parametrize("amount", [-1, 2.5, True, "1"])
def test_a_bad_amount_writes_nothing(region: RegionStore, client: Any, amount: Any) -> None:
    before = snapshot(client)
    for counter in (region.counter("c"), region.gcounter("g")):
        with pytest.raises(ValueError, match="amount"):
            counter.incr(amount)
    with pytest.raises(ValueError, match="amount"):
        region.counter("c").decr(amount)
    assert snapshot(client) == before


def test_a_gcounter_cannot_be_decremented(region: RegionStore, client: Any) -> None:
    region.gcounter("g").incr(2)
    before = snapshot(client)
    with pytest.raises(ValueError, match="'g'.*only grows"):
        region.gcounter("g").decr()
    assert snapshot(client) == before


def test_an_increment_past_64_bits_is_refused_whole(region: RegionStore, client: Any) -> None:
    counter = region.counter("big")
    assert counter.incr(SLOT_MAX - 1) == SLOT_MAX - 1
    before = snapshot(client)
    with pytest.raises(SlotOverflowError, match="'big'.*overflow"):
        counter.incr(2)
    assert snapshot(client) == before
    assert counter.incr(1) == SLOT_MAX


def test_a_batch_with_a_bad_amount_writes_nothing(region: RegionStore, client: Any) -> None:
    before = snapshot(client)
    with pytest.raises(ValueError, match="key 'b'.*nothing was written"):
        region.incr_many({"a": 1, "b": -1, "c": 2})
    assert snapshot(client) == before


def test_a_batch_refusal_leaves_its_shard_as_it_was_and_names_the_keys(
    region: RegionStore, client: Any
) -> None:
    region.gset("taken").add("x")
    shard = region.layout.shard_of("taken")
    same = next(f"k{i}" for i in range(10_000) if region.layout.shard_of(f"k{i}") == shard)
    other = next(f"k{i}" for i in range(10_000) if region.layout.shard_of(f"k{i}") != shard)
    with pytest.raises(BatchError) as caught:
        region.incr_many({"taken": 1, same: 1, other: 1})
    assert set(caught.value.failures) == {"taken", same}
    assert isinstance(caught.value.failures["taken"], WrongTypeError)
    assert caught.value.applied == [other]
    assert region.counter(same).value() == 0
    assert region.counter(other).value() == 1


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"type": "pncounter", "p": {"us.x": -3}, "n": {}}, "outside"),
        ({"type": "pncounter", "p": {"us.x": "7"}, "n": {}}, "integer"),
        ({"type": "pncounter", "p": {"us x": 1}, "n": {}}, "replica id"),
        ({"type": "pncounter", "p": {}}, "missing"),
        ({"type": "nonsense"}, "unknown type"),
        ("not a state", "object"),
    ],
)
def test_a_malformed_state_is_rejected_whole(
    region: RegionStore, client: Any, state: Any, message: str
) -> None:
    region.counter("c").incr(4)
    before = snapshot(client)
    with pytest.raises((InvalidStateError, WrongTypeError), match=message):
        region.counter("c").merge(state)
    report = region.merge_many({"c": state})
    assert list(report.rejected) == ["c"]
    assert snapshot(client) == before


def test_a_state_of_another_type_is_refused(region: RegionStore, client: Any) -> None:
    region.counter("c").incr()
    before = snapshot(client)
    with pytest.raises(WrongTypeError, match="'c' has type pncounter, not gset"):
        region.merge_many({"c": {"type": "gset", "members": ["a"]}}).raise_for("c")
    assert snapshot(client) == before


def test_a_sequence_element_that_differs_between_replicas_is_refused(
    region: RegionStore, client: Any
) -> None:
    log = region.sequence("log")
    op = log.append("mine")
    before = snapshot(client)
    forged = {"type": "sequence", "ops": [[list(op), None, "theirs"]], "removed": []}
    with pytest.raises(InvalidStateError, match="share an id"):
        log.merge(forged)
    assert snapshot(client) == before


@pytest.mark.parametrize("name", ["", "a\nb", "x" * 513])
def test_bad_key_names_are_refused(region: RegionStore, name: str) -> None:
    with pytest.raises(InvalidKeyNameError):
        region.counter(name)


def test_set_errors_match_the_pure_types(region: RegionStore, client: Any) -> None:
    two = region.twophase_set("two")
    two.add("x")
    two.remove("x")
    before = snapshot(client)
    with pytest.raises(ValueError, match="cannot be re-added"):
        two.add("x")
    with pytest.raises(KeyError, match="not a member"):
        two.remove("y")
    with pytest.raises(KeyError, match="not a member"):
        region.orset("or").remove("y")
    with pytest.raises(ValueError, match="strings"):
        region.gset("g").add(3)  # type: ignore[arg-type]
    assert snapshot(client) == before


def test_sequence_index_errors_change_nothing(region: RegionStore, client: Any) -> None:
    log = region.sequence("log")
    log.append(1)
    before = snapshot(client)
    with pytest.raises(IndexError):
        log.insert(5, 2)
    with pytest.raises(IndexError):
        log.remove(3)
    with pytest.raises(ValueError, match="JSON"):
        log.append(object())
    assert snapshot(client) == before


def test_a_payload_nested_too_deep_is_refused_before_writing(
    region: RegionStore, client: Any
) -> None:
    deep: object = "leaf"
    for _ in range(990):
        deep = [deep]
    log = region.sequence("log")
    log.append("first")
    before = snapshot(client)
    with pytest.raises(ValueError, match="at most 100 levels"):
        log.append(deep)
    assert snapshot(client) == before


def test_a_bad_counter_state_names_its_key(region: RegionStore, client: Any) -> None:
    report = region.merge_many({"likes": {"type": "pncounter", "p": {"bad id!": 1}, "n": {}}})
    assert str(report.rejected["likes"]).startswith("state of key 'likes' rejected")


def test_merging_a_state_of_another_type_says_which_way_round(
    region: RegionStore, client: Any
) -> None:
    region.counter("c").incr()
    before = snapshot(client)
    with pytest.raises(
        WrongTypeError, match="cannot merge a gset state into key 'c', which is used as a pncounter"
    ):
        region.counter("c").merge({"type": "gset", "members": ["a"]})
    assert snapshot(client) == before
