"""Regions pull each other as a user that may only read crdtredis keys, and the
password of that user never lands in a report, a status, a key or a metric."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from crdtredis import Region
from crdtredis.config import PeerConfig
from crdtredis.metrics.collector import RegionCollector
from crdtredis.replication import stats
from crdtredis.replication import survey as survey_module
from crdtredis.replication.access import peer_acl
from crdtredis.replication.inspection import inspect_key, region_status
from crdtredis.replication.peer import Peer
from crdtredis.replication.survey import survey
from tests.regions import NAMES, Regions, converge
from tests.support import CONSOLE_SCRIPT, region_env, wait_for

pytestmark = pytest.mark.integration

PASSWORD = "pw-7f3a9c-only-for-peers"


def _reader_regions(regions: Regions) -> list[Region]:
    """eu, us and ap, each pulling its peers as the read-only peer user."""
    for server in regions.servers.values():
        server.client().execute_command(  # type: ignore[no-untyped-call]
            "ACL", "SETUSER", *peer_acl("crdt-peer", PASSWORD)
        )
    return [
        Region(
            name,
            regions.servers[name].url,
            peers={
                peer: regions.servers[peer].url.replace("//", f"//crdt-peer:{PASSWORD}@", 1)
                for peer in NAMES
                if peer != name
            },
        )
        for name in NAMES
    ]


def _everything_stored(regions: Regions) -> str:
    """Every key and value of every region's Redis, RQ's included, as one text."""
    seen = []
    for server in regions.servers.values():
        client = server.client()
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            value: Any = None
            if kind == "string":
                value = client.get(key)
            elif kind == "hash":
                value = client.hgetall(key)
            elif kind == "set":
                value = client.smembers(key)
            elif kind == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            seen.append(f"{key} {value!r}")
    return "\n".join(seen)


def test_regions_sync_inspect_and_export_as_a_read_only_peer_user(
    regions: Regions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    live = _reader_regions(regions)
    eu, us, ap = live
    for i, region in enumerate(live):
        region.counter("likes").incr(i + 1)
        region.orset("tags").add(region.name)
        region.sequence("log").append(f"from {region.name}")
    us.counter("gone").incr()
    ap.counter("brief").incr()
    ap.expire("brief", 60)
    converge(live)
    eu.delete("gone")
    converge(live)
    assert [r.counter("likes").value() for r in live] == [6, 6, 6]
    assert all(r.orset("tags").members() == set(NAMES) for r in live)
    assert [r.counter("gone").value() for r in live] == [0, 0, 0]
    assert all(peer.scripted for r in live for peer in r.peers)  # surveyed by script
    reports = [report.to_dict() for r in live for report in r.sync()]
    assert all(report["ok"] for report in reports)

    status = region_status(eu)
    assert [p["state"] for p in status["peers"]] == ["ok", "ok"]
    inspected = inspect_key(eu, "likes")
    assert all(p["reachable"] and "error" not in p for p in inspected["peers"])
    registry = CollectorRegistry()
    registry.register(RegionCollector(eu, eu.peers))
    metrics = generate_latest(registry).decode()
    assert 'crdtredis_peer_up{peer="us"} 1.0' in metrics
    assert 'crdtredis_peer_up{peer="ap"} 1.0' in metrics

    written = json.dumps([reports, status, inspected], default=str) + metrics + caplog.text
    assert PASSWORD not in written
    assert PASSWORD not in _everything_stored(regions)


def test_a_peer_user_may_not_write(regions: Regions) -> None:
    _reader_regions(regions)
    url = regions.servers["us"].url.replace("//", f"//crdt-peer:{PASSWORD}@", 1)
    client = redis.Redis.from_url(url)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.hset("crdt#region", "inc", "x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.get("someone-else's-key")


def test_a_refused_password_is_reported_without_the_password(
    regions: Regions, caplog: pytest.LogCaptureFixture
) -> None:
    _reader_regions(regions)
    regions.open("us").counter("c").incr()
    wrong = "pw-wrong-0b1d2e"
    url = regions.servers["us"].url.replace("//", f"//crdt-peer:{wrong}@", 1)
    eu = Region("eu", regions.servers["eu"].url, peers={"us": url})
    with caplog.at_level("DEBUG"):
        report = eu.sync_peer("us")
        status = region_status(eu)
    assert report.error is not None and "password" in report.error.lower(), report.error
    written = json.dumps([report.to_dict(), status]) + caplog.text
    assert wrong not in written
    assert wrong not in _everything_stored(regions)


def test_a_key_the_peer_user_may_not_read_fails_the_pass_and_is_pulled_once_allowed(
    regions: Regions,
) -> None:
    server = regions.servers["us"]
    admin = server.client()
    narrow = [*peer_acl("crdt-peer", PASSWORD)]
    narrow.remove("~crdt:*")  # the objects themselves are out of reach
    admin.execute_command("ACL", "SETUSER", *narrow)  # type: ignore[no-untyped-call]
    us = regions.open("us")
    us.counter("warm").incr()
    url = server.url.replace("//", f"//crdt-peer:{PASSWORD}@", 1)
    eu = Region("eu", regions.servers["eu"].url, peers={"us": url})
    first = eu.sync_peer("us")
    us.counter("c").incr(5)
    second = eu.sync_peer("us")
    assert first.error is not None and second.error is not None, second.summary()
    assert not first.rejected and not second.rejected  # not taken for bad data
    admin.execute_command("ACL", "SETUSER", *peer_acl("crdt-peer", PASSWORD))  # type: ignore[no-untyped-call]
    assert eu.sync_peer("us").ok
    assert (eu.counter("warm").value(), eu.counter("c").value()) == (1, 5)


def test_the_peer_user_keeps_large_objects_out_of_the_survey_script(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(survey_module, "INLINE_FIELDS", 10)
    _reader_regions(regions)
    us = regions.open("us")
    for element in range(20):
        us.orset("big").add(f"e{element}")
    url = regions.servers["us"].url.replace("//", f"//crdt-peer:{PASSWORD}@", 1)
    peer = Peer(PeerConfig("us", url))
    found = survey(peer, "eu", [0] * us.layout.shards, 1000, range(us.layout.shards))
    assert found is not None and found.page is not None and peer.scripted
    assert found.objects is None  # HLEN counted the fields: too many to read in the script


def test_worker_processes_keep_peer_passwords_out_of_logs_jobs_and_keys(
    regions: Regions, tmp_path: Path
) -> None:
    """Real ``crdtredis worker`` processes with passwords in their peer URLs (one of
    them wrong, so errors are logged too): nothing they write holds a password, RQ's
    job data (compressed pickles) included."""
    _reader_regions(regions)
    wrong = "pw-wrong-5c6d7e"
    peers = {
        "us": regions.servers["us"].url.replace("//", f"//crdt-peer:{PASSWORD}@", 1),
        "ap": regions.servers["ap"].url.replace("//", f"//crdt-peer:{wrong}@", 1),
    }
    env = {
        **os.environ,
        **region_env(regions, "eu", peer_timeout=0.5, max_backoff=1),
        "CRDTREDIS_PEERS": ",".join(f"{name}={url}" for name, url in peers.items()),
    }
    regions.open("us").counter("likes").incr(3)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen([CONSOLE_SCRIPT, "worker"], env=env, stdout=out, stderr=out)
        try:
            eu = regions.open("eu")
            wait_for(lambda: eu.counter("likes").value() == 3, message="eu pulled us")
            wait_for(lambda: stats.read(eu, "ap").failures >= 2, message="ap refused twice")
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
    written = log.read_text()
    assert "peer ap (redis://crdt-peer:***@" in written  # the failure was logged, redacted
    stored = _everything_stored(regions) + _job_payloads(regions)
    for secret in (PASSWORD, wrong):
        assert secret not in written
        assert secret not in stored


def _job_payloads(regions: Regions) -> str:
    """RQ's job data and results, decompressed: pickles would show a password as is."""
    found = []
    for server in regions.servers.values():
        client = server.client()
        for key in client.scan_iter("rq:*", count=1000):
            if client.type(key) != b"hash":
                continue
            raw: dict[bytes, bytes] = client.hgetall(key)  # type: ignore[assignment]
            for value in raw.values():
                try:
                    found.append(zlib.decompress(value).decode("latin-1"))
                except zlib.error:
                    found.append(value.decode("latin-1"))
    assert found, "RQ wrote no job"
    return "\n".join(found)
