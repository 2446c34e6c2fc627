"""Real `crdtredis worker` processes keep three regions converged with no manual sync."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crdtredis import Region
from crdtredis.replication import stats
from tests.replication.conftest import NAMES, Regions
from tests.support import CONSOLE_SCRIPT, region_env, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def workers(regions: Regions) -> Iterator[dict[str, subprocess.Popen[str]]]:
    started: dict[str, subprocess.Popen[str]] = {}
    for name in NAMES:
        env = region_env(regions, name, peer_timeout=0.5, max_backoff=2)
        started[name] = subprocess.Popen(
            [CONSOLE_SCRIPT, "worker"],
            env={**os.environ, **env},
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
            message=f"the {name} worker's first passes",
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
    wait_for(lambda: values(live, "likes") == [60, 60, 60], message="counters converging")
    wait_for(
        lambda: all(r.orset("seen").members() == set(NAMES) for r in live),
        message="sets converging",
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
    wait_for(lambda: stats.read(eu, "us").failures >= 3, message="failures being recorded")
    queue = regions.servers["eu"].client()
    failures = stats.read(eu, "us").failures

    def another_attempt_failed() -> bool:
        assert queue.llen("rq:queue:crdtredis-eu") <= 2  # one job per peer at most
        return stats.read(eu, "us").failures > failures

    wait_for(another_attempt_failed, message="the scheduler trying us again")
    eu.counter("c").incr(4)
    assert stats.backoff(stats.read(eu, "us"), 0.5, 2.0) == 2.0
    regions.servers["us"].start()
    wait_for(lambda: values(regions.all(), "c") == [4, 4, 4], timeout=40, message="catching up")


@pytest.mark.parametrize("then", ["room", "stop"])
def test_a_worker_started_while_its_redis_is_full_waits_for_room(
    regions: Regions, tmp_path: Path, then: str
) -> None:
    local = regions.servers["eu"].client()
    local.config_set("maxmemory-policy", "noeviction")
    local.config_set("maxmemory", 1)  # every write refused: OOM
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [CONSOLE_SCRIPT, "worker"],
            env={**os.environ, **region_env(regions, "eu", max_backoff=1)},
            stdout=out,
            stderr=out,
        )
    try:
        wait_for(lambda: "cannot take writes yet" in log.read_text(), message="the worker waits")
        assert worker.poll() is None, log.read_text()
        if then == "room":
            local.config_set("maxmemory", 0)
            eu = regions.open("eu")
            wait_for(lambda: stats.read(eu, "us").last_attempt is not None, message="a first pass")
    finally:
        local.config_set("maxmemory", 0)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()


@pytest.mark.parametrize("then", ["listens", "stop"])
def test_a_worker_started_before_its_redis_listens_waits_for_it(
    regions: Regions, tmp_path: Path, then: str
) -> None:
    regions.servers["eu"].kill()  # a supervisor starting the worker and Redis at once
    log = tmp_path / "worker.log"
    env = region_env(regions, "eu", max_backoff=1)
    env["CRDTREDIS_REDIS_URL"] += "?password=s3cret-pw"  # the server has none: it is ignored
    with log.open("w") as out:
        worker = subprocess.Popen(
            [CONSOLE_SCRIPT, "worker"], env={**os.environ, **env}, stdout=out, stderr=out
        )
    try:
        wait_for(lambda: "cannot be reached" in log.read_text(), message="the worker waits")
        assert worker.poll() is None, log.read_text()
        assert "s3cret-pw" not in log.read_text()
        if then == "listens":
            regions.servers["eu"].start()
            eu = regions.open("eu")
            wait_for(lambda: stats.read(eu, "us").last_attempt is not None, message="a first pass")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()


def test_a_worker_refused_by_its_redis_fails_at_once(regions: Regions) -> None:
    env = region_env(regions, "eu")
    url = env["CRDTREDIS_REDIS_URL"].replace("//", "//nobody:wrong-s3cret@")  # WRONGPASS
    env["CRDTREDIS_REDIS_URL"] = url
    done = subprocess.run(
        [CONSOLE_SCRIPT, "worker"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and "wrong-s3cret" not in done.stderr
