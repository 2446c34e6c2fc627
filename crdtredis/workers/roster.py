"""The sync workers of a region that are alive now, counted by their own heartbeats.

Every ``crdtredis worker`` beats from its scheduler thread, which keeps
going while a pass runs, so a worker is live while it beats and dead
:data:`LIVE_SECONDS` after it stopped (SIGKILL, SIGSTOP, a lost machine).
RQ's own worker registry keeps a worker killed mid-job for the job's whole
timeout, too long to share shards by.
"""

from __future__ import annotations

from crdtredis.replication.leases import LEASE_SECONDS
from crdtredis.store.region import RegionStore

#: Seconds after its last heartbeat that a worker counts as gone.
LIVE_SECONDS = LEASE_SECONDS


def server_time(region: RegionStore) -> float:
    """The local Redis's clock, in seconds: the one clock every worker of the region
    shares, whatever their machines' clocks say."""
    seconds, micros = region.client.time()
    return float(seconds) + float(micros) / 1e6


def beat(region: RegionStore, worker: str, now: float | None = None) -> int:
    """Say ``worker`` is alive, forget the workers gone silent; return how many are live.

    ``now`` is :func:`server_time` (read here when not given).
    """
    now = server_time(region) if now is None else now
    key = region.layout.workers_key
    pipe = region.client.pipeline(transaction=False)
    pipe.zadd(key, {worker: now})
    pipe.zremrangebyscore(key, "-inf", now - LIVE_SECONDS)
    pipe.zcard(key)
    pipe.expire(key, int(10 * LIVE_SECONDS))
    return int(pipe.execute()[2])


def rq_name(worker: str, restarts: int) -> str:
    """The name RQ knows ``worker`` by after ``restarts`` restarts of its RQ loop.

    A loop that ended on an error may leave its RQ registration behind (a
    full Redis refused the cleanup), and RQ refuses a second live worker of
    one name: so each restart registers under a name of its own, and beats
    under it, so that a job the old loop left started counts as abandoned.
    """
    return worker if not restarts else f"{worker}~{restarts}"


def is_live(region: RegionStore, worker: str, now: float | None = None) -> bool:
    """Whether ``worker`` (its RQ name of the moment, see :func:`rq_name`) still beats."""
    now = server_time(region) if now is None else now
    seen = region.client.zscore(region.layout.workers_key, worker)
    return seen is not None and float(seen) > now - LIVE_SECONDS


def group_count(live: int, shards: int) -> int:
    """Shard groups for ``live`` workers: one each, so each pulls its share of every peer,
    but no more than ``shards`` (the region's own count, which its peers share as a
    rule): a group past it would hold no shard."""
    return max(1, min(live, shards))


def forget(region: RegionStore, worker: str) -> None:
    """Take ``worker`` off the roster at once (it stopped, or beats under a new name)."""
    region.client.zrem(region.layout.workers_key, worker)
