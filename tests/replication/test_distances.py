"""Regions far apart: passes through delay lines cost round trips side by side, not in a row."""

from __future__ import annotations

import threading

import pytest

from crdtredis.demo.link import Link
from crdtredis.replication import Region
from tests.regions import Regions
from tests.support import wait_for

pytestmark = pytest.mark.integration

ONE_WAY = 0.05  # 100 ms round trips, as between eu and us


def test_writes_in_every_region_converge_through_delay_lines(regions: Regions) -> None:
    links = {
        (a, b): Link(regions.servers[b].port, delay=ONE_WAY)
        for a in regions.servers
        for b in regions.servers
        if a != b
    }
    try:
        live = [
            Region(
                a,
                regions.servers[a].url,
                peers={b: links[(a, b)].url for (x, b) in links if x == a},
            )
            for a in regions.servers
        ]
        for i, region in enumerate(live):
            region.counter("views").incr(i + 1)
            region.orset("pages").add(f"/{region.name}")
        for _ in range(2):
            for region in live:
                assert all(r.ok for r in region.sync())
        assert [r.counter("views").value() for r in live] == [6, 6, 6]
        assert [r.orset("pages").members() for r in live] == [{"/eu", "/us", "/ap"}] * 3
    finally:
        for link in links.values():
            link.close()


def test_passes_from_several_peers_run_at_once(regions: Regions) -> None:
    slow = {p: Link(regions.servers[p].port, delay=0.3) for p in ("us", "ap")}
    for name in slow:
        regions.open(name).counter("c").incr()
    try:
        eu = Region(
            "eu", regions.servers["eu"].url, peers={p: link.url for p, link in slow.items()}
        )
        locks = [eu.layout.lock_key(p) for p in slow]
        both_held = threading.Event()

        def watch() -> None:
            wait_for(lambda: eu.client.exists(*locks) == 2, timeout=20, message="both leases")
            both_held.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        reports = eu.sync()
        watcher.join(timeout=20)
        assert [r.peer for r in reports] == ["us", "ap"] and all(r.ok for r in reports)
        assert both_held.is_set()  # each pass holds its leases while it runs: they overlapped
    finally:
        for link in slow.values():
            link.close()
