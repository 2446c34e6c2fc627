"""A pass's first round trip reads the objects its page lists, exactly as a page read would."""

from __future__ import annotations

import fakeredis
import pytest

from crdtredis import Region
from crdtredis.config import PeerConfig
from crdtredis.embedded import RedisServer
from crdtredis.replication import survey as survey_module
from crdtredis.replication.peer import Peer
from crdtredis.replication.survey import INLINE_STATES, survey
from tests.regions import Regions
from tests.support import wait_for


def _written(us: Region) -> None:
    """Counters, a set, a key of another kind where an object was, a vanished one, a grave."""
    us.incr_many({f"c{i}": i + 1 for i in range(20)})
    us.orset("s").add("x")
    us.counter("bad").incr()
    us.client.delete(us.layout.data_key("bad"))
    us.client.set(us.layout.data_key("bad"), "not a hash")
    us.counter("vanished").incr()
    us.client.delete(us.layout.data_key("vanished"))
    us.counter("brief").incr()
    us.expire("brief", 0.05)
    wait_for(lambda: not us.client.exists(us.layout.data_key("brief")), message="expiry")


def _check_survey_matches_page_reads(us: Region, peer: Peer) -> None:
    _written(us)
    shards = us.layout.shards
    found = survey(peer, "eu", [0] * shards, 1000, range(shards))
    assert found is not None and found.page is not None
    names = [name for entries in found.page.values() for name, _ in entries]
    assert {"c0", "c19", "s", "bad", "vanished", "brief"} <= set(names)
    states = found.states(names)
    assert states is not None, "the survey did not read the page's objects"
    read, graves, registry = found.source.read_page(names)
    assert [_plain(r) for r in states[0]] == [_plain(r) for r in read]
    assert states[1] == graves and "brief" in graves
    assert states[2] == registry and registry
    assert found.heads == found.source.heads("eu")


def _plain(reply: object) -> object:
    return f"error: {reply}" if isinstance(reply, Exception) else reply


def test_the_survey_reads_the_listed_objects_on_a_real_server(regions: Regions) -> None:
    us = regions.open("us", peers=())
    peer = Peer(PeerConfig("us", regions.servers["us"].url))
    _check_survey_matches_page_reads(us, peer)
    assert peer.scripted


def test_the_survey_reads_the_listed_objects_on_fakeredis() -> None:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    us = Region("us", client)
    peer = Peer(PeerConfig("us", "redis://fake"), client=client)
    _check_survey_matches_page_reads(us, peer)
    assert peer.scripted


def test_a_long_page_is_surveyed_without_its_objects(regions: Regions) -> None:
    us = regions.open("us", peers=())
    us.incr_many({f"c{i}": 1 for i in range(INLINE_STATES + 1)})
    peer = Peer(PeerConfig("us", regions.servers["us"].url))
    found = survey(peer, "eu", [0] * us.layout.shards, 1000, range(us.layout.shards))
    assert found is not None and found.page is not None
    assert sum(len(entries) for entries in found.page.values()) == INLINE_STATES + 1
    assert found.objects is None


@pytest.mark.integration
def test_a_peer_that_refuses_scripts_is_synced_with_pipelines(regions: Regions) -> None:
    server: RedisServer = regions.servers["us"]
    admin = server.client()
    admin.execute_command(  # type: ignore[no-untyped-call]
        "ACL", "SETUSER", "reader", "on", ">s3cret", "~*", "+@read", "-@scripting", "+ping"
    )
    us = regions.open("us", peers=())
    reader = server.url.replace("//", "//reader:s3cret@", 1)
    eu = Region("eu", regions.servers["eu"].url, peers={"us": reader})
    us.incr_many({"a": 1})
    assert eu.sync_peer("us").ok  # the first pass opens the peer: no survey yet
    us.incr_many({"a": 2, "b": 5})
    report = eu.sync_peer("us")
    assert report.ok, report.summary()
    assert not eu.peers[0].scripted
    assert (eu.counter("a").value(), eu.counter("b").value()) == (3, 5)


def test_an_object_named_like_the_scripts_error_marker_syncs(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us")
    us.counter("c").incr()
    assert eu.sync_peer("us").ok
    us.incr_many({"!": 2, "c": 1})
    report = eu.sync_peer("us")
    assert report.ok, report.summary()
    assert (eu.counter("!").value(), eu.counter("c").value()) == (2, 2)


def test_a_page_of_large_objects_is_surveyed_without_them(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(survey_module, "INLINE_FIELDS", 10)
    us = regions.open("us", peers=())
    for element in range(20):
        us.orset("big").add(f"e{element}")
    peer = Peer(PeerConfig("us", regions.servers["us"].url))
    found = survey(peer, "eu", [0] * us.layout.shards, 1000, range(us.layout.shards))
    assert found is not None and found.page is not None
    assert [n for entries in found.page.values() for n, _ in entries] == ["big"]
    assert found.objects is None  # the pass reads it in a pipeline of its own
