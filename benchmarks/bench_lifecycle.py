"""A month of daily page-view buckets: memory stays flat once expiry and collection run.

Run: ``.venv/bin/python -m benchmarks.bench_lifecycle [--quick]``. Three
regions on their own redis-servers count views per page per day, each
bucket kept 7 days (``incr --ttl``), and sync after every simulated day.
A simulated day lasts ``day_seconds`` of real time (Redis expires keys by
its own clock), so the month takes about 30 of them. Memory is each
Redis's ``used_memory`` above what it used empty, at the end of day 7 (a
full week of buckets, none expired yet) and of day 30 (still a week of
buckets, and whatever 23 expired days left behind).
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from dataclasses import dataclass

from crdtredis import Region
from crdtredis.embedded import RedisServer

NAMES = ("eu", "us", "ap")
TTL_DAYS = 7
DAYS = 30


@dataclass
class Month:
    day7: list[int]
    day30: list[int]
    agree: bool
    live_keys: int


def used_memory(region: Region) -> int:
    return int(region.client.info("memory")["used_memory"])


def month_of_buckets(pages: int, day_seconds: float) -> Month:
    """Run the month; memory per region at day 7 and day 30, and whether regions agree."""
    with ExitStack() as stack:
        servers = {n: stack.enter_context(RedisServer()) for n in NAMES}
        regions = [
            Region(n, servers[n].url, peers={p: servers[p].url for p in NAMES if p != n})
            for n in NAMES
        ]
        for region in regions:
            region.syncer.collector.every = 0  # collect after every pass
            region.syncer.collector.horizon = day_seconds  # graves kept a day past expiry
        empty = [used_memory(r) for r in regions]
        start = time.monotonic()
        day7: list[int] = []
        for day in range(1, DAYS + 1):
            for index, region in enumerate(regions):
                bucket = {f"views:{page}:day{day}": 1 + index for page in range(pages)}
                region.incr_many(bucket)
                for name in bucket:
                    region.expire(name, TTL_DAYS * day_seconds, only_new=True)
            for _ in range(2):
                for region in regions:
                    for report in region.sync():
                        assert report.ok, report.summary()
            # Measured at the same point of day 7 and day 30: a week of buckets live.
            if day == TTL_DAYS:
                day7 = [used_memory(r) - e for r, e in zip(regions, empty, strict=True)]
            if day == DAYS:
                break
            time.sleep(max(0.0, start + day * day_seconds - time.monotonic()))
        day30 = [used_memory(r) - e for r, e in zip(regions, empty, strict=True)]
        # Agreement leaves out the oldest live day, whose buckets expire about
        # now (the regions are read one after the other).
        for region in regions:
            region.sync()
        oldest = f":day{DAYS - TTL_DAYS + 1}"
        views = [
            {n: r.counter(n).value() for n in sorted(r.names()) if not n.endswith(oldest)}
            for r in regions
        ]
        return Month(day7, day30, all(v == views[0] for v in views), len(views[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    month = month_of_buckets(100 if args.quick else 500, 0.5 if args.quick else 1.0)
    for name, d7, d30 in zip(NAMES, month.day7, month.day30, strict=True):
        print(f"{name}: day 7 {d7:,} B, day 30 {d30:,} B ({d30 / d7:.2f}x)")
    print(f"regions agree: {month.agree}; {month.live_keys} live buckets at the end")


if __name__ == "__main__":
    main()
