"""Partitions, hung peers, lost data, corrupt peers and failed merges.

Local work goes on, nothing good is lost, and no bad key stops a peer's sync.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

import pytest

from crdtredis.errors import CRDTRedisError, ObstructedKeyError
from crdtredis.replication import stats
from tests.replication.conftest import Regions, converge

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["loopback", "100ms-rtt"])
def test_a_stopped_peer_is_reported_and_caught_up_after_restart(
    regions: Regions, delay: float
) -> None:
    regions.delay = delay
    eu, us, ap = regions.all()
    us.counter("c").incr(2)
    converge([eu, us, ap])
    regions.servers["us"].kill()

    started = time.monotonic()
    for _ in range(50):
        eu.counter("c").incr()
    assert time.monotonic() - started < 5  # local writes do not wait for the peer
    report = eu.sync_peer("us")
    assert not report.ok and "us" in str(report.error) and "unreachable" in str(report.error)
    seen = stats.read(eu, "us")
    assert seen.failures == 1 and seen.last_error == report.error
    assert eu.sync_peer("ap").ok

    regions.servers["us"].start()
    converge([eu, regions.open("us"), ap])
    assert [r.counter("c").value() for r in regions.all()] == [52, 52, 52]
    assert stats.read(eu, "us").failures == 0


@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["loopback", "100ms-rtt"])
def test_a_hung_peer_costs_one_timeout_not_a_hang(regions: Regions, delay: float) -> None:
    regions.delay = delay
    eu = regions.open("eu", peer_timeout=0.5)
    us = regions.open("us")
    us.counter("c").incr()
    regions.servers["us"].pause()
    try:
        started = time.monotonic()
        report = eu.sync_peer("us")
        elapsed = time.monotonic() - started
        assert not report.ok and "did not answer in time" in str(report.error)
        assert elapsed < 3.0
    finally:
        regions.servers["us"].resume()
    assert eu.sync_peer("us").ok
    assert eu.counter("c").value() == 1


@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["loopback", "100ms-rtt"])
def test_a_wiped_region_gets_a_new_incarnation_and_loses_nothing_that_left_it(
    regions: Regions, delay: float
) -> None:
    regions.delay = delay
    eu, us, ap = regions.all()
    eu.counter("views").incr(5)
    eu.orset("tags").add("kept")
    us.counter("views").incr(7)
    converge([eu, us, ap])
    eu.counter("views").incr(100)  # never leaves eu: lost with the wipe
    old_replica = eu.replica

    server = regions.servers["eu"]
    server.kill()
    shutil.rmtree(server.directory)
    server.start()
    eu = regions.open("eu")
    assert eu.replica != old_replica
    assert eu.counter("views").incr(1) == 1  # takes writes at once

    converge([eu, us, ap])
    for region in (eu, us, ap):
        assert region.counter("views").value() == 5 + 7 + 1
        assert region.orset("tags").members() == {"kept"}
        slots = region.counter("views").to_dict()["p"]
        assert slots[old_replica] == 5 and slots[eu.replica] == 1


def test_a_corrupt_peer_key_is_rejected_and_the_rest_syncs(regions: Regions) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    for name in ("good", "words", "negative"):
        us.counter(name).incr(3)
    eu.counter("words").incr(1)
    before = eu.counter("words").to_dict()
    us_client = regions.servers["us"].client()
    us_client.hset(us.layout.data_key("words"), us.replica, "lots")
    us_client.hset(us.layout.data_key("negative"), us.replica, "-4")

    report = eu.sync_peer("us")
    assert report.ok
    assert set(report.rejected) == {"words", "negative"}
    assert "'lots'" in report.rejected["words"] and "not an integer" in report.rejected["words"]
    assert eu.counter("good").value() == 3
    assert eu.counter("words").to_dict() == before
    assert not eu.counter("negative").exists()
    assert stats.read(eu, "us").totals["keys_rejected_total"] == 2

    # Once the peer's key is repaired and changes again, it syncs like any other.
    us_client.hset(us.layout.data_key("words"), us.replica, "9")
    us.counter("words").merge({"type": "pncounter", "p": {"other.x": 1}, "n": {}})
    assert eu.sync_peer("us").keys_changed == 1
    assert eu.counter("words").value() == 1 + 9 + 1


def test_a_local_key_of_another_redis_type_holds_back_that_key_alone_until_removed(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(20)})
    local = regions.servers["eu"].client()
    local.set(eu.layout.data_key("c7"), "a string")
    report = eu.sync_peer("us")
    assert report.ok and list(report.obstructed) == ["c7"] and not report.rejected
    assert "taken in the local Redis by a string key" in report.obstructed["c7"]
    assert sum(eu.counter(f"c{i}").value() for i in range(20) if i != 7) == 19
    again = eu.sync_peer("us")  # the cursor moved on; the obstructed key alone is retried
    assert again.ok and again.keys_read == 1 and list(again.obstructed) == ["c7"]
    local.delete(eu.layout.data_key("c7"))
    cleared = eu.sync_peer("us")
    assert cleared.ok and not cleared.obstructed and cleared.keys_changed == 1
    assert eu.counter("c7").value() == 1
    assert eu.sync_peer("us").keys_read == 0  # nothing left to retry


def test_a_peer_key_of_another_redis_type_is_rejected_alone(regions: Regions) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.counter("c").incr()
    regions.servers["us"].client().set(us.layout.data_key("s"), "x")
    us.client.zadd(us.layout.changes_key(us.layout.shard_of("s")), {"s": 10**6})
    us.client.hset(us.layout.head_key(us.layout.shard_of("s")), "v", 10**6)
    report = eu.sync_peer("us")
    assert report.ok and "cannot read it as a hash" in report.rejected["s"]
    assert eu.counter("c").value() == 1


def test_a_local_write_on_a_key_of_another_redis_type_names_it(regions: Regions) -> None:
    eu = regions.open("eu")
    regions.servers["eu"].client().set(eu.layout.data_key("taken"), "x")
    with pytest.raises(ObstructedKeyError, match="key 'taken' is taken .* by a string key"):
        eu.counter("taken").incr()
    with pytest.raises(ObstructedKeyError):
        eu.counter("taken").value()
    assert regions.servers["eu"].client().get(eu.layout.data_key("taken")) == b"x"


@pytest.mark.parametrize(
    "value",
    [
        b'["1@us.x", "\\xff\\xfe"]',
        b'[null, "\\ud800"]',
        b"[null, " + b"[" * 3000 + b"]" * 3000 + b"]",
    ],
    ids=["not-utf8", "lone-surrogate", "deep-json"],
)
def test_an_undecodable_peer_key_is_rejected_alone(regions: Regions, value: bytes) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.sequence("bad").append("ok")
    us.counter("good").incr(2)
    raw = regions.servers["us"].client()
    raw.hset(
        us.layout.data_key("bad"),
        f".1@{us.replica}".encode(),
        value.replace(b"us.x", us.replica.encode()),
    )
    report = eu.sync_peer("us")
    assert report.ok and list(report.rejected) == ["bad"]
    assert eu.counter("good").value() == 2
    assert not eu.sequence("bad").exists()


def test_a_local_merge_failure_keeps_the_cursor_before_the_keys(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": i + 1 for i in range(50)})
    real = type(eu).merge_peer_hashes

    def out_of_memory_once(self: Any, stored: Any) -> Any:
        monkeypatch.setattr(type(eu), "merge_peer_hashes", real)
        report = real(self, {})
        report.failed = {name: CRDTRedisError("OOM (simulated)") for name in stored}
        return report

    monkeypatch.setattr(type(eu), "merge_peer_hashes", out_of_memory_once)
    report = eu.sync_peer("us")
    assert not report.ok and "the cursor stays" in str(report.error)
    retry = eu.sync_peer("us")
    assert retry.ok and retry.keys_read == 50
    assert sum(eu.counter(f"c{i}").value() for i in range(50)) == sum(range(1, 51))


def test_a_peer_shard_with_a_corrupt_head_is_skipped_and_the_rest_syncs(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(100)})
    bad = us.layout.shard_of("c0")
    us.client.hset(us.layout.head_key(bad), "v", "not a number")
    for _ in range(2):
        report = eu.sync_peer("us")
        assert report.ok and "head version 'not a number' is not a number" in str(
            report.shard_problems[bad]
        )
    merged = [i for i in range(100) if eu.counter(f"c{i}").value() == 1]
    assert len(merged) == sum(1 for i in range(100) if us.layout.shard_of(f"c{i}") != bad)
    assert stats.read(eu, "us").last_error == report.shard_problems[bad]


def test_a_peer_shard_whose_index_turned_corrupt_is_skipped_and_the_rest_syncs(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(100)})
    assert eu.sync_peer("us").ok  # eu holds a cursor now: its passes begin with a survey
    bad = us.layout.shard_of("c0")
    us.client.delete(us.layout.changes_key(bad))
    us.client.set(us.layout.changes_key(bad), "garbage")
    healthy = [f"d{i}" for i in range(100) if us.layout.shard_of(f"d{i}") != bad]
    us.incr_many(dict.fromkeys(healthy, 1))  # writes to the bad shard are refused
    for _ in range(2):
        report = eu.sync_peer("us")
        assert report.ok and bad in report.shard_problems, report.summary()
    assert [eu.counter(name).value() for name in healthy] == [1] * len(healthy)


def test_a_peer_head_below_its_index_does_not_resync_the_shard_every_pass(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(100)})
    shard = us.layout.shard_of("c0")
    us.client.hset(us.layout.head_key(shard), "v", 1)
    first = eu.sync_peer("us")
    assert first.ok and "below its change index" in first.shard_problems[shard]
    second = eu.sync_peer("us")
    assert second.ok and not second.full_resync and second.keys_read == 0
    assert sum(eu.counter(f"c{i}").value() for i in range(100)) == 100
