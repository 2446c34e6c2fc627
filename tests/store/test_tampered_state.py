"""State changed outside crdtredis, or at its limits: a write refuses before it writes anything.

Lua scripts do not roll back, so every script checks what it will touch (the
object, its slots, its shard's index) before its first write.
"""

from __future__ import annotations

from typing import Any

import pytest

from crdtredis.errors import BatchError, CRDTRedisError, InvalidStateError, ObstructedKeyError
from crdtredis.store import RegionStore
from tests.store.snapshot import snapshot


def test_a_change_index_that_is_no_sorted_set_refuses_the_increment(
    region: RegionStore, client: Any
) -> None:
    likes = region.counter("likes")
    likes.incr()
    index = likes.keys[1]
    client.delete(index)
    client.set(index, "tampered")
    before = snapshot(client)
    with pytest.raises(CRDTRedisError, match="change index of its shard is not a sorted set"):
        likes.incr()
    assert snapshot(client) == before


def test_a_corrupt_slot_of_another_replica_refuses_the_increment(
    region: RegionStore, client: Any
) -> None:
    likes = region.counter("likes")
    likes.incr()
    client.hset(likes.key, "us.x1", "not-a-number")
    before = snapshot(client)
    for _ in range(3):
        with pytest.raises(InvalidStateError, match="stored slot 'us.x1' is not an integer"):
            likes.incr()
    assert snapshot(client) == before


def test_a_corrupt_own_slot_refuses_its_shard_of_a_batch_whole(
    region: RegionStore, client: Any
) -> None:
    shard = region.layout.shard_of("a")
    neighbour = next(f"b{i}" for i in range(1000) if region.layout.shard_of(f"b{i}") == shard)
    region.incr_many({"a": 1, neighbour: 1})
    client.hset(region.counter("a").key, region.replica, "1x")
    before = snapshot(client)
    with pytest.raises(BatchError, match="is not an integer"):
        region.incr_many({neighbour: 1, "a": 1})
    assert snapshot(client) == before


def test_a_data_key_replaced_by_a_string_is_named(region: RegionStore, client: Any) -> None:
    likes = region.counter("likes")
    client.set(likes.key, "x")
    before = snapshot(client)
    with pytest.raises(ObstructedKeyError, match="key 'likes' is taken .* by a string key"):
        likes.incr()
    assert snapshot(client) == before


def test_a_log_at_the_last_lamport_counter_refuses_appends_like_the_pure_one(
    region: RegionStore, client: Any
) -> None:
    last = 2**53 - 1
    log = region.sequence("log")
    log.merge({"type": "sequence", "ops": [[[last, "us.x1"], None, "e1"]], "removed": []})
    pure = log.state()
    with pytest.raises(ValueError, match="exhausted"):
        pure.append("e2")
    before = snapshot(client)
    with pytest.raises(ValueError, match="exhausted"):
        log.append("e2")
    assert snapshot(client) == before
    assert log.to_list() == ["e1"]
    report = region.merge_many(
        {"log": {"type": "sequence", "ops": [[[last + 1, "us.x1"], None, "e"]], "removed": []}}
    )
    assert "log" in report.rejected  # merge and append agree on the boundary
