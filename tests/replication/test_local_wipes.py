"""A wipe of the local Redis during a sync pass: no peer key is skipped for good.

The pass that was under way must not write its cursor into the fresh Redis:
the keys of pages merged before the wipe were lost with it, so the region
pulls the peer from the start again.
"""

from __future__ import annotations

from typing import Any

import pytest

from crdtredis.replication import Region
from tests.replication.conftest import Regions

pytestmark = pytest.mark.integration

KEYS = 300


def wipe_after_first_page(region: Region, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the local Redis lose everything right after the pass's first page is merged."""
    real = type(region).merge_peer_hashes
    pages = []

    def merge_then_wipe(self: Any, hashes: Any) -> Any:
        report = real(self, hashes)
        pages.append(len(hashes))
        if len(pages) == 1:
            self.client.flushall()
        return report

    monkeypatch.setattr(type(region), "merge_peer_hashes", merge_then_wipe)


def pull_until_quiet(region: Region, peer: str) -> None:
    for _ in range(10):
        report = region.sync_peer(peer)
        if report.ok and report.keys_read == 0 and report.lag == 0:
            return
    raise AssertionError(f"{peer} never went quiet: {report.summary()}")


def test_a_wipe_mid_pass_loses_no_peer_key(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    eu, us = regions.open("eu", ("us",), sync_batch=20), regions.open("us")
    us.incr_many({f"c{i}": i + 1 for i in range(KEYS)})
    wipe_after_first_page(eu, monkeypatch)
    report = eu.sync_peer("us")
    monkeypatch.undo()
    assert not report.ok and "changed incarnation during the pass" in str(report.error)
    pull_until_quiet(eu, "us")
    assert {f"c{i}": eu.counter(f"c{i}").value() for i in range(KEYS)} == {
        f"c{i}": i + 1 for i in range(KEYS)
    }


def test_a_wipe_between_passes_with_a_stale_process_pulls_everything_again(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(50)})
    assert eu.sync_peer("us").keys_read == 50
    regions.servers["eu"].client().flushall()  # eu's process still believes its old identity
    pull_until_quiet(eu, "us")
    assert sum(eu.counter(f"c{i}").value() for i in range(50)) == 50
