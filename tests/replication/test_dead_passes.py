"""A pass whose process dies holds its peer for a lease lifetime, not for minutes.

The lease a pass takes is kept alive by a heartbeat; a process killed with
SIGKILL stops beating, and another pass takes the peer over within a few
seconds. Meanwhile ``status`` shows the peer as stalled, not as fine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from crdtredis.replication import PeerReport, stats
from crdtredis.replication.inspection import region_status
from crdtredis.replication.leases import LEASE_SECONDS, ShardGroup, ShardLeases
from tests.regions import Regions
from tests.support import CONSOLE_SCRIPT, long_pass, wait_for

pytestmark = pytest.mark.integration

KEYS = 30_000


def test_a_killed_pass_lets_the_next_one_in_within_a_lease(
    regions: Regions, tmp_path: Path
) -> None:
    eu, env = long_pass(regions, tmp_path, KEYS)
    passing = subprocess.Popen([CONSOLE_SCRIPT, "sync", "--once"], env=env)
    try:
        wait_for(lambda: eu.client.exists(eu.layout.lock_key("us")), message="the pass's lease")
        wait_for(lambda: eu.client.dbsize() > 1000, message="some keys merged")
        os.kill(passing.pid, signal.SIGKILL)
        passing.wait(timeout=10)
    finally:
        passing.kill()
    killed = time.monotonic()

    def a_pass_that_runs() -> PeerReport | None:
        report = eu.sync_peer("us")
        return None if report.skipped else report

    report = wait_for(
        a_pass_that_runs, timeout=4 * LEASE_SECONDS, interval=0.2, message="a pass after the kill"
    )
    assert time.monotonic() - killed < 2 * LEASE_SECONDS + 1
    assert report is not None and report.ok
    assert sum(eu.counter(f"c{i}").value() for i in range(0, KEYS, 97)) == len(range(0, KEYS, 97))


def test_a_long_pass_keeps_its_leases_alive(regions: Regions) -> None:
    eu = regions.open("eu")
    lease = ShardLeases(eu, "us", ttl=0.6)
    assert lease.acquire(range(4)) == {0, 1, 2, 3}
    time.sleep(1.5)  # the time a slow page might take: the heartbeat must cover it
    other = ShardLeases(eu, "us")
    assert other.acquire(range(6)) == {4, 5}
    lease.release()
    assert other.acquire(range(4)) == {0, 1, 2, 3, 4, 5}
    other.release()


def test_the_leases_of_a_holder_that_stopped_renewing_are_taken_over(regions: Regions) -> None:
    eu = regions.open("eu")
    dead = ShardLeases(eu, "us", ttl=0.3)
    assert dead.acquire([0, 1]) == {0, 1}
    dead._stop.set()  # the heartbeat stops, as in a process killed with SIGKILL
    successor = ShardLeases(eu, "us")
    assert successor.acquire([0, 1]) == set()
    taken = wait_for(lambda: successor.acquire([0, 1]) or None, timeout=5, message="a takeover")
    assert taken == {0, 1}
    successor.release()


def test_status_shows_a_peer_whose_passes_neither_succeed_nor_fail_as_stalled(
    regions: Regions,
) -> None:
    eu = regions.open("eu", ("us",))
    regions.open("us").counter("c").incr()
    assert eu.sync_peer("us").ok
    assert region_status(eu, stalled_after=60)["peers"][0]["state"] == "ok"
    eu.client.hset(eu.layout.sync_stats_key("us"), "last_success", f"{time.time() - 120:.6f}")
    dead = ShardLeases(eu, "us", ttl=60)
    dead.acquire(range(eu.layout.shards))
    dead._stop.set()  # a pass that stopped (SIGSTOP, a hung page) holds the shards
    assert eu.sync_peer("us").skipped  # skipped passes keep the last attempt fresh
    peer = region_status(eu, stalled_after=60)["peers"][0]
    assert peer["state"] == "stalled" and peer["lease_held"]
    assert peer["seconds_since_success"] >= 120  # the age of the lag figure
    assert stats.read(eu, "us").failures == 0


def test_a_pass_that_lost_its_leases_stops_before_its_next_write(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",), sync_batch=5), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(KEYS)})
    reports: list[PeerReport] = []
    passing = threading.Thread(target=lambda: reports.append(eu.sync_peer("us")))
    passing.start()
    key = eu.layout.lock_key("us")
    wait_for(lambda: eu.client.hlen(key) == us.layout.shards, message="the pass's leases")
    far = int(time.time() * 1000) + 60_000
    eu.client.hset(key, mapping={f: f"{far}|thief/x" for f in eu.client.hkeys(key)})
    passing.join(timeout=30)
    (report,) = reports
    assert report.skipped and "lost its leases" in report.skipped, report.summary()
    assert report.ok and 0 < report.keys_read < KEYS
    assert eu.client.hget(key, "0") == f"{far}|thief/x"  # the thief's leases stand


def test_a_pass_with_a_budget_leaves_the_rest_to_the_next(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",), sync_batch=5), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(2000)})
    first = eu.sync_peer("us", budget=0.0)
    assert first.ok and 0 < first.keys_read < 2000 and first.lag > 0
    rest = eu.sync_peer("us")
    assert rest.ok and first.keys_read + rest.keys_read == 2000 and rest.lag == 0
    assert sum(eu.counter(f"c{i}").value() for i in range(2000)) == 2000


def test_a_group_reaches_shards_past_the_shard_count_it_last_saw(regions: Regions) -> None:
    eu = regions.open("eu", ("us",))
    us = regions.open("us", shards=4)
    us.counter("first").incr()
    assert eu.sync_peer("us").ok  # the cursor holds 4 shards
    regions.servers["us"].client().flushall()
    us = regions.open("us", shards=16)
    name = next(f"k{i}" for i in range(1000) if us.layout.shard_of(f"k{i}") == 13)
    us.counter(name).incr(7)
    report = eu.sync_peer("us", ShardGroup(5, 8))  # shards 5 and 13: none below 4
    assert report.ok and not report.skipped, report.summary()
    assert eu.counter(name).value() == 7
