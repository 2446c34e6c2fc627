"""Several workers of one region pull one peer at once, each over its own shard group,
and lose nothing when they are killed mid-pass."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from crdtredis import Region
from crdtredis.demo.link import Link
from crdtredis.replication.cursor import Cursor
from crdtredis.replication.leases import LEASE_SECONDS, live_leases
from crdtredis.workers import roster
from tests.regions import Regions
from tests.support import CONSOLE_SCRIPT, region_env, wait_for

pytestmark = pytest.mark.integration

COUNTERS = 400
SETS = 20
ROUNDS = 60


class Workers:
    """``crdtredis worker`` processes of eu pulling us through a delay line (so that
    passes last), killed and started again at will."""

    def __init__(self, regions: Regions, config_dir: Path, count: int) -> None:
        config = config_dir / "eu.toml"
        config.write_text("[sync]\nbatch = 5\n")  # many round trips: passes last
        self.link = Link(regions.servers["us"].port, delay=0.02)
        self.env = {
            **os.environ,
            **region_env(regions, "eu", (), sync_interval=0.1, peer_timeout=1),
            "CRDTREDIS_PEERS": f"us={self.link.url}",
            "CRDTREDIS_CONFIG": str(config),
        }
        self.started = 0
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        for _ in range(count):
            self._start()

    def _start(self) -> None:
        self.started += 1
        name = f"w{self.started}"
        self.processes[name] = subprocess.Popen(
            [CONSOLE_SCRIPT, "worker", "--name", name],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill_and_restart(self, rng: random.Random) -> None:
        name = rng.choice(sorted(self.processes))
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self._start()

    def live(self, eu: Region) -> bool:
        """Every running worker beats (so it handles SIGTERM: its RQ loop is up)."""
        return all(roster.is_live(eu, name) for name in self.processes)

    def stop(self) -> list[int | None]:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for process in self.processes.values():
            try:
                codes.append(process.wait(timeout=20))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(None)
        self.link.close()
        return codes


def write_rounds(us: Region, rng: random.Random, model: dict[str, object]) -> None:
    """Random increments, decrements, adds and removes in us, mirrored in ``model``."""
    for _ in range(ROUNDS):
        amounts = {f"c{rng.randrange(COUNTERS)}": rng.randint(-5, 9) for _ in range(50)}
        amounts = {name: n for name, n in amounts.items() if n}
        us.incr_many({n: a for n, a in amounts.items() if a > 0})
        us.decr_many({n: -a for n, a in amounts.items() if a < 0})
        for name, amount in amounts.items():
            model[name] = int(model.get(name, 0)) + amount  # type: ignore[call-overload]
        name, element = f"s{rng.randrange(SETS)}", f"e{rng.randrange(8)}"
        members = model.setdefault(name, set())
        assert isinstance(members, set)
        if rng.random() < 0.3 and element in members:
            us.orset(name).remove(element)
            members.discard(element)
        else:
            us.orset(name).add(element)
            members.add(element)
        time.sleep(rng.uniform(0, 0.05))  # writes spread over the kills


def held_shards(eu: Region) -> set[int]:
    """The shards of us that some pass in eu holds a live lease on now."""
    return set(live_leases(eu, "us"))


@pytest.mark.parametrize("count", [2, 4])
def test_workers_pulling_one_peer_over_shard_groups_lose_nothing_when_killed(
    regions: Regions, tmp_path: Path, count: int
) -> None:
    rng = random.Random(count)
    eu, us = regions.open("eu", ("us",)), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(COUNTERS)})
    model: dict[str, object] = {f"c{i}": 1 for i in range(COUNTERS)}
    workers = Workers(regions, tmp_path, count)
    groups = {f"{i}of{count}" for i in range(count)}
    wait_for(
        lambda: groups <= set(eu.client.hkeys(eu.layout.sync_jobs_key)),
        timeout=30,
        message=f"jobs of {count} shard groups",
    )
    writer = threading.Thread(target=write_rounds, args=(us, random.Random(7), model))
    writer.start()
    kills_mid_pass = 0
    try:
        while writer.is_alive():
            time.sleep(rng.uniform(0.3, 1.0))
            kills_mid_pass += bool(held_shards(eu))
            workers.kill_and_restart(rng)
        writer.join()
        heads = us.head_versions()

        def pulled_everything() -> bool:
            cursor = Cursor.stored(eu, "us")
            return cursor is not None and all(
                c >= h for c, h in zip(cursor.versions, heads, strict=True)
            )

        wait_for(pulled_everything, timeout=60, message="every shard pulled after the kills")
        wait_for(lambda: workers.live(eu), message="the last workers started up")
    finally:
        codes = workers.stop()
    assert kills_mid_pass > 0, "no worker was killed while a pass held leases"
    assert codes == [0] * count
    for name, expected in model.items():
        if isinstance(expected, set):
            assert eu.orset(name).members() == expected, name
        else:
            assert eu.counter(name).value() == expected, name
        assert eu.export(name) == us.export(name), name
    # A pass killed last holds its shards for a lease lifetime; then nothing is held.
    wait_for(lambda: held_shards(eu) == set(), timeout=2 * LEASE_SECONDS, message="leases")
