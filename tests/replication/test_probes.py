"""Convergence probes: each worker's probe is a timestamp, merged by max, never summed."""

from __future__ import annotations

import time

import pytest

from crdtredis.replication import probe
from tests.regions import Regions

pytestmark = pytest.mark.integration


def test_probes_written_at_once_raise_the_slot_to_the_time_not_the_sum(regions: Regions) -> None:
    eu = regions.open("eu")
    now = time.time()
    for _ in range(3):
        probe.write_probe(eu, now)
    slots = eu.gcounter(probe.probe_name("eu")).to_dict()["slots"]
    assert slots == {eu.replica: int(now * 1000)}
