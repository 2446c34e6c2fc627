"""Batched increments and merges: many objects, one round trip, per-shard atomicity."""

from __future__ import annotations

from typing import Any

from crdtredis.crdt import PNCounter
from crdtredis.store import RegionStore


def test_incr_many_counts_like_single_increments(region: RegionStore) -> None:
    names = [f"page:{i}" for i in range(600)]
    region.incr_many({n: i for i, n in enumerate(names)})
    region.incr_many({n: 1 for n in names})
    region.decr_many({names[0]: 3})
    assert [region.counter(n).value() for n in names[:3]] == [-2, 2, 3]
    assert sum(region.counter(n).value() for n in names) == sum(range(600)) + 600 - 3


def test_incr_many_on_gcounters(region: RegionStore) -> None:
    region.incr_many({"g": 4}, type_name="gcounter")
    assert region.gcounter("g").value() == 4
    assert region.type_of("g") == "gcounter"


def test_merge_many_reports_each_object(region: RegionStore) -> None:
    peer = PNCounter("us.x")
    peer.incr(3)
    region.counter("known").merge(peer)
    report = region.merge_many(
        {
            "known": peer.to_dict(),
            "new": peer.to_dict(),
            "broken": {"type": "pncounter", "p": {"us.x": -1}, "n": {}},
        }
    )
    assert report.unchanged == ["known"]
    assert report.changed == ["new"]
    assert list(report.rejected) == ["broken"]
    assert region.counter("new").value() == 3


def test_a_merge_that_changes_nothing_records_nothing(region: RegionStore, client: Any) -> None:
    peer = PNCounter("us.x")
    peer.incr(3)
    region.counter("c").merge(peer)
    head = region.layout.head_key(region.layout.shard_of("c"))
    version = client.hget(head, "v")
    assert region.counter("c").merge(peer) is False
    assert client.hget(head, "v") == version


def test_every_change_gets_a_new_version_in_the_index(region: RegionStore, client: Any) -> None:
    counter = region.counter("c")
    layout = region.layout
    changes = layout.changes_key(layout.shard_of("c"))
    counter.incr()
    first = client.zscore(changes, "c")
    counter.incr()
    assert client.zscore(changes, "c") > first
    assert client.zcard(changes) == 1


def test_names_lists_every_object_once(region: RegionStore) -> None:
    region.incr_many({f"page:{i}": 1 for i in range(50)})
    region.gset("set:a").add("x")
    assert sorted(region.names("page:*")) == sorted(f"page:{i}" for i in range(50))
    assert list(region.names("set:*")) == ["set:a"]
    assert region.export("set:a") == {"type": "gset", "members": ["x"]}
    assert region.export("missing") is None
