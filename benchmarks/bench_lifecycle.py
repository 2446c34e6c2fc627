"""A month of daily page-view buckets: memory stays flat once expiry and collection run.

Run: ``.venv/bin/python -m benchmarks.bench_lifecycle [--quick]``. Three
regions on their own redis-servers count views per page per day, each
bucket kept 7 days (``incr --ttl``), and sync after every simulated day.
A simulated day lasts ``day_seconds`` of real time (Redis expires keys by
its own clock), so the month takes about 30 of them. Memory is each
Redis's ``used_memory`` above what it used empty, at noon of day 7 (a full
week of buckets, none expired yet) and of day 30 (still a week of buckets,
and whatever 23 expired days left behind).
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from dataclasses import dataclass

from crdtredis import Region
from crdtredis.embedded import RedisServer
from crdtredis.replication.collection import GRAVE_HORIZON

NAMES = ("eu", "us", "ap")
TTL_DAYS = 7
DAYS = 30


@dataclass
class Month:
    day7: list[int]
    day30: list[int]
    agree: bool
    live_keys: int


def _sync(regions: list[Region]) -> None:
    for _ in range(2):
        for region in regions:
            for report in region.sync():
                assert report.ok, report.summary()


def used_memory(region: Region) -> int:
    """``used_memory`` once Redis has reclaimed every key whose time has passed.

    Redis frees expired keys lazily and by sampling, so up to a day's buckets
    can stay in memory for a while after their time (as with any TTL in
    Redis); a SCAN touches every key and lets it reclaim them, so the figure
    shows what crdtredis itself keeps.
    """
    for _ in region.client.scan_iter(count=1000):
        pass
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
            # The default horizon (an hour) scaled like the day: graves stay an
            # hour of simulated time past their expiry.
            region.syncer.collector.horizon = GRAVE_HORIZON / 86_400 * day_seconds
        empty = [used_memory(r) for r in regions]
        start = time.monotonic()
        memory: dict[int, list[int]] = {}
        for day in range(1, DAYS + 1):
            for index, region in enumerate(regions):
                bucket = {f"views:{page}:day{day}": 1 + index for page in range(pages)}
                region.incr_many(bucket)
                for name in bucket:
                    region.expire(name, TTL_DAYS * day_seconds, only_new=True)
            _sync(regions)
            if day in (TTL_DAYS, DAYS):
                # Measured at noon: the bucket that expires at this day's start is
                # surely gone and this day's surely written, so a week is live.
                time.sleep(max(0.0, start + (day - 0.5) * day_seconds - time.monotonic()))
                _sync(regions)
                memory[day] = [used_memory(r) - e for r, e in zip(regions, empty, strict=True)]
            if day < DAYS:
                time.sleep(max(0.0, start + day * day_seconds - time.monotonic()))
        day7, day30 = memory[TTL_DAYS], memory[DAYS]
        # Agreement is read on the last four days' buckets: the older ones may
        # be expiring while the regions are read one after the other.
        for region in regions:
            region.sync()
        recent = tuple(f":day{day}" for day in range(DAYS - 3, DAYS + 1))
        views = [
            {n: r.counter(n).value() for n in sorted(r.names()) if n.endswith(recent)}
            for r in regions
        ]
        agree = all(v == views[0] for v in views) and len(views[0]) == 4 * pages
        return Month(day7, day30, agree, len(views[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    month = month_of_buckets(100 if args.quick else 500, 1.0 if args.quick else 2.0)
    for name, d7, d30 in zip(NAMES, month.day7, month.day30, strict=True):
        print(f"{name}: day 7 {d7:,} B, day 30 {d30:,} B ({d30 / d7:.2f}x)")
    print(f"regions agree: {month.agree}; {month.live_keys} live buckets at the end")


if __name__ == "__main__":
    main()
