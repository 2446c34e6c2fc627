"""Partitions, hung peers, lost data and corrupt peers: local work goes on, nothing good is lost."""

from __future__ import annotations

import shutil
import time

import pytest

from crdtredis.replication import stats
from tests.replication.conftest import Regions, converge

pytestmark = pytest.mark.integration


def test_a_stopped_peer_is_reported_and_caught_up_after_restart(regions: Regions) -> None:
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


def test_a_hung_peer_costs_one_timeout_not_a_hang(regions: Regions) -> None:
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


def test_a_wiped_region_gets_a_new_incarnation_and_loses_nothing_that_left_it(
    regions: Regions,
) -> None:
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
