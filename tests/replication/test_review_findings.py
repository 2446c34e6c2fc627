"""Regressions for failure modes found in review: none may lose an update or stop a peer's sync."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus

from crdtredis.config import RegionConfig, load_config
from crdtredis.crdt import Sequence
from crdtredis.errors import CRDTRedisError
from crdtredis.replication import probe, stats
from crdtredis.replication.cursor import Cursor
from crdtredis.workers import jobs
from crdtredis.workers.scheduler import SyncScheduler
from tests.regions import Regions

pytestmark = pytest.mark.integration


def eu_scheduling(regions: Regions) -> tuple[RegionConfig, Queue]:
    """Region eu's configuration (pulling from us) and its RQ queue."""
    config = load_config(
        env={
            "CRDTREDIS_REGION": "eu",
            "CRDTREDIS_REDIS_URL": regions.servers["eu"].url,
            "CRDTREDIS_PEERS": f"us={regions.servers['us'].url}",
        }
    )
    return config, Queue("crdtredis-eu", connection=redis.Redis.from_url(config.redis_url))


def test_a_local_merge_failure_keeps_the_cursor_before_the_keys(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": i + 1 for i in range(50)})
    real = type(eu).merge_peer_hashes

    def out_of_memory_once(self: Any, stored: Any) -> Any:
        monkeypatch.setattr(type(eu), "merge_peer_hashes", real)
        report = real(self, {})
        report.failed = {name: CRDTRedisError("OOM (simulated)") for name in stored}
        return report

    monkeypatch.setattr(type(eu), "merge_peer_hashes", out_of_memory_once)
    report = eu.sync_peer("us")
    assert not report.ok and "the cursor stays" in str(report.error)
    retry = eu.sync_peer("us")
    assert retry.ok and retry.keys_read == 50
    assert sum(eu.counter(f"c{i}").value() for i in range(50)) == sum(range(1, 51))


def test_a_key_of_another_redis_type_is_rejected_not_retried_forever(regions: Regions) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(20)})
    regions.servers["eu"].client().set(eu.layout.data_key("c7"), "a string")
    report = eu.sync_peer("us")
    assert report.ok and list(report.rejected) == ["c7"]
    assert "string key" in report.rejected["c7"]
    assert eu.sync_peer("us").keys_read == 0  # the cursor moved on
    regions.servers["us"].client().set(us.layout.data_key("s"), "x")
    us.client.zadd(us.layout.changes_key(us.layout.shard_of("s")), {"s": 10**6})
    us.client.hset(us.layout.head_key(us.layout.shard_of("s")), "v", 10**6)
    report = eu.sync_peer("us")
    assert report.ok and "cannot read it as a hash" in report.rejected["s"]


def test_a_cached_log_is_not_served_after_a_wipe(regions: Regions) -> None:
    cached = regions.open("eu")
    for item in "abc":
        cached.sequence("log").append(item)
    regions.servers["eu"].client().flushall()
    other = regions.open("eu")
    for item in "xyz":
        other.sequence("log").append(item)
    assert cached.sequence("log").to_list() == ["x", "y", "z"]
    cached.sequence("log").append("w")
    assert other.sequence("log").to_list() == ["x", "y", "z", "w"]


def test_a_probe_key_of_another_type_does_not_stop_scheduling(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.gset(probe.probe_name("eu")).add("squatter")
    config, queue = eu_scheduling(regions)
    assert SyncScheduler(config, eu, queue).tick() == ["us"]


@pytest.mark.parametrize(
    "value",
    [
        b'["1@us.x", "\\xff\\xfe"]',
        b'[null, "\\ud800"]',
        b"[null, " + b"[" * 3000 + b"]" * 3000 + b"]",
    ],
    ids=["not-utf8", "lone-surrogate", "deep-json"],
)
def test_an_undecodable_peer_key_is_rejected_alone(regions: Regions, value: bytes) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.sequence("bad").append("ok")
    us.counter("good").incr(2)
    raw = regions.servers["us"].client()
    raw.hset(
        us.layout.data_key("bad"),
        f".1@{us.replica}".encode(),
        value.replace(b"us.x", us.replica.encode()),
    )
    report = eu.sync_peer("us")
    assert report.ok and list(report.rejected) == ["bad"]
    assert eu.counter("good").value() == 2
    assert not eu.sequence("bad").exists()


def test_a_corrupt_peer_index_fails_the_pass_and_is_recorded(regions: Regions) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.counter("c").incr()
    raw = regions.servers["us"].client()
    raw.hset(us.layout.head_key(us.layout.shard_of("c")), "v", "lots")
    report = eu.sync_peer("us")
    assert not report.ok and "lots" in str(report.error)
    assert stats.read(eu, "us").failures == 1


def test_a_counter_with_thousands_of_slots_merges_and_travels_on(regions: Regions) -> None:
    eu, us, ap = regions.open("eu"), regions.open("us"), regions.open("ap", ("eu",))
    state = {"type": "pncounter", "p": {f"r{i}.x": i + 1 for i in range(5000)}, "n": {}}
    assert us.counter("wide").merge(state)
    assert eu.sync_peer("us").keys_changed == 1
    assert ap.sync_peer("eu").keys_changed == 1
    assert ap.counter("wide").value() == sum(range(1, 5001))


def test_sequence_counters_stay_exact_in_lua() -> None:
    state = {"type": "sequence", "ops": [[[2**53, "us.x"], None, "v"]], "removed": []}
    with pytest.raises(ValueError, match="outside"):
        Sequence.from_dict(state, "eu")


def test_a_lost_identity_key_does_not_lock_writers_out(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.counter("c").incr()
    raw = regions.servers["eu"].client()
    raw.delete(eu.layout.identity_key)  # the identity alone is lost; the heads stay
    fresh = regions.open("eu")
    assert fresh.counter("c").incr() == 2
    assert eu.counter("c").incr() == 3  # the old process adopts the new identity
    assert eu.replica == fresh.replica


def test_a_shard_that_lost_its_data_gets_a_new_incarnation(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.counter("c").incr(5)
    old = eu.replica
    raw = regions.servers["eu"].client()
    shard = eu.layout.shard_of("c")
    raw.delete(eu.layout.head_key(shard), eu.layout.data_key("c"), eu.layout.changes_key(shard))
    assert eu.counter("c").incr() == 1
    assert eu.replica != old  # never counts on in the slot peers hold at 5
    eu.counter("c").merge({"type": "pncounter", "p": {old: 5}, "n": {}})
    assert eu.counter("c").value() == 6


def test_probes_written_at_once_raise_the_slot_to_the_time_not_the_sum(regions: Regions) -> None:
    eu = regions.open("eu")
    now = time.time()
    for _ in range(3):
        probe.write_probe(eu, now)
    slots = eu.gcounter(probe.probe_name("eu")).to_dict()["slots"]
    assert slots == {eu.replica: int(now * 1000)}


def test_an_abandoned_started_job_is_replaced(regions: Regions) -> None:
    eu = regions.open("eu")
    config, queue = eu_scheduling(regions)
    scheduler = SyncScheduler(config, eu, queue)
    assert scheduler.tick() == ["us"]
    job = Job.fetch(jobs.job_id("eu", "us"), connection=queue.connection)
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now(UTC) - timedelta(minutes=10)
    job.save()
    assert scheduler._enqueue("us")  # the dead worker's job is given up
    assert Cursor.load(eu, "us", eu.identity)[1]  # nothing synced yet: still a full resync


def test_a_stale_process_cannot_hand_a_head_back_to_a_renewed_incarnation(
    regions: Regions,
) -> None:
    stale, current = regions.open("eu"), regions.open("eu")
    stale.counter("x").incr()
    shard = stale.layout.shard_of("x")
    head = stale.layout.head_key(shard)
    current.guard.renew("a test")
    assert current.counter("x").incr() == 2  # takes the head over: a newer epoch
    assert stale.client.hget(head, "inc") == current.incarnation
    stale.guard.take_over(shard)  # what a process that read the identity just before would do
    assert stale.client.hget(head, "inc") == current.incarnation
    assert stale.client.hget(stale.layout.identity_key, f"shard:{shard}") == "1"
    assert stale.counter("x").incr() == 3  # the stale process adopts the current identity
    assert stale.replica == current.replica


def test_a_new_identity_outranks_heads_left_from_before(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.counter("x").incr()
    eu.guard.renew("a test")  # epoch 2
    eu.counter("x").incr()
    raw = regions.servers["eu"].client()
    raw.delete(eu.layout.identity_key)
    again = regions.open("eu")
    assert again.identity.epoch == 3
    assert again.counter("x").incr() == 3
