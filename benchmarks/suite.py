"""``make bench``: every performance case, against its reference, in one table.

Each case starts its own redis-servers, measures ours and a reference in the
same run (interleaved where they are repeated), and reports the ratio against
a target. ``--quick`` shrinks the sizes to finish in about a minute on two
cores. The table is printed, and written as Markdown and JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    bench_crdt,
    bench_lifecycle,
    bench_pageviews,
    bench_sequence,
    bench_store,
    bench_sync,
)
from crdtredis.embedded import RedisServer, find_binary
from crdtredis.store import RegionStore
from crdtredis.store.scripts import script


@dataclass
class Row:
    case: str
    sizes: str
    ours: float | None
    reference: float | None
    unit: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


def median_of(repeats: int, run: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
    """Element-wise median of ``repeats`` runs."""
    results = [run() for _ in range(repeats)]
    return tuple(statistics.median(column) for column in zip(*results, strict=True))


def single_client(quick: bool) -> Row:
    ops, rounds = (300, 10) if quick else (500, 40)
    with RedisServer() as server:
        ours, ref, ratio = bench_store.single_increments(
            RegionStore("eu", server.url), server.client(), ops, rounds
        )
        floor = bench_store.script_floor(server.client(), ops, rounds)[2]
    return Row(
        "local increment, one client",
        f"{rounds} rounds x {ops} incr",
        ours,
        ref,
        "ops/s",
        ratio,
        ">= 0.9x",
        ratio >= 0.9,
        f"a one-line EVALSHA HINCRBY reaches {floor:.2f}x",
    )


def fifty_clients(quick: bool) -> Row:
    binary = shutil.which("redis-benchmark")
    requests = 30_000 if quick else 200_000
    sizes = f"{requests} requests, 50 connections (redis-benchmark)"
    if binary is None:
        return Row(
            "local increment, 50 clients",
            sizes,
            None,
            None,
            "ops/s",
            None,
            ">= 0.83x",
            None,
            "skipped: no redis-benchmark (Debian's redis-tools; make bench installs it as root)",
        )
    with RedisServer() as server:
        region = RegionStore("eu", server.url)
        counter = region.counter("bench:c50")
        counter.incr()
        keys = counter.keys
        args = [region.incarnation, "pn", region.replica, "0", "bench:c50", "1"]

        def run(*command: str) -> float:
            out = subprocess.run(
                [binary, "-p", str(server.port), "-c", "50", "-n", str(requests), "-q", *command],
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            ).stdout
            found = re.findall(r"([\d.]+) requests per second", out)
            return float(found[-1])

        def pair() -> tuple[float, float]:
            return (
                run("EVALSHA", script("counter_add").sha, "3", *keys, *args),
                run("HINCRBY", "plain:c50", "eu", "1"),
            )

        ours, ref = median_of(3, pair)
        expected = counter.value()
    ratio = ours / ref
    return Row(
        "local increment, 50 clients",
        sizes,
        ours,
        ref,
        "ops/s",
        ratio,
        ">= 0.83x",
        ratio >= 0.83,
        f"our script through redis-benchmark; counter reached {expected}",
    )


def batched(quick: bool) -> Row:
    batch, batches, rounds = (100, 5, 10) if quick else (100, 10, 40)
    with RedisServer() as server:
        ours, ref, ratio = bench_store.batched_increments(
            RegionStore("eu", server.url), server.client(), batch, batches, rounds
        )
    return Row(
        "batched increments",
        f"batches of {batch}, {rounds} rounds",
        ours,
        ref,
        "ops/s",
        ratio,
        ">= 0.6x",
        ratio >= 0.6,
    )


def memory(quick: bool) -> list[Row]:
    counters = 20_000 if quick else 100_000
    rows = []
    for binary in bench_store.memory_binaries():
        m = bench_store.memory_per_counter(counters, binary)
        ratio = m.ours / m.reference
        parts = ", ".join(f"{part} {size:.2f} B" for part, size in m.breakdown.items())
        rows.append(
            Row(
                f"memory per counter, 3 regions' slots, Redis {m.redis_version}",
                f"{counters} counters, synced",
                m.ours,
                m.reference,
                "bytes",
                ratio,
                "<= 2x",
                ratio <= 2.0,
                f"used_memory each counter adds (slope over the second half), on "
                f"{binary or find_binary()}; MEMORY USAGE per counter: {parts} "
                f"(INCR key {m.incr_usage} B); change index entries left: {m.indexed}; "
                f"fixed cost {m.fixed / 1e6:.2f} MB (scripts, connections, cursors)",
            )
        )
        for slots, many in ((10, 4_000 if quick else 20_000), (100, 1_000 if quick else 5_000)):
            version, ours, ref, usage = bench_store.memory_with_slots(slots, many, binary)
            rows.append(
                Row(
                    f"memory per counter, {slots} replicas' slots, Redis {version}",
                    f"{many} counters",
                    ours,
                    ref,
                    "bytes",
                    ours / ref,
                    "report",
                    None,
                    f"MEMORY USAGE of one counter {usage} B; index trimmed",
                )
            )
    if len(bench_store.memory_binaries()) == 1:
        rows[0].note += "; no stock Redis 7 here (make bench unpacks Debian's)"
    return rows


def sync_throughput(quick: bool) -> Row:
    keys = 20_000 if quick else 100_000
    ours, ref = median_of(1 if quick else 3, lambda: bench_sync.throughput(keys))
    ratio = ours / ref
    return Row(
        "sync throughput",
        f"{keys} changed counters, one worker",
        ours,
        ref,
        "keys/s",
        ratio,
        ">= 0.5x and >= 50,000/s",
        ratio >= 0.5 and ours >= 50_000,
        "reference: pipelined HGETALL of the same keys from the peer",
    )


def sync_workers(quick: bool) -> list[Row]:
    """Sync throughput with 1, 2 and 4 workers of one region pulling one peer, near and far."""
    keys = 20_000 if quick else 100_000
    figures: dict[tuple[int, float], float] = {}
    for rtt in (0.0, 0.08):
        for workers in (1, 2, 4):
            figures[(workers, rtt)] = bench_sync.workers_throughput(keys, workers, rtt)
    base = figures[(1, 0.0)]
    rows = []
    for (workers, rtt), rate in figures.items():
        distance = f"{rtt * 1e3:.0f} ms RTT (delay line)" if rtt else "loopback"
        if workers == 1 and rtt:
            target, met, reference = ">= 0.5x of loopback", rate >= 0.5 * base, base
        elif workers == 1:
            target, met, reference = "report", None, base
        else:
            reference = figures[(1, rtt)]
            target, met = "> 1 worker (2 cores)", rate > reference
        rows.append(
            Row(
                f"sync throughput, {workers} worker{'s' if workers > 1 else ''}, {distance}",
                f"{keys:,} changed counters, one peer",
                rate,
                reference,
                "keys/s",
                rate / reference,
                target,
                met,
                "reference: 1 worker on loopback" if workers == 1 else "reference: 1 worker",
            )
        )
    return rows


def idle_sync(quick: bool) -> Row:
    large = 100_000 if quick else 1_000_000
    big, small = bench_sync.idle_pass(1_000, large)
    ratio = big / small
    return Row(
        "idle sync pass",
        f"{large:,} keys vs 1,000 keys",
        big * 1e3,
        small * 1e3,
        "ms",
        ratio,
        "~1x",
        0.5 <= ratio <= 2.0,
    )


def convergence(quick: bool) -> list[Row]:
    probes = 20 if quick else 100
    rows = []
    # The targets for p99: 1 s on loopback, 650 ms at 80 ms RTT, 900 ms at 200.
    for rtt, target in ((0.0, 1.0), (0.08, 0.65), (0.2, 0.9)):
        p50, p99, worst = bench_sync.latency(probes, rtt=rtt)
        distance = f", {rtt * 1e3:.0f} ms RTT (delay lines)" if rtt else ""
        rows.append(
            Row(
                f"convergence time{distance}",
                f"{probes} probes, 3 regions, a worker each at 0.5 s",
                p99 * 1e3,
                500.0,
                "ms (p99)",
                p99 / 0.5,
                f"p99 < {target * 1e3:.0f} ms",
                p99 < target,
                f"p50 {p50 * 1e3:.0f} ms, max {worst * 1e3:.0f} ms; reference: the interval",
            )
        )
    return rows


def month_of_buckets(quick: bool) -> Row:
    pages = 100 if quick else 500
    # A simulated day must hold its work (3 regions' increments, TTLs, two
    # rounds of passes) on a busy 2-core machine, or buckets expire early.
    month = bench_lifecycle.month_of_buckets(pages, 1.0 if quick else 2.0)
    ratio = max(d30 / d7 for d7, d30 in zip(month.day7, month.day30, strict=True))
    return Row(
        "a month of daily page-view buckets",
        f"{pages} pages x 30 days, 7-day TTL, 3 regions",
        float(max(month.day30)),
        float(max(month.day7)),
        "bytes",
        ratio,
        "day 30 <= 1.1x day 7, regions agree",
        ratio <= 1.1 and month.agree,
        f"used_memory above empty, largest region; reference: day 7; regions agree: {month.agree}",
    )


def pure_merge(quick: bool) -> Row:
    rows = dict(bench_crdt.pncounter_cases(1_000))
    ours = rows["PNCounter.merge, 1000 replicas"][1]
    ref = rows["seed PosNegCounter.merge, 1000 replicas (reference)"][1]
    return Row(
        "pure merge",
        "PNCounter, 1,000 replicas",
        ours * 1e3,
        ref * 1e3,
        "ms",
        ours / ref,
        "faster (< 1x)",
        ours < ref,
        "reference: the seed's list-based PosNegCounter",
    )


def sequence(quick: bool) -> list[Row]:
    appends, edits = (20_000, 2_000) if quick else (100_000, 10_000)
    repeats = 1 if quick else 3
    mine = bench_sequence.best(lambda: bench_sequence.ours(appends, edits), repeats)
    theirs = bench_sequence.best(lambda: bench_sequence.pycrdt_side(appends, edits), repeats)
    assert mine is not None
    rows = []
    for phase, label in (
        ("edit", f"{appends:,} appends + {edits:,} random edits"),
        ("merge", f"merge of two replicas diverged by {edits // 2:,} edits each"),
    ):
        ref = None if theirs is None else theirs[phase] * 1e3
        ratio = None if ref is None else mine[phase] * 1e3 / ref
        rows.append(
            Row(
                f"sequence {phase}",
                label,
                mine[phase] * 1e3,
                ref,
                "ms",
                ratio,
                "report",
                None,
                "reference: pycrdt (Yjs engine, Rust)"
                if theirs
                else "pycrdt not installed (pip install -e '.[bench]')",
            )
        )
    return rows


def pageviews_middleware(quick: bool) -> list[Row]:
    """Views/s through the ASGI middleware, coalescing against write-through, 50 clients."""
    requests = 3_000 if quick else 20_000
    rows = []
    for rtt, target in ((0.0, 1.5), (0.002, 3.0)):
        coalescing, write_through = bench_pageviews.middleware(requests, rtt=rtt)
        ratio = coalescing / write_through
        rows.append(
            Row(
                "page views through the middleware"
                + (f", local Redis {rtt * 1000:.0f} ms away" if rtt else ", loopback"),
                f"{requests} requests, 50 clients",
                coalescing,
                write_through,
                "views/s",
                ratio,
                f">= {target}x",
                ratio >= target,
                "ours: coalescing (flush every 0.1 s); reference: write-through (a round trip "
                "per view, awaited); from the first request to the last view written",
            )
        )
    return rows


def map_top(quick: bool) -> Row:
    """top(10) of a counter map against ZREVRANGE 0 9 on a plain sorted set of the same size."""
    fields, reads = (20_000, 200) if quick else (100_000, 1_000)
    ours, reference = bench_pageviews.top_latency(fields, reads)
    ratio = ours / reference
    return Row(
        "counter map top(10)",
        f"{fields:,} fields",
        ours,
        reference,
        "us/call",
        ratio,
        "<= 2x",
        ratio <= 2,
        "reference: ZREVRANGE 0 9 WITHSCORES of a plain sorted set (no CRDT)",
    )


def map_memory(quick: bool) -> list[Row]:
    """Memory per counter map field (3 regions' slots and the index) vs a hash + zset."""
    fields = 4_000 if quick else 40_000
    rows = []
    for binary in bench_store.memory_binaries():
        version, ours, reference = bench_pageviews.map_memory_per_field(fields, binary)
        ratio = ours / reference
        rows.append(
            Row(
                f"memory per counter map field, 3 regions' slots, Redis {version}",
                f"{fields:,} fields of one map, synced",
                ours,
                reference,
                "bytes",
                ratio,
                "report",
                None,
                "reference: a field of a plain hash (HINCRBY) plus a member of a sorted set "
                "(ZINCRBY), what counts with a top-N cost in Redis; ours includes the derived "
                "index (slopes over the second half of the fields)",
            )
        )
    return rows


CASES: list[Callable[[bool], Row | list[Row]]] = [
    single_client,
    fifty_clients,
    batched,
    memory,
    sync_throughput,
    sync_workers,
    idle_sync,
    convergence,
    month_of_buckets,
    pure_merge,
    sequence,
    pageviews_middleware,
    map_top,
    map_memory,
]


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def markdown(rows: list[Row], header: str) -> str:
    lines = [
        header,
        "",
        "| case | sizes | ours | reference | unit | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: "-"}[r.met]
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        lines.append(
            f"| {r.case} | {r.sizes} | {fmt(r.ours)} | {fmt(r.reference)} | {r.unit} | "
            f"{ratio} | {r.target} | {met} |"
        )
    notes = [f"- {r.case}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def main() -> None:
    # SIGTERM unwinds like Ctrl-C, so every case stops the servers and workers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--out", default="bench-results/bench", help="write OUT.md and OUT.json")
    parser.add_argument("--only", help="run only cases whose function name contains this")
    options = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = []
    for case in CASES:
        if options.only and options.only not in case.__name__:
            continue
        result = case(options.quick)
        for row in result if isinstance(result, list) else [result]:
            rows.append(row)
            print(
                f"{row.case}: ours {fmt(row.ours)} vs {fmt(row.reference)} {row.unit}", flush=True
            )
    with RedisServer() as server:
        redis_version = server.client().info("server")["redis_version"]
    header = (
        f"crdtredis benchmarks, {datetime.now(UTC):%Y-%m-%d}, "
        f"{'quick' if options.quick else 'full'} run in {time.monotonic() - started:.0f} s; "
        f"{platform.machine()}, {_cpus()} cores, Python {platform.python_version()}, "
        f"redis-server {redis_version}"
    )
    table = markdown(rows, header)
    print()
    print(table)
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(
        json.dumps({"header": header, "rows": [asdict(r) for r in rows]}, indent=2) + "\n"
    )
    print(f"written: {out.with_suffix('.md')} and {out.with_suffix('.json')}")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
