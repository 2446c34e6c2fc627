"""Short replica ids with a replicated registry, and the key layout version checked in peers."""

from __future__ import annotations

import pytest

from crdtredis.config import load_config
from crdtredis.metrics import make_registry
from crdtredis.replication.inspection import inspect_key
from crdtredis.store.scripts import script
from tests.metrics.test_exporter import scrape, value
from tests.regions import Regions, converge
from tests.store.snapshot import snapshot
from tests.support import region_env

pytestmark = pytest.mark.integration


def local_state(client: object) -> dict[str, object]:
    """What a refused pass must leave as it was: everything but its own statistics."""
    return {k: v for k, v in snapshot(client).items() if "#sync:" not in k and "#lock:" not in k}


def test_slots_hold_four_character_ids_and_inspect_names_their_regions(regions: Regions) -> None:
    live = regions.all()
    for region in live:
        region.counter("likes").incr(2)
    converge(live)
    eu = live[0]
    fields = eu.client.hgetall(eu.layout.data_key("likes"))
    slots = {f: v for f, v in fields.items() if f}
    assert sorted(slots) == sorted(r.replica for r in live)
    assert all(len(f) == 4 for f in slots)
    rows = inspect_key(eu, "likes")["replicas"]
    assert {(row["replica"], row["region"], row["incarnation"]) for row in rows} == {
        (r.replica, r.name, r.incarnation) for r in live
    }


def test_a_region_learns_ids_of_regions_it_reaches_only_through_a_middle_one(
    regions: Regions,
) -> None:
    eu, us, ap = regions.open("eu", ("us",)), regions.open("us"), regions.open("ap", ("us",))
    ap.counter("relayed").incr()
    converge([eu, us, ap])
    (row,) = [r for r in inspect_key(eu, "relayed")["replicas"] if r["replica"] == ap.replica]
    assert (row["region"], row["incarnation"]) == ("ap", ap.incarnation)


def test_a_peer_on_another_layout_version_is_refused_and_nothing_local_changes(
    regions: Regions,
) -> None:
    eu, ap = regions.open("eu", ("ap",)), regions.open("ap", ("eu",))
    ap.counter("views").incr(5)
    ap.client.hset(ap.layout.identity_key, "layout", "1")  # as an older crdtredis wrote it
    before = local_state(eu.client)
    (report,) = eu.sync()
    assert not report.ok
    assert "key layout 1" in str(report.error) and "layout 2 only" in str(report.error)
    assert local_state(eu.client) == before
    assert eu.counter("views").value() == 0
    samples = scrape(make_registry(load_config(env=region_env(regions, "eu"))))
    assert value(samples, "crdtredis_sync_errors_total", peer="ap") >= 1


def test_a_replica_id_drawn_twice_is_refused_before_any_object_meets(regions: Regions) -> None:
    eu, ap = regions.open("eu", ("ap",)), regions.open("ap", ("eu",))
    eu.counter("likes").incr(1)
    # ap's registry says eu's id stands for another incarnation: as if both drew it.
    ap.client.hset(ap.layout.identity_key, f"r:{eu.replica}", "ap.zzzzzzzz")
    ap.counter("likes").incr(40)
    before = local_state(eu.client)
    (report,) = eu.sync()
    assert not report.ok and "two incarnations drew the same id" in str(report.error)
    assert f"replica id {eu.replica!r}" in str(report.error)
    assert local_state(eu.client) == before
    assert eu.counter("likes").value() == 1


def test_a_renewal_draws_an_id_no_registered_replica_has(regions: Regions) -> None:
    eu = regions.open("eu", ())
    lost = eu.incarnation
    taken = "Tkn1"
    eu.client.hset(eu.layout.identity_key, f"r:{taken}", "us.someone")
    raw = eu.scripts.call(
        script("identity_renew"),
        [eu.layout.identity_key],
        [lost, "server", "newincar", f"{taken},{eu.replica},Free", "0"],
    )
    renewed = dict(zip(raw[::2], raw[1::2], strict=True))
    assert renewed["replica"] == "Free" and renewed["r:Free"] == "eu.newincar"
    assert renewed[f"r:{taken}"] == "us.someone"  # entries never change
