"""Redis-backed types against plain redis-py on the same server, in one run.

Run: ``.venv/bin/python -m benchmarks.bench_store [--quick]``. Starts its own
redis-server. Every figure is a ratio against a reference measured in the same
run, interleaved, so machine noise hits both sides alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from random import sample

import redis

from crdtredis.embedded import RedisServer, find_binary, stock_redis7
from crdtredis.replication import Region
from crdtredis.store import RegionStore
from crdtredis.store.identity import REPLICA_ALPHABET, REPLICA_ID_LENGTH


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


def memory_binaries() -> list[str | None]:
    """The redis-servers memory is measured on: the bundled one (None) and a stock Redis 7."""
    stock = stock_redis7()
    return [None] if stock is None or stock == find_binary() else [None, stock]


def settled_memory(client: redis.Redis) -> int:
    """``used_memory`` once Redis has finished rehashing (two equal readings in a row)."""
    last = -1
    while True:
        used = int(client.info("memory")["used_memory"])
        if used == last:
            return used
        last = used
        time.sleep(0.3)


@contextmanager
def three_regions(binary: str | None = None) -> Iterator[tuple[list[Region], redis.Redis]]:
    """eu, us and ap on redis-servers of their own (``binary``), each the others' peer,
    and a plain client of eu's server; the servers are stopped afterwards."""
    servers = [RedisServer(binary=binary).start() for _ in range(3)]
    try:
        urls = dict(zip(("eu", "us", "ap"), (s.url for s in servers), strict=True))
        yield (
            [
                Region(name, url, peers={p: u for p, u in urls.items() if p != name})
                for name, url in urls.items()
            ],
            servers[0].client(),
        )
    finally:
        for server in servers:
            server.stop()


def memory_per_counter(counters: int, binary: str | None = None) -> MemoryFigures:
    """Bytes of ``used_memory`` each counter adds to one of three synced regions, vs INCR.

    Each region increments every counter (three slots each), the regions
    sync until every peer has merged everything and each trims its change
    index. That is done twice, for two halves of the counters, and the cost
    of a counter is what the second half added, everything included
    (objects, indexes, heads): the slope. What does not grow with the
    counters (loaded scripts, connections, identity and registry, cursors)
    is reported apart, as ``fixed``. ``INCR`` keys of the same names on the
    same server are measured the same way.
    """
    with three_regions(binary) as (regions, plain):
        version = str(plain.info("server")["redis_version"])
        empty = settled_memory(plain)
        names = [f"counter:{i:07d}" for i in range(counters)]
        half = counters // 2
        first = _synced_counters(regions, names[:half])
        ours = (_synced_counters(regions, names[half:]) - first) / (counters - half)
        eu = regions[0]
        assert eu.counter(names[-1]).value() == 3
        indexed = sum(eu.client.zcard(eu.layout.changes_key(s)) for s in range(eu.layout.shards))
        hash_usage = plain.memory_usage(eu.layout.data_key(names[1])) or 0
        breakdown = _breakdown(eu, names, counters)
        fixed = first - empty - ours * half
        plain.flushall()
        first = _incr_keys(plain, names[:half])
        reference = (_incr_keys(plain, names[half:]) - first) / (counters - half)
        incr_usage = plain.memory_usage(names[1]) or 0
    return MemoryFigures(
        version, ours, reference, hash_usage, incr_usage, indexed, fixed, breakdown
    )


def _breakdown(region: Region, names: list[str], counters: int) -> dict[str, float]:
    """``MEMORY USAGE`` per counter: objects (a sample's mean), indexes and heads (all,
    shared out), identity with the replica registry (shared out)."""
    client, layout = region.client, region.layout
    sample = names[:: max(1, len(names) // 200)]
    objects = [client.memory_usage(layout.data_key(n)) or 0 for n in sample]
    shards = range(layout.shards)
    return {
        "object": sum(objects) / len(objects),
        "index": sum(client.memory_usage(layout.changes_key(s)) or 0 for s in shards) / counters,
        "heads": sum(client.memory_usage(layout.head_key(s)) or 0 for s in shards) / counters,
        "registry": (client.memory_usage(layout.identity_key) or 0) / counters,
    }


def memory_with_slots(
    slots: int, counters: int, binary: str | None = None
) -> tuple[str, float, float, int]:
    """Bytes each counter holding ``slots`` replicas' slots adds, vs an INCR key (slopes).

    One region merges states of ``slots - 1`` other replicas into counters it
    also counts in; the change index is then emptied, as every peer having
    pulled leaves it. Returns the server version, ours, the reference and
    ``MEMORY USAGE`` of one counter.
    """
    others = {"".join(sample(REPLICA_ALPHABET, REPLICA_ID_LENGTH)) for _ in range(slots * 2)}
    state = {"type": "pncounter", "p": dict.fromkeys(sorted(others)[: slots - 1], 7), "n": {}}
    with RedisServer(binary=binary) as server:
        plain = server.client()
        version = str(plain.info("server")["redis_version"])
        region = RegionStore("eu", server.url)
        names = [f"counter:{i:07d}" for i in range(counters)]

        def add(chunk: list[str]) -> int:
            for start in range(0, len(chunk), 500):
                part = chunk[start : start + 500]
                region.incr_many(dict.fromkeys(part, 1))
                region.merge_many(dict.fromkeys(part, state))
            plain.delete(*(region.layout.changes_key(s) for s in range(region.layout.shards)))
            return settled_memory(plain)

        half = counters // 2
        first = add(names[:half])
        ours = (add(names[half:]) - first) / (counters - half)
        usage = plain.memory_usage(region.layout.data_key(names[1])) or 0
        plain.flushall()
        first = _incr_keys(plain, names[:half])
        reference = (_incr_keys(plain, names[half:]) - first) / (counters - half)
    return version, ours, reference, usage


def _synced_counters(regions: list[Region], names: list[str]) -> int:
    """Count ``names`` once in every region, sync and trim; the first region's memory then."""
    for region in regions:
        for start in range(0, len(names), 1000):
            region.incr_many(dict.fromkeys(names[start : start + 1000], 1))
    for _ in range(3):
        for region in regions:
            for report in region.sync():
                assert report.ok, report.summary()
    for region in regions:
        while region.syncer.collector.collect():
            pass
    return settled_memory(regions[0].client)


def _incr_keys(client: redis.Redis, names: list[str]) -> int:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.incr(name)
    pipe.execute()
    return settled_memory(client)


@dataclass(frozen=True)
class MemoryFigures:
    redis_version: str
    ours: float
    reference: float
    hash_usage: int
    incr_usage: int
    #: Change index entries left in eu after the sync (0: every peer pulled everything).
    indexed: int
    #: Bytes that do not grow with the counters (scripts, connections, identity, cursors).
    fixed: float
    #: MEMORY USAGE per counter: object, index, heads, registry (see ``_breakdown``).
    breakdown: dict[str, float]


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
    for binary in memory_binaries():
        m = memory_per_counter(counters, binary)
        print(
            f"redis-server {m.redis_version}: memory per counter ({counters} counters, "
            f"3 regions' slots, everything included): {m.ours:.1f} B vs plain INCR "
            f"{m.reference:.1f} B, ratio {m.ours / m.reference:.2f}x (target <= 2x)"
        )
        print(
            f"MEMORY USAGE of one counter hash: {m.hash_usage} B, of one INCR key: {m.incr_usage} B"
        )


if __name__ == "__main__":
    main()
