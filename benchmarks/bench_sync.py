"""Replication figures: sync throughput, idle pass cost, write-to-visible latency.

Run: ``.venv/bin/python -m benchmarks.bench_sync [--quick]``. Starts its own
redis-servers (and, for latency, real ``crdtredis worker`` processes).
Each figure comes with its reference from the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from crdtredis import Region
from crdtredis.demo.link import Link
from crdtredis.embedded import RedisServer
from crdtredis.replication import stats
from crdtredis.replication.cursor import Cursor

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "crdtredis")


def fill(region: Region, count: int, start: int = 0) -> None:
    for first in range(start, start + count, 5000):
        region.incr_many(
            {f"counter:{i}": 1 for i in range(first, min(first + 5000, start + count))}
        )


def throughput(keys: int) -> tuple[float, float]:
    """Keys/s of one sync pass over ``keys`` changed counters, and of a pipelined HGETALL."""
    with RedisServer() as eu_server, RedisServer() as us_server:
        us = Region("us", us_server.url)
        eu = Region("eu", eu_server.url, peers={"us": us_server.url})
        fill(us, keys)
        started = time.perf_counter()
        report = eu.sync_peer("us")
        ours = report.keys_read / (time.perf_counter() - started)
        names = [us.layout.data_key(f"counter:{i}") for i in range(keys)]
        client = us_server.client()
        started = time.perf_counter()
        for first in range(0, keys, 1000):
            pipe = client.pipeline(transaction=False)
            for key in names[first : first + 1000]:
                pipe.hgetall(key)
            pipe.execute()
        reference = keys / (time.perf_counter() - started)
        assert report.ok and report.keys_changed == keys, report.summary()
        return ours, reference


def workers_throughput(keys: int, workers: int, rtt: float = 0.0) -> float:
    """Keys/s that ``workers`` real ``crdtredis worker`` processes of eu pull from us
    together, ``keys`` changed counters, with ``rtt`` seconds between eu and us.

    The workers start against an idle us and settle on their shard groups;
    then they are stopped (SIGSTOP) while us takes its writes, and the clock
    runs from their SIGCONT to the moment eu's cursor reaches us's heads. So
    process start-up and the fill are left out, and every worker pulls from
    the first moment. Their heartbeats are kept fresh meanwhile, so no worker
    is counted gone while stopped.
    """
    with RedisServer() as eu_server, RedisServer() as us_server:
        link = Link(us_server.port, delay=rtt / 2) if rtt else None
        us = Region("us", us_server.url)
        eu = Region("eu", eu_server.url)
        us.counter("warm-up").incr()
        env = {
            **os.environ,
            "CRDTREDIS_REGION": "eu",
            "CRDTREDIS_REDIS_URL": eu_server.url,
            "CRDTREDIS_PEERS": f"us={link.url if link else us_server.url}",
        }
        processes = [
            subprocess.Popen(
                [CONSOLE_SCRIPT, "worker", "--name", f"w{i}"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
        try:
            groups = {f"{i}of{workers}" for i in range(workers)}
            _wait(lambda: groups <= set(eu.client.hkeys(eu.layout.sync_jobs_key)), "groups")
            _wait(lambda: eu.counter("warm-up").value() == 1, "the first passes")
            for process in processes:
                process.send_signal(signal.SIGSTOP)
            names = [f"w{i}" for i in range(workers)]
            for first in range(0, keys, 5000):
                eu.client.zadd(eu.layout.workers_key, {n: time.time() for n in names})
                fill(us, min(5000, keys - first), first)
            heads = us.head_versions()
            eu.client.zadd(eu.layout.workers_key, {n: time.time() for n in names})
            started = time.perf_counter()
            for process in processes:
                process.send_signal(signal.SIGCONT)

            def pulled() -> bool:
                cursor = Cursor.stored(eu, "us")
                return cursor is not None and all(
                    c >= h for c, h in zip(cursor.versions, heads, strict=True)
                )

            _wait(pulled, "the pull", interval=0.005)
            elapsed = time.perf_counter() - started
            assert eu.counter(f"counter:{keys - 1}").value() == 1
            return keys / elapsed
        finally:
            for process in processes:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)
            if link:
                link.close()


def _wait(condition: Callable[[], bool], what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within 120 s")
        time.sleep(interval)


def idle_pass(small: int, large: int, repeats: int = 20) -> tuple[float, float]:
    """Median seconds of an idle sync pass with ``large`` keys, and with ``small`` keys."""
    timings = {}
    for keys in (small, large):
        with RedisServer() as eu_server, RedisServer() as us_server:
            us = Region("us", us_server.url)
            eu = Region("eu", eu_server.url, peers={"us": us_server.url})
            fill(us, keys)
            assert eu.sync_peer("us").keys_read == keys
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                report = eu.sync_peer("us")
                samples.append(time.perf_counter() - started)
                assert report.ok and report.keys_read == 0
            timings[keys] = statistics.median(samples)
    return timings[large], timings[small]


def latency(probes: int, interval: float = 0.5, rtt: float = 0.0) -> tuple[float, float, float]:
    """p50, p99 and max seconds from a write to its visibility in both other regions.

    With ``rtt`` (seconds) every region reaches its peers through a delay
    line of half that each way, as regions far apart do.
    """
    names = ("eu", "us", "ap")
    servers = {name: RedisServer().start() for name in names}
    links = {
        (a, b): Link(servers[b].port, delay=rtt / 2) for a in names for b in names if a != b and rtt
    }
    workers = []
    try:
        for name in names:
            peers = ",".join(
                f"{p}={links[(name, p)].url if rtt else servers[p].url}" for p in names if p != name
            )
            env = {
                **os.environ,
                "CRDTREDIS_REGION": name,
                "CRDTREDIS_REDIS_URL": servers[name].url,
                "CRDTREDIS_PEERS": peers,
                "CRDTREDIS_SYNC_INTERVAL": str(interval),
            }
            workers.append(
                subprocess.Popen(
                    [CONSOLE_SCRIPT, "worker"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        regions = {name: Region(name, servers[name].url) for name in names}
        rng = random.Random(3)
        # Steady state: every region has finished its first passes (which open
        # each peer and read it from the start) before the first probe.
        _wait(
            lambda: all(
                stats.read(regions[n], p).last_success is not None
                for n in names
                for p in names
                if p != n
            ),
            "the first passes",
        )
        time.sleep(2 * interval)
        samples = []
        for probe in range(probes):
            origin = rng.choice(names)
            others = [regions[n].counter("probe") for n in names if n != origin]
            expected = probe + 1
            time.sleep(rng.uniform(0, interval))
            regions[origin].counter("probe").incr()
            written = time.perf_counter()
            while any(c.value() != expected for c in others):
                if time.perf_counter() - written > 30:
                    raise RuntimeError("a probe did not converge within 30 s")
                time.sleep(0.002)
            samples.append(time.perf_counter() - written)
        samples.sort()
        p50 = samples[len(samples) // 2]
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        return p50, p99, samples[-1]
    finally:
        for link in links.values():
            link.close()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=15)
        for server in servers.values():
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    quick = parser.parse_args().quick
    keys = 20_000 if quick else 100_000
    ours, reference = throughput(keys)
    print(
        f"sync throughput, {keys} changed counters, one pass: {ours:,.0f} keys/s "
        f"vs pipelined HGETALL {reference:,.0f} keys/s, ratio {ours / reference:.2f}x "
        "(target >= 0.5x and >= 50,000 keys/s)"
    )
    large = 100_000 if quick else 1_000_000
    big, small = idle_pass(1_000, large)
    print(
        f"idle sync pass: {small * 1e3:.2f} ms with 1,000 keys, {big * 1e3:.2f} ms with "
        f"{large:,} keys, ratio {big / small:.2f} (target ~1)"
    )
    p50, p99, worst = latency(20 if quick else 100)
    print(
        f"write-to-visible in both other regions, workers every 0.5s: p50 {p50 * 1e3:.0f} ms, "
        f"p99 {p99 * 1e3:.0f} ms, max {worst * 1e3:.0f} ms (target p99 < 1 s)"
    )


if __name__ == "__main__":
    main()
