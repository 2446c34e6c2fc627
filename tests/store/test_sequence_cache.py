"""A region's cache of rebuilt logs: appends skip the reread, and a changed log is never served."""

from __future__ import annotations

from typing import Any

from crdtredis.replication.collection import Collector
from crdtredis.store import RegionStore
from tests.store.conftest import Backend
from tests.support import servers_of, wait_for, wipe


def calls(client: Any, command: str) -> int:
    """How often ``command`` ran on the servers behind ``client`` since their stats were reset."""
    stats = [server.info("commandstats") for server in servers_of(client)]
    return sum(s.get(f"cmdstat_{command}", {"calls": 0})["calls"] for s in stats)


def test_appends_to_a_long_log_do_not_reread_it(server_backend: Backend) -> None:
    client = server_backend()
    log = RegionStore("eu", client).sequence("events")
    for i in range(300):
        log.append(i)
    for server in servers_of(client):
        server.config_resetstat()
    for i in range(100):
        log.append(i)
    assert calls(client, "hgetall") == 0
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


def test_a_cached_log_is_not_served_after_a_wipe(backend: Backend) -> None:
    client = backend()
    cached = RegionStore("eu", client)
    for item in "abc":
        cached.sequence("log").append(item)
    wipe(client)
    other = RegionStore("eu", client)
    for item in "xyz":
        other.sequence("log").append(item)
    assert cached.sequence("log").to_list() == ["x", "y", "z"]
    cached.sequence("log").append("w")
    assert other.sequence("log").to_list() == ["x", "y", "z", "w"]


def test_a_log_changed_by_another_process_is_never_served_from_the_cache_after_trims(
    client: Any,
) -> None:
    """Collection trims change index entries; a log's entry, its version, stays."""
    reader, writer = RegionStore("eu", client), RegionStore("eu", client)
    collector = Collector(writer, ["us"])

    def every_peer_pulled_everything() -> None:
        layout = writer.layout
        everything = {str(s): 10**9 for s in range(layout.shards)}
        client.hset(
            layout.merged_key("us"),
            mapping={"inc": writer.incarnation, "shards": layout.shards, **everything},
        )
        collector.collect()

    writer.sequence("log").append("one")
    every_peer_pulled_everything()
    assert reader.sequence("log").to_list() == ["one"]  # cached
    writer.sequence("log").append("two")
    every_peer_pulled_everything()
    assert reader.sequence("log").to_list() == ["one", "two"]
    reader.sequence("log").append("three")
    assert RegionStore("eu", client).sequence("log").to_list() == ["one", "two", "three"]


def test_a_log_that_expired_is_never_served_from_the_cache(client: Any) -> None:
    writer, reader = RegionStore("eu", client), RegionStore("eu", client)
    writer.sequence("log").append("old")
    writer.expire("log", 1.0)  # long enough to read it once before it goes, however slow
    assert reader.sequence("log").to_list() == ["old"]  # cached
    wait_for(lambda: not client.exists(writer.layout.data_key("log")), message="expired")
    assert reader.sequence("log").to_list() == []
    reader.sequence("log").append("new")
    assert RegionStore("eu", client).sequence("log").to_list() == ["new"]


def test_a_write_on_a_cached_log_missing_its_element_reads_the_log_again(client: Any) -> None:
    """A restart from an older copy of the data can lose an element without a change of
    the log's version: the write must still go through, on the log as it is now."""
    writer = RegionStore("eu", client)
    log = writer.sequence("log")
    log.append("kept")
    lost = log.append("lost")
    client.hdel(writer.layout.data_key("log"), f".{lost[0]}@{lost[1]}")  # as if never written
    log.append("after")  # refers to "lost" in the cached copy: refused, then read again
    assert RegionStore("eu", client).sequence("log").to_list() == ["kept", "after"]
    assert log.to_list() == ["kept", "after"]
