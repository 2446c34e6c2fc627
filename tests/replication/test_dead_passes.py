"""A pass whose process dies holds its peer for a lease lifetime, not for minutes.

The lease a pass takes is kept alive by a heartbeat; a process killed with
SIGKILL stops beating, and another pass takes the peer over within a few
seconds. Meanwhile ``status`` shows the peer as stalled, not as fine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from crdtredis.replication import PeerReport, stats
from crdtredis.replication.inspection import region_status
from crdtredis.replication.lock import LEASE_SECONDS, PassLock
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


def test_a_long_pass_keeps_its_lease_alive(regions: Regions) -> None:
    eu = regions.open("eu")
    lease = PassLock(eu, "us", ttl=0.6)
    assert lease.acquire()
    time.sleep(1.5)  # the time a slow page might take: the heartbeat must cover it
    assert not PassLock(eu, "us").acquire()
    assert lease.release()
    assert PassLock(eu, "us").acquire()


def test_status_shows_a_peer_whose_passes_neither_succeed_nor_fail_as_stalled(
    regions: Regions,
) -> None:
    eu = regions.open("eu", ("us",))
    assert eu.sync_peer("us").ok
    assert region_status(eu, stalled_after=60)["peers"][0]["state"] == "ok"
    eu.client.hset(eu.layout.sync_stats_key("us"), "last_success", f"{time.time() - 120:.6f}")
    eu.client.set(eu.layout.lock_key("us"), "a dead pass", px=60_000)
    assert eu.sync_peer("us").skipped  # skipped passes keep the last attempt fresh
    peer = region_status(eu, stalled_after=60)["peers"][0]
    assert peer["state"] == "stalled" and peer["lease_held"]
    assert peer["seconds_since_success"] >= 120  # the age of the lag figure
    assert stats.read(eu, "us").failures == 0
