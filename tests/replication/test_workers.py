"""Real `crdtredis worker` processes keep three regions converged with no manual sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crdtredis import Region
from crdtredis.replication import stats
from tests.replication.conftest import NAMES, Regions

pytestmark = pytest.mark.integration

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "crdtredis")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.05)


@pytest.fixture
def workers(regions: Regions) -> Iterator[dict[str, subprocess.Popen[str]]]:
    started: dict[str, subprocess.Popen[str]] = {}
    for name in NAMES:
        peers = ",".join(f"{p}={regions.servers[p].url}" for p in NAMES if p != name)
        env = {
            **os.environ,
            "CRDTREDIS_REGION": name,
            "CRDTREDIS_REDIS_URL": regions.servers[name].url,
            "CRDTREDIS_PEERS": peers,
            "CRDTREDIS_PEER_TIMEOUT": "0.5",
            "CRDTREDIS_MAX_BACKOFF": "2",
        }
        started[name] = subprocess.Popen(
            [CONSOLE_SCRIPT, "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    for name in NAMES:
        region = regions.open(name)
        wait_for(
            lambda r=region: all(  # type: ignore[misc]
                stats.read(r, p).last_attempt is not None for p in NAMES if p != r.name
            ),
            what=f"the {name} worker's first passes",
        )
    yield started
    for process in started.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def values(regions: list[Region], name: str) -> list[int]:
    return [r.counter(name).value() for r in regions]


def test_workers_converge_three_regions_without_manual_sync(
    regions: Regions, workers: dict[str, subprocess.Popen[str]]
) -> None:
    live = regions.all()
    for i, region in enumerate(live):
        for _ in range(10):
            region.counter("likes").incr(i + 1)
        region.orset("seen").add(region.name)
    wait_for(lambda: values(live, "likes") == [60, 60, 60], what="counters converging")
    wait_for(
        lambda: all(r.orset("seen").members() == set(NAMES) for r in live), what="sets converging"
    )
    for process in workers.values():
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_a_down_peer_does_not_pile_up_jobs_and_is_caught_up(
    regions: Regions, workers: dict[str, subprocess.Popen[str]]
) -> None:
    live = regions.all()
    regions.servers["us"].kill()
    eu = live[0]
    wait_for(lambda: stats.read(eu, "us").failures >= 3, what="failures being recorded")
    queue = regions.servers["eu"].client()
    for _ in range(20):
        assert queue.llen("rq:queue:crdtredis-eu") <= 2  # one job per peer at most
        time.sleep(0.05)
    eu.counter("c").incr(4)
    assert stats.backoff(stats.read(eu, "us"), 0.5, 2.0) == 2.0
    regions.servers["us"].start()
    wait_for(lambda: values(regions.all(), "c") == [4, 4, 4], timeout=40, what="catching up")
