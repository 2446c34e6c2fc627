"""Expiry is replicated: a key is gone in every region once its time has passed, for good.

No region brings an expired key back: not one that learned of the expiry
late, not one whose clock runs behind. A key written again after it expired
starts a new life, which replaces the old one even in a region that still
holds the old one.
"""

from __future__ import annotations

import time

import pytest

from crdtredis.replication import Region
from crdtredis.store.expiry import ExpirySetting
from tests.regions import converge
from tests.replication.conftest import Regions
from tests.support import wait_for

pytestmark = pytest.mark.integration

TTL = 0.4


def gone_everywhere(regions: list[Region], name: str) -> bool:
    return all(not r.client.exists(r.layout.data_key(name)) for r in regions)


def test_a_key_with_a_ttl_expires_in_every_region(regions: Regions) -> None:
    live = regions.all()
    eu = live[0]
    eu.counter("views").incr(5)
    converge(live)
    assert eu.expire("views", TTL)
    converge(live)
    # Every region has the expiry (-1 would mean none); a slow pass may find it past (-2).
    assert all(r.ttl("views") != -1 and r.ttl("views") <= TTL for r in live)
    wait_for(lambda: gone_everywhere(live, "views"), message="views freed in every region")
    converge(live)
    assert gone_everywhere(live, "views")
    assert [r.counter("views").value() for r in live] == [0, 0, 0]
    assert [r.ttl("views") for r in live] == [-2, -2, -2]


def test_a_region_that_learned_of_the_expiry_late_does_not_bring_the_key_back(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr(5)
    converge([eu, us])
    eu.expire("c", TTL)
    us.counter("c").incr(1)  # us has not pulled the expiry, and writes on
    wait_for(lambda: not eu.client.exists(eu.layout.data_key("c")), message="expired in eu")
    time.sleep(0.05)  # past the expiry by us's clock too (no condition to poll: us keeps it)
    converge([eu, us])
    assert gone_everywhere([eu, us], "c")
    assert eu.counter("c").value() == us.counter("c").value() == 0


def test_a_region_whose_clock_runs_behind_does_not_resurrect_an_expired_key(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    ap = regions.open("ap", clock=lambda: time.time() - 5)
    live = [eu, us, ap]
    eu.orset("s").add("x")
    converge(live)
    eu.expire("s", TTL)
    converge(live)
    wait_for(lambda: gone_everywhere(live, "s"), message="s freed everywhere")
    for _ in range(3):
        converge([ap, eu, us])
        assert gone_everywhere(live, "s")
    assert [r.orset("s").members() for r in live] == [set(), set(), set()]


def test_a_key_written_again_after_it_expired_replaces_the_old_life_everywhere(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    for region in (eu, us):
        region.counter("c").incr(10)
        region.sequence("log").append(f"old-{region.name}")
    converge([eu, us])
    eu.expire("c", TTL)
    eu.expire("log", TTL)
    # us is cut off: it never hears of the expiry and keeps the old life.
    wait_for(lambda: not eu.client.exists(eu.layout.data_key("c")), message="expired in eu")
    assert eu.counter("c").incr(2) == 2  # a new life in eu
    eu.sequence("log").append("new")
    assert us.counter("c").value() == 20  # the old life, still in us
    converge([eu, us])
    assert eu.counter("c").value() == us.counter("c").value() == 2
    assert eu.sequence("log").to_list() == us.sequence("log").to_list() == ["new"]
    us.counter("c").incr(1)
    converge([eu, us])
    assert eu.counter("c").value() == us.counter("c").value() == 3


def test_persist_takes_the_expiry_away_in_every_region(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr()
    eu.expire("c", 3600)
    converge([eu, us])
    assert 3590 < us.ttl("c") <= 3600
    assert us.persist("c")
    converge([eu, us])
    assert eu.ttl("c") == us.ttl("c") == -1
    assert eu.client.pttl(eu.layout.data_key("c")) == -1  # Redis keeps it for good too


def test_concurrent_expiry_settings_agree_on_the_later_one(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr()
    converge([eu, us])
    eu.expire("c", 100)
    time.sleep(0.002)  # a later setting by the clocks' millisecond
    us.expire("c", 200)
    converge([eu, us])
    assert 190 < eu.ttl("c") <= 200 and 190 < us.ttl("c") <= 200


def test_bad_expiry_input_is_refused_and_changes_nothing(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.counter("c").incr()
    before = eu.client.hgetall(eu.layout.data_key("c"))
    for bad in (-1, 0, float("nan"), float("inf"), "10", True):
        with pytest.raises(ValueError, match="TTL must be"):
            eu.expire("c", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expiry time must be"):
        eu.expire_at("c", -5)
    assert eu.client.hgetall(eu.layout.data_key("c")) == before
    assert eu.expire("missing", 10) is False and eu.type_of("missing") is None
    assert eu.persist("missing") is False and eu.ttl("missing") == -2


def test_settings_made_in_the_same_millisecond_agree_everywhere(regions: Regions) -> None:
    frozen = time.time()
    eu = regions.open("eu", ("us",), clock=lambda: frozen)
    us = regions.open("us", ("eu",))
    eu.counter("x").incr(1)
    eu.expire("x", 1000)
    assert us.sync_peer("eu").ok
    eu.expire("x", 5000)  # the same replica and millisecond: the later expiry wins
    converge([eu, us])
    stored = [r.client.hget(r.layout.data_key("x"), "@") for r in (eu, us)]
    assert stored[0] == stored[1] and stored[0] is not None
    assert abs(ExpirySetting.parse(stored[0]).expire_ms - (frozen + 5000) * 1000) < 2


def test_a_new_life_written_where_the_expiry_is_known_is_kept_everywhere(
    regions: Regions,
) -> None:
    live = regions.all()
    eu, us, ap = live
    for region in live:
        region.syncer.collector.every = 0
    eu.counter("other").incr()
    converge(live)
    eu.counter("x").incr(5)
    assert ap.sync_peer("eu").ok  # ap holds the old life
    eu.expire("x", TTL)
    wait_for(lambda: not eu.client.exists(eu.layout.data_key("x")), message="expired in eu")
    assert us.sync_peer("eu").ok  # us learns of the expiry from eu's grave
    us.counter("x").incr(7)  # a new life, written after that
    converge([eu, ap, us], rounds=4)
    assert [r.counter("x").value() for r in live] == [7, 7, 7]
