"""The sync scheduler: one job per peer, replaced when abandoned, never stopped by a bad probe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus

from crdtredis.config import RegionConfig, load_config
from crdtredis.replication import probe
from crdtredis.replication.cursor import Cursor
from crdtredis.workers import jobs
from crdtredis.workers.scheduler import SyncScheduler
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
    assert SyncScheduler(config, eu, queue).tick() == ["us"]


def test_an_abandoned_started_job_is_replaced(regions: Regions) -> None:
    eu = regions.open("eu")
    config, queue = eu_scheduling(regions)
    scheduler = SyncScheduler(config, eu, queue)
    assert scheduler.tick() == ["us"]
    assert scheduler.tick() == []  # the queued job is not doubled
    job = Job.fetch(jobs.job_id("eu", "us"), connection=queue.connection)
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now(UTC) - timedelta(minutes=10)
    job.save()
    assert scheduler.tick() == ["us"]  # the dead worker's job is given up
    us = regions.open("us")
    assert Cursor.load(eu, "us", us.identity)[1]  # nothing synced yet: still a full resync
