"""What an expired key leaves behind goes once every peer has merged it, and not before."""

from __future__ import annotations

import pytest

from crdtredis.replication import Region
from crdtredis.replication.inspection import region_status
from crdtredis.replication.leases import ShardLeases
from tests.conftest import ServerFactory
from tests.regions import converge
from tests.replication.conftest import Regions
from tests.support import wait_for

pytestmark = pytest.mark.integration

TTL = 0.3


def collect_at_every_pass(regions: list[Region]) -> None:
    for region in regions:
        region.syncer.collector.every = 0
        region.syncer.collector.horizon = 0  # this test's graves need no wait for births


def traces(region: Region, name: str) -> list[str]:
    """Every place ``name`` is still mentioned in the region's Redis (keys, fields, members)."""
    found = []
    for key in region.client.scan_iter():
        kind = region.client.type(key)
        if name in key:
            found.append(key)
        elif kind == "hash" and any(name in f for f in region.client.hkeys(key)):
            found.append(f"{key} (field)")
        elif kind == "zset" and region.client.zscore(key, name) is not None:
            found.append(f"{key} (member)")
    return found


def expire_everywhere(live: list[Region], name: str) -> None:
    live[0].counter(name).incr()
    converge(live)
    live[0].expire(name, TTL)
    converge(live)
    wait_for(
        lambda: all(not r.client.exists(r.layout.data_key(name)) for r in live),
        message=f"{name} expired everywhere",
    )


def test_an_expired_key_leaves_no_trace_once_every_peer_merged_it(regions: Regions) -> None:
    live = regions.all()
    expire_everywhere(live, "views:day1")  # no collection yet, however long the passes took
    assert all(traces(r, "views:day1") for r in live)  # graves and index entries, for now
    collect_at_every_pass(live)
    converge(live, rounds=3)
    assert [traces(r, "views:day1") for r in live] == [[], [], []]


def test_a_peer_that_is_down_holds_collection_back_until_it_is_back(regions: Regions) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    eu.counter("bucket:x").incr()
    converge(live)
    eu.expire("bucket:x", TTL)
    wait_for(lambda: not eu.client.exists(eu.layout.data_key("bucket:x")), message="expired")
    for _ in range(3):  # ap pulls nothing: it still holds the key, with no expiry
        for region in (eu, us):
            for report in region.sync():
                assert report.ok, report.summary()
    assert ap.counter("bucket:x").value() == 1
    assert traces(eu, "bucket:x") and traces(us, "bucket:x")  # kept for ap
    held = region_status(eu)["collection"]
    assert (held["graves"], held["held_back_by"]) == (1, {"us": 0, "ap": 1})
    assert held["unmerged"]["ap"] >= 1 and held["unmerged"]["us"] == 0
    converge(live, rounds=3)
    assert [traces(r, "bucket:x") for r in live] == [[], [], []]
    assert region_status(eu)["collection"] == {
        "graves": 0,
        "held_back_by": {"us": 0, "ap": 0},
        "unmerged": {"us": 0, "ap": 0},
    }


def removed_tags(region: Region, name: str) -> list[str]:
    return [f for f in region.client.hkeys(region.layout.data_key(name)) if f.startswith("~")]


def test_removed_set_tags_go_once_every_peer_merged_them(regions: Regions) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    for region in live:
        region.orset("s").add(region.name)
        region.orset("s").add("shared")
    converge(live)
    eu.orset("s").remove("shared")
    us.orset("s").remove("us")
    for _ in range(3):  # ap pulls nothing yet: everyone keeps the tombstones for it
        for region in (eu, us):
            for report in region.sync():
                assert report.ok, report.summary()
    assert removed_tags(eu, "s") and removed_tags(us, "s")
    converge(live, rounds=4)
    assert [removed_tags(r, "s") for r in live] == [[], [], []]
    assert [r.orset("s").members() for r in live] == [{"eu", "ap"}] * 3
    us.orset("s").add("shared")  # a new tag: never confused with a collected one
    converge(live)
    assert [r.orset("s").members() for r in live] == [{"eu", "ap", "shared"}] * 3


DELETED = ("deleted:count", "deleted:set", "deleted:log")


def test_deleted_keys_leave_no_trace_once_every_peer_merged_the_delete(regions: Regions) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    for region in live:
        region.counter("deleted:count").incr(100)
        region.orset("deleted:set").add(region.name)
        region.sequence("deleted:log").append(region.name)
    converge(live)
    assert eu.delete(*DELETED) == 3
    converge(live, rounds=4)
    assert [traces(r, n) for r in live for n in DELETED] == [[]] * 9
    # Written again after collection: new objects, counted from nothing.
    eu.counter("deleted:count").incr(5)
    us.orset("deleted:set").add("x")
    ap.sequence("deleted:log").append("y")
    converge(live)
    assert [r.counter("deleted:count").value() for r in live] == [5, 5, 5]
    assert [r.orset("deleted:set").members() for r in live] == [{"x"}] * 3
    assert [r.sequence("deleted:log").to_list() for r in live] == [["y"]] * 3


def test_a_collected_tombstone_never_comes_back_from_a_peer_that_merged_it(
    regions: Regions,
) -> None:
    """ap indexed the delete as a change of its own when it merged it. us must pull that
    change before it collects: else the pull brings the tombstone back to us, as a new
    change for every region that had collected it too, round and round."""
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    for region in live:
        region.counter("deleted:count").incr(100)
    converge(live)
    assert eu.delete("deleted:count") == 1
    assert us.sync_peer("eu").keys_changed == 1
    assert ap.sync_peer("us").keys_changed == 1  # ap's own change, past us's cursor on ap
    assert eu.sync_peer("us").ok  # eu has merged us's delete too
    assert us.sync_peer("eu").ok
    busy = ShardLeases(us, "ap")  # another pass holds the shard: this one cannot pull it
    assert busy.acquire([ap.layout.shard_of("deleted:count")])
    try:
        # It reads that ap has merged the delete, and that ap changed the shard since.
        assert us.sync_peer("ap").ok
    finally:
        busy.release()
    assert traces(us, "deleted:count")  # kept: ap's change is not pulled yet
    assert us.sync_peer("ap").keys_changed == 0  # nothing to bring back
    converge(live, rounds=4)
    assert [traces(r, "deleted:count") for r in live] == [[], [], []]


def test_writes_after_collection_are_not_swallowed_by_remains_elsewhere(regions: Regions) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass([eu, us])
    ap.syncer.collector.every = float("inf")  # ap keeps the remains of what is deleted
    eu.counter("deleted:count").incr(100)
    eu.orset("deleted:set").add("a")
    eu.sequence("deleted:log").append("e1")
    converge(live)
    eu.delete(*DELETED)
    converge(live, rounds=4)
    assert not [t for n in DELETED for t in traces(eu, n)]
    assert all(ap.client.exists(ap.layout.data_key(n)) for n in DELETED)
    eu.counter("deleted:count").incr(5)  # eu's slot starts above the 100 ap still holds
    eu.orset("deleted:set").add("a")  # a tag above the one ap holds removed
    eu.sequence("deleted:log").append("e2")  # an id above the one ap holds removed
    converge(live)
    assert [r.counter("deleted:count").value() for r in live] == [5, 5, 5]
    assert [r.orset("deleted:set").members() for r in live] == [{"a"}] * 3
    assert [r.sequence("deleted:log").to_list() for r in live] == [["e2"]] * 3


def test_collection_goes_through_a_middle_region_once_the_far_peer_merged_there(
    regions: Regions,
) -> None:
    """eu and ap cannot reach each other; both reach us. us shows what ap merged."""
    url = {name: server.url for name, server in regions.servers.items()}
    cut = "redis://127.0.0.1:9/0"  # nothing listens there

    def open_regions(ap_reaches_eu: bool) -> list[Region]:
        ap_url = url["ap"] if ap_reaches_eu else cut
        eu = Region("eu", url["eu"], peers={"us": url["us"], "ap": ap_url}, peer_timeout=0.5)
        us = Region("us", url["us"], peers={"eu": url["eu"], "ap": url["ap"]})
        ap = Region(
            "ap",
            url["ap"],
            peers={"us": url["us"], "eu": url["eu"] if ap_reaches_eu else cut},
            peer_timeout=0.5,
        )
        return [eu, us, ap]

    live = open_regions(ap_reaches_eu=False)
    eu, us, ap = live
    collect_at_every_pass(live)
    for name in ("a", "b"):
        eu.orset("relayed:set").add(name)
    rounds(live, 3)  # the passes over the cut link fail; the others go on
    eu.orset("relayed:set").remove("a")
    rounds([eu, us], 3)  # ap has not merged the removal yet: eu must keep it
    assert removed_tags(eu, "relayed:set")
    assert region_status(eu)["collection"]["unmerged"]["ap"] >= 1
    rounds(live, 3)  # ap merges it through us, and eu sees that at us
    assert [r.orset("relayed:set").members() for r in live] == [{"b"}] * 3
    assert removed_tags(eu, "relayed:set") == []
    healed = open_regions(ap_reaches_eu=True)  # the link is back: ap pulls eu itself
    rounds(healed, 3)
    assert [r.orset("relayed:set").members() for r in healed] == [{"b"}] * 3


def test_a_peer_this_region_still_pulls_is_never_proven_through_a_relay(
    regions: Regions, redis_servers: ServerFactory
) -> None:
    """sg is cut off from eu; ap is the relay. us is reachable, but eu has not pulled
    us's merge of the delete: proof through ap that us merged it is not enough, for
    that merge, a change of us's own, would bring the tombstone back to eu."""
    url = {name: server.url for name, server in regions.servers.items()}
    url["sg"] = redis_servers(appendonly=True).url
    cut = "redis://127.0.0.1:9/0"  # nothing listens there
    eu = Region("eu", url["eu"], peers={"us": url["us"], "ap": url["ap"], "sg": cut})
    us = Region("us", url["us"], peers={p: url[p] for p in ("eu", "ap", "sg")})
    ap = Region("ap", url["ap"], peers={p: url[p] for p in ("eu", "us", "sg")})
    sg = Region("sg", url["sg"], peers={"us": url["us"], "ap": url["ap"], "eu": cut})
    live = [eu, us, ap, sg]
    collect_at_every_pass(live)
    eu.counter("relayed:count").incr(3)
    rounds(live, 3)  # the passes over the cut link fail; the others go on
    assert eu.delete("relayed:count") == 1
    for region, peer in [("ap", "eu"), ("us", "eu"), ("sg", "ap"), ("us", "ap")]:
        assert {r.name: r for r in live}[region].sync_peer(peer).ok
    for peer in ("us", "sg"):  # ap learns that us and sg merged its change
        assert ap.sync_peer(peer).ok
    assert eu.sync_peer("ap").ok  # eu: sg is cut off, us not pulled since the delete
    assert eu.client.exists(eu.layout.data_key("relayed:count"))  # kept for us's change
    assert eu.sync_peer("us").keys_changed == 0  # nothing comes back


def rounds(live: list[Region], count: int) -> None:
    """Passes of every region in turn; failed passes (over a cut link) allowed."""
    for _ in range(count):
        for region in live:
            region.sync()


def test_a_key_born_after_an_expiry_keeps_its_birth_when_deleted(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    for region in (eu, us):
        region.syncer.collector.every = 0
    eu.counter("born:k").incr()
    converge([eu, us])
    eu.expire("born:k", TTL)
    wait_for(lambda: not eu.client.exists(eu.layout.data_key("born:k")), message="expired")
    converge([eu, us])
    eu.counter("born:k").incr(10)  # a second life, born after the first one's death
    converge([eu, us])
    eu.syncer.collector.horizon = 0  # as if long after: graves may go
    us.syncer.collector.every = float("inf")  # us holds the deleted second life
    eu.delete("born:k")
    converge([eu, us], rounds=4)
    assert eu.counter("born:k").incr(7) == 7
    converge([eu, us])
    us.counter("born:k").incr(1)
    converge([eu, us])
    assert eu.counter("born:k").value() == us.counter("born:k").value() == 8


def test_a_log_re_created_from_another_regions_copy_never_reuses_an_id(
    regions: Regions,
) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    ap.syncer.collector.every = float("inf")  # ap keeps the remains of the deleted log
    for i in range(5):
        eu.sequence("reused:log").append(f"old{i}")
    converge(live)
    eu.delete("reused:log")
    converge(live, rounds=4)
    assert not eu.client.exists(eu.layout.data_key("reused:log"))
    regions.servers["us"].client().flushall()  # us loses everything, and starts anew
    us.sequence("reused:log").append("fresh")  # clock 1 in us
    assert eu.sync_peer("us").ok  # eu re-creates the log from us's copy
    eu.sequence("reused:log").append("mine")  # above eu's old ids, whatever us's clock
    converge(live)
    logs = [r.sequence("reused:log").to_list() for r in live]
    assert logs[0] == logs[1] == logs[2] and sorted(logs[0]) == ["fresh", "mine"]


def stored_elements(region: Region, name: str) -> dict[str, str]:
    fields = region.client.hgetall(region.layout.data_key(name))
    return {f[1:]: v for f, v in fields.items() if f.startswith(".")}


def test_removed_log_elements_keep_only_their_skeletons_once_merged_everywhere(
    regions: Regions,
) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass([eu, us])
    ap.syncer.collector.every = float("inf")  # ap keeps the values: a mixed state merges too
    payload = "x" * 200
    for i in range(5):
        eu.sequence("trimmed:log").append(f"e{i}:{payload}")
    converge(live)
    eu.sequence("trimmed:log").remove(1)
    eu.sequence("trimmed:log").remove(1)  # e1 and e2
    for _ in range(4):
        for region in live:
            for report in region.sync():
                assert report.ok and not report.rejected, report.summary()
    for region in (eu, us):
        stored = stored_elements(region, "trimmed:log").values()
        assert len([v for v in stored if v.endswith(",null]")]) == 2  # e1, e2: references kept
    ap.sequence("trimmed:log").append("e5")  # ap, holding the values, writes on
    for _ in range(3):
        for region in live:
            for report in region.sync():
                assert report.ok and not report.rejected, report.summary()
    expected = [f"e0:{payload}", f"e3:{payload}", f"e4:{payload}", "e5"]
    assert [r.sequence("trimmed:log").to_list() for r in live] == [expected] * 3
