"""Periodic sync: keep one job per peer queued, at the interval, backing off on failure.

RQ's own periodic scheduling (``rq.cron``) counts intervals in whole seconds
and enqueues whether or not the last job is still waiting; sync wants half a
second and no pile-up. So each worker runs this small loop beside RQ: a job
per (region, peer) is enqueued with a fixed id and ``unique=True`` (RQ refuses
a second one while the first exists), only once the peer's last attempt is
older than the interval, doubled for each failure in a row (from the sync
statistics in Redis, which all workers of the region share).
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from crdtredis.config import RegionConfig
from crdtredis.errors import CRDTRedisError
from crdtredis.replication import Region, probe, stats
from crdtredis.replication.lock import LEASE_SECONDS
from crdtredis.workers import jobs

log = logging.getLogger(__name__)

#: Seconds a single sync job may run before RQ stops it (a full resync of a
#: large region is the long case; every call to a peer has its own timeout).
JOB_TIMEOUT = 1800
#: Seconds between convergence probes written by each worker.
PROBE_INTERVAL = 1.0
#: Seconds after which a started job whose pass holds no lock is taken as
#: abandoned: a pass takes its lease at once and keeps it alive, so a job
#: started this long ago with no lease held has a dead worker.
ABANDONED_AFTER = 2 * LEASE_SECONDS
FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


class SyncScheduler:
    def __init__(self, config: RegionConfig, region: Region, queue: Queue) -> None:
        self.config = config
        self.region = region
        self.queue = queue
        self.next_probe = 0.0

    def due(self, peer: str, now: float) -> bool:
        seen = stats.read(self.region, peer)
        if seen.last_attempt is None:
            return True
        wait = stats.backoff(seen, self.config.sync_interval, self.config.max_backoff)
        return now >= seen.last_attempt + wait

    def tick(self) -> list[str]:
        """Enqueue the sync jobs that are due (and write a probe); return the peers enqueued."""
        enqueued = []
        now = time.time()
        if now >= self.next_probe:
            self.next_probe = now + PROBE_INTERVAL
            try:
                probe.write_probe(self.region, now)
            except (CRDTRedisError, ValueError) as exc:
                log.warning("could not write the convergence probe: %s", exc)
        for peer in self.config.peers:
            if self.due(peer.name, now) and self._enqueue(peer.name):
                enqueued.append(peer.name)
        return enqueued

    def _enqueue(self, peer: str) -> bool:
        job_id = jobs.job_id(self.config.region, peer)
        for _ in range(2):
            try:
                self.queue.enqueue_call(
                    jobs.sync_peer,
                    args=(peer,),
                    job_id=job_id,
                    unique=True,
                    timeout=JOB_TIMEOUT,
                    result_ttl=0,
                    failure_ttl=3600,
                    description=f"sync {self.config.region} <- {peer}",
                )
                return True
            except DuplicateJobError:
                if not self._clear_finished(job_id, peer):
                    return False
        return False

    def _clear_finished(self, job_id: str, peer: str) -> bool:
        """Drop a job that has ended, or was abandoned, so that a new one can go.

        Abandoned: started, but its worker died (SIGKILL, a lost machine). RQ
        would keep it for the job timeout; here a started job whose pass holds
        no lease, two lease lifetimes after it started, is given up.
        """
        try:
            job = Job.fetch(job_id, connection=self.queue.connection)
        except NoSuchJobError:
            return True
        status = job.get_status(refresh=False)
        abandoned = (
            status == JobStatus.STARTED
            and job.started_at is not None
            and time.time() - job.started_at.timestamp() > ABANDONED_AFTER
            and not self.region.client.exists(self.region.layout.lock_key(peer))
        )
        if status in FINISHED or abandoned:
            if abandoned:
                log.warning("sync job %s was abandoned by its worker; starting it again", job_id)
            job.delete()
            return True
        return False

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set; errors are logged and the loop goes on."""
        pause = max(0.02, min(self.config.sync_interval / 4, 1.0))
        while not stop.is_set():
            try:
                self.tick()
            except (redis.exceptions.RedisError, OSError) as exc:
                log.warning("sync scheduler: local Redis unavailable (%s); retrying", exc)
                stop.wait(1.0)
            except Exception:  # noqa: BLE001 - keep scheduling whatever one tick hit
                log.exception("sync scheduler tick failed; retrying")
                stop.wait(1.0)
            stop.wait(pause)
