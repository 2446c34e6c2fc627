"""Periodic sync: keep one job per shard group queued, at the interval.

The region's live workers (:mod:`crdtredis.workers.roster`) split every
peer's shards into as many groups, and each group has one job: a pass over
its shards from every peer at once. So one worker pulls its peers side by
side, and more workers pull one peer in parallel, each its share.

RQ's own periodic scheduling (``rq.cron``) counts intervals in whole seconds
and enqueues whether or not the last job is still waiting; sync wants half a
second and no pile-up. So each worker runs this small loop beside RQ: a job
per (region, group) is enqueued with a fixed id and ``unique=True`` (RQ
refuses a second one while the first exists) as soon as the interval since
its last start has passed, to the millisecond: a pass that starts late is
convergence lost. A peer failing in a row is left out of the jobs for the
interval doubled per failure (from the sync statistics, which all workers of
the region share).
"""

import logging
import threading
import time

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job, JobStatus

from crdtredis.config import RegionConfig
from crdtredis.errors import CRDTRedisError
from crdtredis.replication import Region, probe
from crdtredis.replication.leases import LEASE_SECONDS, ShardGroup, held_by
from crdtredis.workers import jobs, roster

log = logging.getLogger(__name__)

#: Seconds a single sync job may run before RQ stops it (a full resync of a
#: large region is the long case; every call to a peer has its own timeout).
JOB_TIMEOUT = 1800
#: Seconds between convergence probes written by each worker.
PROBE_INTERVAL = 1.0
#: Seconds after which a started job is taken as abandoned when its worker
#: is gone and none of its passes holds a lease.
ABANDONED_AFTER = 2 * LEASE_SECONDS
#: Shortest wait between ticks.
SHORTEST_PAUSE = 0.005
#: Wait before looking again at a due job that is still queued or running.
BUSY_PAUSE = 0.05
FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


class SyncScheduler:
    """Enqueues the region's sync jobs when due; ``worker`` is the name this worker beats under."""

    def __init__(self, config: RegionConfig, region: Region, queue: Queue, worker: str) -> None:
        self.config = config
        self.region = region
        self.queue = queue
        self.name = worker
        #: The name this worker beats under: its RQ loop's name of the moment.
        self.worker = worker
        self.next_probe = 0.0
        #: When the next job is due (the loop sleeps until then).
        self.next_due = 0.0
        #: Queued jobs seen out of the queue, and since when (monotonic).
        self._taken: dict[str, float] = {}

    def rename(self, restarts: int) -> str:
        """The RQ name for the worker's RQ loop after ``restarts`` restarts, beaten under
        from now on (see :func:`roster.rq_name`)."""
        old, self.worker = self.worker, roster.rq_name(self.name, restarts)
        if old != self.worker:
            try:
                roster.forget(self.region, old)
            except redis.exceptions.RedisError as exc:
                log.warning("could not take %s off the roster: %s", old, exc)
        return self.worker

    def tick(self) -> list[str]:
        """Beat, enqueue the group jobs that are due (and write a probe); return the
        groups enqueued."""
        wall = time.time()
        if wall >= self.next_probe:
            self.next_probe = wall + PROBE_INTERVAL
            try:
                probe.write_probe(self.region, wall)
            except (CRDTRedisError, ValueError) as exc:
                log.warning("could not write the convergence probe: %s", exc)
        # Starts and heartbeats are by the local Redis's clock, shared by every worker.
        now = roster.server_time(self.region)
        live = roster.beat(self.region, self.worker, now)
        count = roster.group_count(live, self.region.layout.shards)
        starts = self.region.client.hgetall(self.region.layout.sync_jobs_key)
        interval = self.config.sync_interval
        enqueued = []
        wait = interval  # until the next group is due, in seconds
        for group in (ShardGroup(index, count) for index in range(count)):
            due = float(starts.get(str(group), 0)) + interval
            if now < due:
                wait = min(wait, due - now)
            elif self._enqueue(group):
                enqueued.append(str(group))
            else:  # still queued or running: look again soon
                wait = min(wait, BUSY_PAUSE)
        self.next_due = time.time() + wait
        return enqueued

    def _enqueue(self, group: ShardGroup) -> bool:
        job_id = jobs.job_id(self.config.region, group)
        for _ in range(2):
            try:
                self.queue.enqueue_call(
                    jobs.sync_group,
                    args=(group.index, group.count),
                    job_id=job_id,
                    unique=True,
                    timeout=JOB_TIMEOUT,
                    result_ttl=0,
                    failure_ttl=3600,
                    description=f"sync {self.config.region} <- every peer, shards {group}",
                )
                return True
            except DuplicateJobError:
                if not self._clear_finished(job_id):
                    return False
        return False

    def _clear_finished(self, job_id: str) -> bool:
        """Drop a job that has ended, or was abandoned, so that a new one can go.

        Abandoned: started, but its worker died (SIGKILL, a lost machine). RQ
        would keep it for the job timeout; here a started job is given up
        once its worker has stopped beating and none of its passes holds a
        lease, two lease lifetimes after it started. A job marked queued but
        no longer in the queue (its worker died between taking and starting
        it) is given up two lease lifetimes after it was enqueued.
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
            and not roster.is_live(self.region, job.worker_name or "")
            and not held_by(self.region, [p.name for p in self.config.peers], job_id)
        ) or (status == JobStatus.QUEUED and self._taken_and_dropped(job_id))
        if status in FINISHED or abandoned:
            if abandoned:
                log.warning("sync job %s was abandoned by its worker; starting it again", job_id)
                IntermediateQueue(self.queue.key, self.queue.connection).remove(job_id)
            job.delete()
            self._taken.pop(job_id, None)
            return True
        return False

    def _taken_and_dropped(self, job_id: str) -> bool:
        """Whether a queued job has been out of the queue, taken by a worker but not
        started, for two lease lifetimes as this scheduler saw it (by its own clock:
        RQ stamps jobs with other processes' clocks). A live worker starts a job it
        took within milliseconds; one that died in between never does."""
        if job_id in self.queue.get_job_ids():
            self._taken.pop(job_id, None)
            return False
        first = self._taken.setdefault(job_id, time.monotonic())
        return time.monotonic() - first > ABANDONED_AFTER

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set, waking when the next job is due; errors are
        logged and the loop goes on."""
        longest = max(SHORTEST_PAUSE, min(self.config.sync_interval / 4, 1.0))
        while not stop.is_set():
            try:
                self.tick()
                pause = min(max(self.next_due - time.time(), SHORTEST_PAUSE), longest)
            except (redis.exceptions.RedisError, OSError) as exc:
                log.warning("sync scheduler: local Redis unavailable (%s); retrying", exc)
                pause = 1.0
            except Exception:  # noqa: BLE001 - keep scheduling whatever one tick hit
                log.exception("sync scheduler tick failed; retrying")
                pause = 1.0
            stop.wait(pause)
