"""RQ job entry points: thin calls into the library."""

from __future__ import annotations

import time
from typing import Any

from crdtredis.replication import stats
from crdtredis.replication.leases import ShardGroup
from crdtredis.workers import roster, runtime

#: Seconds after which a job's passes take no new page: a peer with much to
#: catch up goes on in the next job, and the other peers' passes, which wait
#: for the job to end, come every interval or so meanwhile.
PASS_SECONDS = 2.0


def sync_group(index: int, count: int) -> dict[str, Any]:
    """One pass of this worker's region over shard group ``index`` of ``count``, from
    every peer at once, leaving out the peers backing off after failures; returns
    the reports.

    Never raises for a peer that is down or sends bad data: that is in the
    reports and the sync statistics, and the next job tries again.
    """
    region, config = runtime.region(), runtime.config()
    group = ShardGroup(index, count)
    started = roster.server_time(region)  # the clock the scheduler counts the interval by
    region.client.hset(region.layout.sync_jobs_key, str(group), f"{started:.6f}")
    now = time.time()  # the clock the sync statistics are written by
    due = []
    for peer in config.peers:
        seen = stats.read(region, peer.name)
        wait = stats.backoff(seen, config.sync_interval, config.max_backoff)
        if not seen.failures or seen.last_attempt is None or now >= seen.last_attempt + wait:
            due.append(peer.name)
    reports = region.syncer.sync(
        group, due, owner=job_id(config.region, group), budget=PASS_SECONDS
    )
    return {"group": str(group), "reports": [report.to_dict() for report in reports]}


def sync_peer(peer: str) -> dict[str, Any]:
    """One pass of every shard from ``peer`` (jobs queued by earlier versions)."""
    return runtime.region().sync_peer(peer).to_dict()


def job_id(region: str, group: ShardGroup) -> str:
    """The one id a (region, shard group) sync job has: at most one is pending at a time."""
    return f"crdtredis-sync-{region}-{group}"
