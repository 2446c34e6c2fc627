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
from crdtredis.store import RegionStore


def rate(run: Callable[[int], None], ops: int) -> float:
    start = time.perf_counter()
    run(ops)
    return ops / (time.perf_counter() - start)


def interleaved(
    ours: Callable[[int], None], reference: Callable[[int], None], ops: int, rounds: int
) -> tuple[float, float, float]:
    """Median ops/s of each side and median per-round ratio, over alternating rounds.

    Rounds are short and alternate (which side goes first alternates too), so
    a burst of load on the shared machine hits both sides of a round alike.
    """
    mine, theirs, ratios = [], [], []
    for i in range(rounds):
        if i % 2:
            a, b = rate(ours, ops), rate(reference, ops)
        else:
            b, a = rate(reference, ops), rate(ours, ops)
        mine.append(a)
        theirs.append(b)
        ratios.append(a / b)
    return statistics.median(mine), statistics.median(theirs), statistics.median(ratios)


def single_increments(
    region: RegionStore, plain: redis.Redis, ops: int, rounds: int
) -> tuple[float, float, float]:
    counter = region.counter("bench:single")

    def ours(n: int) -> None:
        for _ in range(n):
            counter.incr()

    def reference(n: int) -> None:
        for _ in range(n):
            plain.hincrby("plain:single", "eu", 1)

    return interleaved(ours, reference, ops, rounds)


def script_floor(plain: redis.Redis, ops: int, rounds: int) -> tuple[float, float, float]:
    """The cheapest possible script write (one HINCRBY in Lua) against HINCRBY itself."""
    sha = plain.script_load("return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)")

    def tiny(n: int) -> None:
        for _ in range(n):
            plain.evalsha(sha, 1, "plain:floor", "eu")

    def reference(n: int) -> None:
        for _ in range(n):
            plain.hincrby("plain:single", "eu", 1)

    return interleaved(tiny, reference, ops, rounds)


def batched_increments(
    region: RegionStore, plain: redis.Redis, batch: int, batches: int, rounds: int
) -> tuple[float, float, float]:
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


def memory_per_counter(server: RedisServer, counters: int) -> tuple[float, float, tuple[int, int]]:
    """Bytes of ``used_memory`` per counter with three regions' slots, vs plain INCR."""
    plain = server.client()
    plain.flushall()
    region = RegionStore("eu", server.url)
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
    hash_usage = plain.memory_usage(region.layout.data_key(names[1])) or 0
    plain.flushall()
    base = plain.info("memory")["used_memory"]
    pipe = plain.pipeline(transaction=False)
    for name in names:
        pipe.incr(name)
    pipe.execute()
    reference = (plain.info("memory")["used_memory"] - base) / counters
    return ours, reference, (hash_usage, plain.memory_usage(names[1]) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    quick = parser.parse_args().quick
    single_ops, rounds = (300, 10) if quick else (500, 40)
    batch, batches = (100, 5) if quick else (100, 10)
    counters = 10_000 if quick else 100_000
    with RedisServer() as server:
        region = RegionStore("eu", server.url)
        plain = server.client()
        version = plain.info("server")["redis_version"]
        print(f"redis-server {version}, one client, interleaved rounds: {rounds}")
        ours, ref, ratio = single_increments(region, plain, single_ops, rounds)
        print(
            f"counter.incr():     {ours:9.0f}/s  vs HINCRBY {ref:9.0f}/s  "
            f"ratio {ratio:.2f}x (target >= 0.9x)"
        )
        ours, ref, ratio = script_floor(plain, single_ops, rounds)
        print(
            f"floor: a one-line EVALSHA HINCRBY {ours:9.0f}/s  vs HINCRBY {ref:9.0f}/s  "
            f"ratio {ratio:.2f}x (no script write can beat this)"
        )
        ours, ref, ratio = batched_increments(region, plain, batch, batches, rounds)
        print(
            f"incr_many({batch}):     {ours:9.0f}/s  vs pipelined HINCRBY {ref:9.0f}/s  "
            f"ratio {ratio:.2f}x (target >= 0.6x)"
        )
        ours_bytes, ref_bytes, sample = memory_per_counter(server, counters)
        print(
            f"memory per counter ({counters} counters, 3 regions' slots, index included): "
            f"{ours_bytes:.1f} B vs plain INCR {ref_bytes:.1f} B, "
            f"ratio {ours_bytes / ref_bytes:.2f}x"
        )
        print(f"MEMORY USAGE of one counter hash: {sample[0]} B, of one INCR key: {sample[1]} B")


if __name__ == "__main__":
    main()
