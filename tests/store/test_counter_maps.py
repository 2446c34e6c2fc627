"""A counter map in Redis: its derived top-N index follows every write, merge, delete and
expiry, is rebuilt when it is missing, and never outlives its map; batches are one call."""

from __future__ import annotations

import time

import pytest

from crdtredis.crdt import CounterMap
from crdtredis.errors import BatchError, WrongTypeError
from crdtredis.store import RegionStore
from crdtredis.store.scripts import script


def index(region: RegionStore, name: str) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = region.client.zrange(
        region.layout.index_key(name), 0, -1, withscores=True
    )
    return found


def test_top_reads_the_index_and_the_index_is_rebuilt_when_it_is_gone(region: RegionStore) -> None:
    views = region.counter_map("views")
    region.incr_fields({"views": {"/": 5, "/pricing": 9, "/about": 5, "/old": 1}})
    views.decr("/old")
    assert views.top(3) == [("/pricing", 9), ("/", 5), ("/about", 5)]
    assert index(region, "views") == [
        ("", -19.0),
        ("/pricing", -9.0),
        ("/", -5.0),
        ("/about", -5.0),
    ]
    region.client.delete(region.layout.index_key("views"))
    assert views.top(10) == [("/pricing", 9), ("/", 5), ("/about", 5)]
    region.client.zrem(region.layout.index_key("views"), "")  # the mark alone
    region.client.zadd(region.layout.index_key("views"), {"/pricing": 0})
    assert views.get("/pricing") == 9 and len(views) == 3 and views.total() == 19


def test_a_merge_moves_the_index_by_what_each_field_gained(region: RegionStore) -> None:
    views = region.counter_map("views")
    views.incr("/", 2)
    peer = CounterMap("peer1")
    peer.incr("/", 10)
    peer.incr("/docs", 3)
    peer.decr("/gone", 4)
    assert views.merge(peer)
    expected = views.state().merge(peer)
    assert views.top(5) == expected.top(5) == [("/", 12), ("/docs", 3), ("/gone", -4)]
    assert views.total() == expected.total() == 11
    peer.delete_field("/")
    views.merge(peer)
    assert views.top(5) == [("/docs", 3), ("/", 2), ("/gone", -4)]


def test_a_field_delete_and_a_map_delete_empty_the_index(region: RegionStore) -> None:
    views = region.counter_map("views")
    region.incr_fields({"views": {"/a": 1, "/b": 2}})
    assert views.delete_field("/a") and not views.delete_field("/a")
    assert views.items() == {"/b": 2} and views.top(5) == [("/b", 2)] and views.total() == 2
    assert views.delete() and not views.exists()
    assert index(region, "views") == [("", 0.0)] and views.top(5) == []
    assert views.incr("/a") == 1 and views.items() == {"/a": 1}


def test_the_index_expires_and_is_persisted_with_its_map(region: RegionStore) -> None:
    views = region.counter_map("views")
    views.incr("/")
    key = region.layout.index_key("views")
    assert region.expire("views", 100)
    assert 0 < region.client.pttl(key) <= 101_000  # set by the region's clock
    assert region.client.pttl(key) == pytest.approx(region.client.pttl(views.key), abs=50)
    region.clock = lambda: time.time() + 1  # a later setting (one in the same ms may lose)
    assert region.persist("views") and region.client.pttl(key) == -1
    state = views.to_dict()
    region.expire_at("views", 1)  # long past: the map goes now, index and all
    assert not region.client.exists(views.key) and not region.client.exists(key)
    assert views.top(3) == [] and views.get("/") == 0
    assert not views.merge(state)  # the old life stays ended


def test_incr_fields_checks_everything_before_it_writes(region: RegionStore) -> None:
    region.counter("taken").incr()
    for bad, message in [
        ({"views": {"/": -1}}, "amount must be >= 0"),
        ({"views": {"": 1}}, "must not be empty"),
        ({"views": {"/": 1}, "": {"/": 1}}, "non-empty"),
    ]:
        with pytest.raises(ValueError, match=message):
            region.incr_fields(bad)
    assert region.counter_map("views").items() == {}
    with pytest.raises(BatchError) as caught:
        region.incr_fields({"taken": {"/": 1}, "views": {"/": 1}})
    assert isinstance(caught.value.failures["taken"], WrongTypeError)
    assert region.counter("taken").value() == 1


def test_a_large_map_merged_in_pieces_ranks_like_its_pure_twin(region: RegionStore) -> None:
    peer = CounterMap("peer1")
    for i in range(3000):
        peer.incr(f"/page/{i}", i % 97)
    views = region.counter_map("views")
    views.incr("/page/5", 1000)
    views.merge(peer)
    expected = CounterMap("x").merge(peer)
    expected.merge(views.state())
    assert views.top(10) == expected.top(10)
    assert len(views) == len(expected) and views.total() == expected.total()


def test_counts_stay_exact_when_slots_stand_far_above_them(region: RegionStore) -> None:
    views = region.counter_map("views")
    assert views.incr("/big", 123_456_789_012_345) == 123_456_789_012_345
    assert views.incr("/big") == 123_456_789_012_346 == views.get("/big")
    # A slot first written after a collection in its shard starts at the shard's
    # counter base (with its floor there), far above the count it holds.
    region.client.hset(region.layout.head_key(views.shard), "base:c", str(10**18 + 123))
    assert [views.incr("/home") for _ in range(5)] == [1, 2, 3, 4, 5]
    assert views.top(2) == [("/big", 123_456_789_012_346), ("/home", 5)]
    region.client.delete(region.layout.index_key("views"))  # rebuilt from those slots
    assert views.get("/home") == 5 == views.items()["/home"]


def test_a_slot_listed_twice_for_a_field_delete_is_reset_once(region: RegionStore) -> None:
    views = region.counter_map("views")
    region.incr_fields({"views": {"/a": 7, "/b": 2}})
    slot = f"{region.replica},/a"
    assert views._write_with(script("map_delete_field"), lambda: ["cm", "views", slot, slot])
    assert views.top(5) == [("/b", 2)] and views.total() == 2 and views.get("/a") == 0


def test_an_index_made_again_keeps_its_maps_expiry(region: RegionStore) -> None:
    views = region.counter_map("views")
    views.incr("/")
    region.expire("views", 100)
    key = region.layout.index_key("views")
    views.decr("/")  # the last field at 0: the index is emptied and made again
    assert region.client.pttl(key) > 0
    views.delete()  # resets the index: made again, empty
    assert region.client.pttl(key) > 0
    views.incr("/x")
    region.client.delete(key)
    assert views.top(1) == [("/x", 1)] and region.client.pttl(key) > 0  # rebuilt by a read
