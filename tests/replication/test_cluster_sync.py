"""Sync between a region on a Redis Cluster and a region on a standalone Redis, both ways."""

from __future__ import annotations

import pytest

from crdtredis import Region
from crdtredis.config import PeerConfig
from crdtredis.embedded import RedisClusterServers
from crdtredis.replication import Peer
from crdtredis.replication.access import peer_acl
from tests.conftest import ServerFactory

pytestmark = pytest.mark.integration


def test_a_cluster_region_and_a_standalone_region_converge(
    shared_cluster: RedisClusterServers, redis_servers: ServerFactory
) -> None:
    shared_cluster.flush()
    us_server = redis_servers()
    eu = Region("eu", shared_cluster.client(decode_responses=True), peers={"us": us_server.url})
    us = Region("us", us_server.url, peers=[PeerConfig("eu", shared_cluster.url, cluster=True)])
    for i in range(40):
        eu.counter(f"page:{i}").incr(i + 1)
        us.counter(f"page:{i}").decr()
    eu.orset("tags").add("from-eu")
    us.orset("tags").add("from-us")
    eu.sequence("log").append("eu")
    us.sequence("log").append("us")
    for _ in range(2):
        for region in (eu, us):
            for report in region.sync():
                assert report.ok, report.summary()
    for region in (eu, us):
        assert sum(region.counter(f"page:{i}").value() for i in range(40)) == sum(range(1, 41)) - 40
        assert region.orset("tags").members() == {"from-eu", "from-us"}
    assert eu.sequence("log").to_list() == us.sequence("log").to_list()
    assert eu.sync_peer("us").keys_read == 0 and us.sync_peer("eu").keys_read == 0


def test_peers_never_retry_standalone_or_cluster(shared_cluster: RedisClusterServers) -> None:
    standalone = Peer(PeerConfig("us", "redis://127.0.0.1:1/0"))
    assert standalone.client.get_retry().get_retries() == 0
    cluster = Peer(PeerConfig("eu", shared_cluster.url, cluster=True), cluster=True)
    assert cluster.client.retry.get_retries() == 0
    assert not standalone.ping()  # refused at once, no retry loop


def test_a_cluster_peer_is_pulled_as_the_read_only_peer_user(
    shared_cluster: RedisClusterServers, redis_servers: ServerFactory
) -> None:
    shared_cluster.flush()
    password = "pw-cluster-peer-41d2"
    for server in shared_cluster.servers:
        server.client().execute_command(  # type: ignore[no-untyped-call]
            "ACL", "SETUSER", *peer_acl("crdt-peer", password, cluster=True)
        )
    eu = Region("eu", shared_cluster.client(decode_responses=True))
    for i in range(40):
        eu.counter(f"page:{i}").incr(i + 1)
    eu.counter_map("views").incr("/", 3)
    url = shared_cluster.url.replace("//", f"//crdt-peer:{password}@", 1)
    us = Region("us", redis_servers().url, peers=[PeerConfig("eu", url, cluster=True)])
    report = us.sync_peer("eu")
    assert report.ok, report.summary()
    assert sum(us.counter(f"page:{i}").value() for i in range(40)) == sum(range(1, 41))
    assert us.counter_map("views").items() == {"/": 3}
    assert password not in report.summary() + repr(report.to_dict())
