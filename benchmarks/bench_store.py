"""Redis-backed types against plain redis-py on the same server, in one run.

Run: ``.venv/bin/python -m benchmarks.bench_store [--quick]``. Starts its own
redis-server. Every figure is a ratio against a reference measured in the same
run, interleaved, so machine noise hits both sides alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import redis

from crdtredis.crdt import PNCounter
from crdtredis.embedded import RedisServer
from crdtredis.store import Region


def rate(run: Callable[[int], None], ops: int) -> float:
    start = time.perf_counter()
    run(ops)
    return ops / (time.perf_counter() - start)


def interleaved(
    ours: Callable[[int], None], reference: Callable[[int], None], ops: int, rounds: int
) -> tuple[float, float]:
    """Median ops/s of each side over ``rounds`` alternating runs."""
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(rate(ours, ops))
        theirs.append(rate(reference, ops))
    return statistics.median(mine), statistics.median(theirs)


def single_increments(
    region: Region, plain: redis.Redis, ops: int, rounds: int
) -> tuple[float, float]:
    counter = region.counter("bench:single")

    def ours(n: int) -> None:
        for _ in range(n):
            counter.incr()

    def reference(n: int) -> None:
        for _ in range(n):
            plain.hincrby("plain:single", "eu", 1)

    return interleaved(ours, reference, ops, rounds)


def batched_increments(
    region: Region, plain: redis.Redis, batch: int, batches: int, rounds: int
) -> tuple[float, float]:
    names = [f"bench:batch:{i}" for i in range(batch)]

    def ours(n: int) -> None:
        for _ in range(n // batch):
            region.incr_many(dict.fromkeys(names, 1))

    def reference(n: int) -> None:
        for _ in range(n // batch):
            pipe = plain.pipeline(transaction=False)
            for name in names:
                pipe.hincrby(f"plain:{name}", "eu", 1)
            pipe.execute()

    return interleaved(ours, reference, batch * batches, rounds)


def memory_per_counter(server: RedisServer, counters: int) -> tuple[float, float]:
    """Bytes of ``used_memory`` per counter with three regions' slots, vs plain INCR."""
    plain = server.client()
    plain.flushall()
    region = Region("eu", server.url)
    peers = [PNCounter("us.aaaaaaaa"), PNCounter("ap.bbbbbbbb")]
    for peer in peers:
        peer.incr(7)
    names = [f"counter:{i:07d}" for i in range(counters)]
    base = plain.info("memory")["used_memory"]
    for start in range(0, counters, 1000):
        chunk = names[start : start + 1000]
        region.incr_many(dict.fromkeys(chunk, 1))
        for peer in peers:
            region.merge_many(dict.fromkeys(chunk, peer.to_dict()))
    ours = (plain.info("memory")["used_memory"] - base) / counters
    plain.flushall()
    base = plain.info("memory")["used_memory"]
    pipe = plain.pipeline(transaction=False)
    for name in names:
        pipe.incr(name)
    pipe.execute()
    reference = (plain.info("memory")["used_memory"] - base) / counters
    return ours, reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    quick = parser.parse_args().quick
    single_ops, rounds = (2_000, 3) if quick else (20_000, 5)
    batch, batches = (100, 20) if quick else (100, 200)
    counters = 10_000 if quick else 100_000
    with RedisServer() as server:
        region = Region("eu", server.url)
        plain = server.client()
        version = plain.info("server")["redis_version"]
        print(f"redis-server {version}, one client, interleaved rounds: {rounds}")
        ours, ref = single_increments(region, plain, single_ops, rounds)
        print(
            f"counter.incr():     {ours:9.0f}/s  vs HINCRBY {ref:9.0f}/s  "
            f"ratio {ours / ref:.2f}x (target >= 0.9x)"
        )
        ours, ref = batched_increments(region, plain, batch, batches, rounds)
        print(
            f"incr_many({batch}):     {ours:9.0f}/s  vs pipelined HINCRBY {ref:9.0f}/s  "
            f"ratio {ours / ref:.2f}x (target >= 0.6x)"
        )
        ours, ref = memory_per_counter(server, counters)
        print(
            f"memory per counter ({counters} counters, 3 regions' slots, index included): "
            f"{ours:.1f} B vs plain INCR {ref:.1f} B, ratio {ours / ref:.2f}x"
        )
        sample = Region("eu", server.url).layout.data_key("counter:0000001")
        print(
            f"MEMORY USAGE of one counter hash: {plain.memory_usage(sample)} B, "
            f"of one INCR key: {plain.memory_usage('counter:0000001')} B"
        )


if __name__ == "__main__":
    main()
