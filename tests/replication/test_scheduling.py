"""The sync scheduler: one job per shard group, one group per live worker, replaced when
abandoned, never stopped by a bad probe."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus

from crdtredis.config import RegionConfig, load_config
from crdtredis.replication import probe
from crdtredis.replication.cursor import Cursor
from crdtredis.replication.leases import ShardGroup
from crdtredis.workers import jobs, roster
from crdtredis.workers.scheduler import ABANDONED_AFTER, SyncScheduler
from tests.regions import Regions
from tests.support import region_env

pytestmark = pytest.mark.integration


def eu_scheduling(regions: Regions) -> tuple[RegionConfig, Queue]:
    """Region eu's configuration (pulling from us) and its RQ queue."""
    config = load_config(env=region_env(regions, "eu", ("us",)))
    return config, Queue("crdtredis-eu", connection=redis.Redis.from_url(config.redis_url))


def test_a_probe_key_of_another_type_does_not_stop_scheduling(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.gset(probe.probe_name("eu")).add("squatter")
    config, queue = eu_scheduling(regions)
    assert SyncScheduler(config, eu, queue, "w1").tick() == ["0of1"]


def test_an_abandoned_started_job_is_replaced(regions: Regions) -> None:
    eu = regions.open("eu")
    config, queue = eu_scheduling(regions)
    scheduler = SyncScheduler(config, eu, queue, "w1")
    assert scheduler.tick() == ["0of1"]
    assert scheduler.tick() == []  # the queued job is not doubled
    job = Job.fetch(jobs.job_id("eu", ShardGroup(0, 1)), connection=queue.connection)
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now(UTC) - timedelta(minutes=10)
    job.worker_name = "w1"
    job.save()
    assert scheduler.tick() == []  # its worker still beats: it runs
    job.worker_name = "w0"
    job.save()
    assert scheduler.tick() == ["0of1"]  # the dead worker's job is given up
    us = regions.open("us")
    assert Cursor.load(eu, "us", us.identity)[1]  # nothing synced yet: still a full resync


def test_each_live_worker_gets_a_shard_group_of_its_own(regions: Regions) -> None:
    eu = regions.open("eu")
    config, queue = eu_scheduling(regions)
    roster.beat(eu, "w2")
    assert SyncScheduler(config, eu, queue, "w1").tick() == ["0of2", "1of2"]
    eu.client.zadd(eu.layout.workers_key, {"w2": time.time() - 2 * roster.LIVE_SECONDS})
    assert SyncScheduler(config, eu, queue, "w1").tick() == ["0of1"]  # w2 went silent


def test_a_job_taken_off_the_queue_by_a_worker_that_died_is_replaced(regions: Regions) -> None:
    eu = regions.open("eu")
    config, queue = eu_scheduling(regions)
    scheduler = SyncScheduler(config, eu, queue, "w1")
    assert scheduler.tick() == ["0of1"]
    job_id = jobs.job_id("eu", ShardGroup(0, 1))
    queue.connection.lrem(queue.key, 0, job_id)  # dequeued, never started
    job = Job.fetch(job_id, connection=queue.connection)
    assert job.get_status() == JobStatus.QUEUED
    assert scheduler.tick() == []  # just taken: it may start yet
    scheduler._taken[job_id] -= 2 * ABANDONED_AFTER  # as if seen taken that long ago
    assert scheduler.tick() == ["0of1"]


def test_jobs_are_due_by_the_redis_clock_whatever_the_workers_clock(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    eu = regions.open("eu")
    config, queue = eu_scheduling(regions)
    started = roster.server_time(eu) - 2 * config.sync_interval
    eu.client.hset(eu.layout.sync_jobs_key, "0of1", f"{started:.6f}")
    behind = time.time() - 3600
    monkeypatch.setattr("crdtredis.workers.scheduler.time.time", lambda: behind)
    assert SyncScheduler(config, eu, queue, "w1").tick() == ["0of1"]


def test_there_are_never_more_groups_than_shards(regions: Regions) -> None:
    eu = regions.open("eu", shards=2)
    config, queue = eu_scheduling(regions)
    for worker in ("w2", "w3", "w4"):
        roster.beat(eu, worker)
    assert SyncScheduler(config, eu, queue, "w1").tick() == ["0of2", "1of2"]
