"""Batched increments and merges: many objects, one round trip, per-shard atomicity."""

from __future__ import annotations

from typing import Any

from crdtredis.crdt import PNCounter
from crdtredis.store import RegionStore
from tests.store.conftest import Backend


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


def _servers(client: Any) -> list[Any]:
    if hasattr(client, "get_primaries"):
        return [client.get_redis_connection(node) for node in client.get_primaries()]
    return [client]


def _calls(client: Any, command: str) -> int:
    stats = [server.info("commandstats") for server in _servers(client)]
    return sum(s.get(f"cmdstat_{command}", {"calls": 0})["calls"] for s in stats)


def test_appends_to_a_long_log_do_not_reread_it(server_backend: Backend) -> None:
    client = server_backend()
    log = RegionStore("eu", client).sequence("events")
    for i in range(300):
        log.append(i)
    for server in _servers(client):
        server.config_resetstat()
    for i in range(100):
        log.append(i)
    assert _calls(client, "hgetall") == 0
    assert len(log) == 400
    assert log.to_list() == RegionStore("eu", client).sequence("events").state().to_list()


def test_two_writers_on_one_log_stay_consistent(client: Any) -> None:
    first, second = RegionStore("eu", client), RegionStore("eu", client)
    a, b = first.sequence("log"), second.sequence("log")
    a.append("a1")
    b.append("b1")
    a.append("a2")
    b.insert(0, "b0")
    a.remove(1)
    fresh = RegionStore("eu", client).sequence("log")
    assert a.to_list() == b.to_list() == fresh.to_list() == ["b0", "b1", "a2"]
    assert fresh.to_dict() == a.state().to_dict()
