"""Sync statistics kept in the local Redis, so every process can read them.

One hash per peer (``crdt#sync:<peer>``), written after each pass. Totals only
grow (they become Prometheus counters); durations also go into fixed
histogram buckets so the exporter can serve a histogram without keeping any
state of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crdtredis.store.region import RegionStore

if TYPE_CHECKING:
    from crdtredis.replication.sync import PeerReport

#: Upper bounds (seconds) of the pass-duration histogram buckets.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    """A Prometheus-style histogram kept in fields of a Redis hash: cumulative buckets."""

    buckets: list[tuple[float, int]]
    total: float
    count: int

    @staticmethod
    def observe(pipe: Any, key: str, name: str, value: float, bounds: tuple[float, ...]) -> None:
        """Queue the commands adding ``value`` to histogram ``name`` in hash ``key``."""
        for bound in bounds:
            if value <= bound:
                pipe.hincrby(key, f"{name}:bucket:{bound}", 1)
        pipe.hincrbyfloat(key, f"{name}:sum", value)
        pipe.hincrby(key, f"{name}:count", 1)

    @classmethod
    def read(cls, fields: dict[str, str], name: str, bounds: tuple[float, ...]) -> Histogram:
        return cls(
            buckets=[(b, int(fields.get(f"{name}:bucket:{b}", 0))) for b in bounds],
            total=float(fields.get(f"{name}:sum", 0.0)),
            count=int(fields.get(f"{name}:count", 0)),
        )


TOTALS = (
    "passes_total",
    "errors_total",
    "keys_read_total",
    "keys_merged_total",
    "keys_rejected_total",
    "full_resyncs_total",
)


@dataclass
class PeerStats:
    """What the last passes from one peer did, as read back from Redis."""

    peer: str
    last_attempt: float | None
    last_success: float | None
    last_duration: float | None
    last_error: str | None
    last_error_time: float | None
    failures: int
    peer_version: int
    cursor_version: int
    lag: int
    totals: dict[str, int]
    durations: Histogram

    def to_dict(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "last_attempt": self.last_attempt,
            "last_success": self.last_success,
            "last_duration_seconds": self.last_duration,
            "last_error": self.last_error,
            "last_error_time": self.last_error_time,
            "consecutive_failures": self.failures,
            "peer_version": self.peer_version,
            "cursor_version": self.cursor_version,
            "lag_changes": self.lag,
            **self.totals,
        }


def record(region: RegionStore, report: PeerReport) -> None:
    """Add one pass's outcome to the peer's statistics (one pipeline)."""
    key = region.layout.sync_stats_key(report.peer)
    now = time.time()
    pipe = region.client.pipeline(transaction=False)
    # When the pass began: the scheduler counts the interval from there, so
    # passes over a slow link come every interval, not every interval plus
    # a pass.
    pipe.hset(key, "last_attempt", f"{now - report.duration:.6f}")
    pipe.hincrby(key, "passes_total", 1)
    if report.skipped:
        pipe.execute()
        return
    errors = len(report.rejected) + len(report.shard_problems) + (0 if report.error is None else 1)
    pipe.hincrby(key, "errors_total", errors)
    pipe.hincrby(key, "keys_read_total", report.keys_read)
    pipe.hincrby(key, "keys_merged_total", report.keys_changed)
    pipe.hincrby(key, "keys_rejected_total", len(report.rejected))
    pipe.hincrby(key, "full_resyncs_total", int(report.full_resync))
    if report.error is None:
        pipe.hset(
            key,
            mapping={
                "last_success": f"{now:.6f}",
                "last_duration": f"{report.duration:.6f}",
                "failures": 0,
                "peer_version": report.peer_version,
                "cursor_version": report.cursor_version,
                "lag": report.lag,
            },
        )
        Histogram.observe(pipe, key, "duration", report.duration, DURATION_BUCKETS)
    else:
        pipe.hincrby(key, "failures", 1)
    last_error = (
        report.error
        or next(iter(report.rejected.values()), None)
        or next(iter(report.shard_problems.values()), None)
    )
    if last_error is not None:
        pipe.hset(key, mapping={"last_error": last_error, "last_error_time": f"{now:.6f}"})
    pipe.execute()


def read(region: RegionStore, peer: str) -> PeerStats:
    fields: dict[str, str] = region.client.hgetall(region.layout.sync_stats_key(peer))

    def number(name: str) -> float | None:
        return float(fields[name]) if name in fields else None

    return PeerStats(
        peer=peer,
        last_attempt=number("last_attempt"),
        last_success=number("last_success"),
        last_duration=number("last_duration"),
        last_error=fields.get("last_error"),
        last_error_time=number("last_error_time"),
        failures=int(fields.get("failures", 0)),
        peer_version=int(fields.get("peer_version", 0)),
        cursor_version=int(fields.get("cursor_version", 0)),
        lag=int(fields.get("lag", 0)),
        totals={name: int(fields.get(name, 0)) for name in TOTALS},
        durations=Histogram.read(fields, "duration", DURATION_BUCKETS),
    )


def backoff(stats: PeerStats, interval: float, max_backoff: float) -> float:
    """Seconds to wait after the last attempt: the interval, doubled per failure in a row."""
    return float(min(interval * 2 ** min(stats.failures, 16), max(max_backoff, interval)))
