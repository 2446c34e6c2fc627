"""Convergence probes: how long an update takes to reach this region from each origin.

Every worker writes, about once a second, the current time (milliseconds)
into its region's slot of the grow-only counter ``crdtredis:probe:<region>``
(a grow-only counter whose slot is a timestamp: merge by max keeps the
latest probe). The probe travels like any other update, directly or through
other regions. When a sync pass here changes another region's probe, the
time since it was written is one sample of convergence time from that origin,
kept as a histogram in ``crdt#convergence:<origin>``.

The samples compare two regions' clocks, so they are as good as the clocks'
synchronisation (NTP keeps that to milliseconds, far below the figures of
interest).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from crdtredis.replication.stats import Histogram
from crdtredis.store.region import RegionStore

PROBE_PREFIX = "crdtredis:probe:"

#: Upper bounds (seconds) of the convergence-time histogram buckets.
CONVERGENCE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def probe_name(region: str) -> str:
    return f"{PROBE_PREFIX}{region}"


def is_probe(name: str) -> bool:
    return name.startswith(PROBE_PREFIX)


def origins(region: RegionStore) -> list[str]:
    """The regions this region has convergence samples from (peers or further away)."""
    return sorted(region.client.smembers(region.layout.convergence_origins_key))


def write_probe(region: RegionStore, now: float | None = None) -> None:
    """Raise this region's probe slot to the current time in milliseconds.

    A merge, not an increment: the join keeps the larger value in one script,
    so workers writing probes at the same moment cannot add up their deltas.
    """
    now_ms = int((time.time() if now is None else now) * 1000)
    state = {"type": "gcounter", "slots": {region.replica: now_ms}}
    region.merge_many({probe_name(region.name): state}).raise_for(probe_name(region.name))


def observe(region: RegionStore, changed: Iterable[str], now: float | None = None) -> int:
    """Record a convergence sample for each other region's probe among ``changed``."""
    now = time.time() if now is None else now
    origins = [n[len(PROBE_PREFIX) :] for n in changed if is_probe(n)]
    origins = [o for o in origins if o != region.name]
    if not origins:
        return 0
    pipe = region.client.pipeline(transaction=False)
    for origin in origins:
        written_ms = max(region.gcounter(probe_name(origin)).to_dict()["slots"].values(), default=0)
        delay = max(0.0, now - written_ms / 1000)
        key = region.layout.convergence_key(origin)
        Histogram.observe(pipe, key, "convergence", delay, CONVERGENCE_BUCKETS)
        pipe.sadd(region.layout.convergence_origins_key, origin)
    pipe.execute()
    return len(origins)


def convergence(region: RegionStore, origin: str) -> Histogram:
    fields = region.client.hgetall(region.layout.convergence_key(origin))
    return Histogram.read(fields, "convergence", CONVERGENCE_BUCKETS)
