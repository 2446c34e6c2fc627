"""Sync, the exporter and the CLI run on clients the caller hands in, fakeredis included.

Regions, peers and CLI settings take a client (as rq takes ``connection=``)
instead of building one from a URL, so these run with no server at all.
"""

from __future__ import annotations

from typing import Any

import fakeredis
from click.testing import CliRunner
from prometheus_client.core import CollectorRegistry
from prometheus_client.exposition import generate_latest

from crdtredis.cli import cli
from crdtredis.cli.app import Settings
from crdtredis.config import PeerConfig
from crdtredis.metrics.collector import RegionCollector
from crdtredis.replication import Peer, Region


def fake() -> Any:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def pair() -> tuple[Region, Region]:
    """eu and us on two fakeredis servers, each pulling from the other."""
    eu_client, us_client = fake(), fake()
    eu = Region("eu", eu_client, peers=[Peer(PeerConfig("us", "redis://us"), client=us_client)])
    us = Region("us", us_client, peers=[Peer(PeerConfig("eu", "redis://eu"), client=eu_client)])
    return eu, us


def test_regions_on_handed_in_clients_converge() -> None:
    eu, us = pair()
    eu.counter("likes").incr(3)
    us.counter("likes").decr(1)
    us.orset("tags").add("new")
    for region in (eu, us):
        (report,) = region.sync()
        assert report.ok and report.keys_changed >= 1, report.summary()
    assert eu.export("likes") == us.export("likes")
    assert eu.counter("likes").value() == 2
    assert eu.orset("tags").members() == {"new"}


def test_the_exporter_reads_a_handed_in_peer() -> None:
    eu, us = pair()
    eu.counter("likes").incr(1)  # the exporter reports the keys this region holds
    us.counter("likes").incr(4)
    metrics = CollectorRegistry()
    metrics.register(RegionCollector(eu, eu.peers, keys=["*"]))
    text = generate_latest(metrics).decode()
    assert 'crdtredis_peer_up{peer="us"} 1.0' in text
    assert 'crdtredis_counter_value{key="likes"} 1.0' in text
    assert 'crdtredis_replica_divergence{key="likes"} 4.0' in text


def test_cli_commands_run_on_a_region_opened_by_the_caller() -> None:
    eu, us = pair()
    us.counter("likes").incr(2)
    runner = CliRunner()
    result = runner.invoke(cli, ["incr", "likes", "--by", "5"], obj=Settings.opened(eu))
    assert result.exit_code == 0 and result.output.strip() == "5"
    inspected = runner.invoke(cli, ["inspect", "likes", "--json"], obj=Settings.opened(eu))
    assert inspected.exit_code == 0
    assert '"missing_here": 2' in inspected.output
