"""Random operations of every type (deletes too) in three regions converge to the pure model."""

from __future__ import annotations

import random
from typing import Any

import pytest

from crdtredis.replication.leases import ShardLeases
from crdtredis.store import REGISTRY, StoredType
from tests.replication.conftest import NAMES, Regions, converge

pytestmark = pytest.mark.integration

#: One key per registered type, named after its code.
KEYS: dict[str, StoredType] = {f"key:{stored.code}": stored for stored in REGISTRY}


def random_op(rng: random.Random, stored: StoredType, obj: Any) -> tuple[str, Any]:
    """A random operation on ``obj`` (the pure model) by the family of its type."""
    element = rng.choice("abcd")
    if rng.random() < 0.08:
        return "delete", None
    if stored.family == "counter":
        return ("decr" if rng.random() < 0.3 else "incr"), rng.randint(0, 50)
    if stored.family == "map":
        if rng.random() < 0.1:
            return "delete_field", (f"/{element}",)
        return ("decr" if rng.random() < 0.3 else "incr"), (f"/{element}", rng.randint(0, 50))
    if stored.family == "log":
        if len(obj) and rng.random() < 0.3:
            return "remove", rng.randrange(len(obj))
        return "insert", (rng.randint(0, len(obj)), f"{element}{rng.randint(0, 999)}")
    if hasattr(obj, "remove") and rng.random() < 0.35:
        return "remove", element
    return "add", element


def perform(obj: Any, op: tuple[str, Any]) -> None:
    kind, arg = op
    try:
        if isinstance(arg, tuple):
            getattr(obj, kind)(*arg)
        elif kind == "delete":
            obj.delete()
        else:
            getattr(obj, kind)(arg)
    except (KeyError, ValueError):
        pass  # removing a non-member, re-adding to a 2P-Set, a gcounter's decr, a
        # gset's delete: refused alike


def visible(stored: StoredType, state: dict[str, Any]) -> dict[str, Any]:
    """What a reader sees of a state: its summary without the tombstones kept."""
    return {k: v for k, v in stored.summary(state).items() if k != "tombstones"}


@pytest.mark.parametrize(("seed", "collect"), [(0, False), (1, False), (2, True), (3, True)])
def test_random_histories_converge_to_the_pure_model(
    regions: Regions, seed: int, collect: bool
) -> None:
    """Exactly the model's state; with collection at every pass, what readers see of it."""
    rng = random.Random(seed)
    live = regions.all()
    for region in live:
        region.syncer.collector.every = 0 if collect else float("inf")
    model = {r.name: {k: t.pure(r.replica) for k, t in KEYS.items()} for r in live}
    for _ in range(120):
        if rng.random() < 0.8:
            region = rng.choice(live)
            key = rng.choice(list(KEYS))
            stored = region.handle(KEYS[key].name, key)
            op = random_op(rng, KEYS[key], model[region.name][key])
            perform(model[region.name][key], op)
            perform(stored, op)
        else:
            region = rng.choice(live)
            peer = rng.choice([p for p in NAMES if p != region.name])
            assert region.sync_peer(peer).ok
            for key in KEYS:
                model[region.name][key].merge(model[peer][key])
    converge(rng.sample(live, len(live)))
    if collect:  # one more round: every peer has merged everything, so it all goes
        converge(live, rounds=1)
        for region in live:
            assert not [
                f for f in region.client.hkeys(region.layout.data_key("key:or")) if f[:1] == "~"
            ]

    for key, stored_type in KEYS.items():
        expected = stored_type.pure("model")
        for name in NAMES:
            expected.merge(model[name][key])
        for region in live:
            handle: Any = region.handle(stored_type.name, key)
            found = handle.to_dict()
            if stored_type.family == "map":  # the derived index, read as it is
                assert handle.top(10) == expected.top(10)
                assert (len(handle), handle.total()) == (len(expected), expected.total())
            if collect:
                assert visible(stored_type, found) == visible(stored_type, expected.to_dict())
            else:
                assert found == expected.to_dict()


def test_no_ping_pong_once_converged(regions: Regions) -> None:
    live = regions.all()
    for region in live:
        region.counter("c").incr()
        region.orset("s").add(region.name)
    converge(live)
    heads = [
        [r.client.hget(r.layout.head_key(s), "v") for s in range(r.layout.shards)] for r in live
    ]
    for region in live:
        for report in region.sync():
            assert report.keys_changed == 0 and report.keys_read == 0
    assert heads == [
        [r.client.hget(r.layout.head_key(s), "v") for s in range(r.layout.shards)] for r in live
    ]


def test_changes_travel_through_a_middle_region(regions: Regions) -> None:
    # eu and ap do not pull from each other; us pulls from both.
    eu, us, ap = regions.open("eu", ("us",)), regions.open("us"), regions.open("ap", ("us",))
    eu.counter("views").incr(5)
    eu.sequence("log").append("from eu")
    ap.counter("views").decr(2)
    converge([eu, us, ap], rounds=2)
    assert [r.counter("views").value() for r in (eu, us, ap)] == [3, 3, 3]
    assert ap.sequence("log").to_list() == ["from eu"]


def test_a_second_pass_at_once_pulls_only_the_shards_no_pass_holds(regions: Regions) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.incr_many({f"k{i}": 1 for i in range(100)})
    assert eu.sync_peer("us").ok
    us.incr_many({f"k{i}": 1 for i in range(100)})
    other = ShardLeases(eu, "us")
    assert other.acquire(range(0, us.layout.shards, 2))  # the even shards are busy
    try:
        report = eu.sync_peer("us")
        assert report.ok and not report.skipped
        odd = [f"k{i}" for i in range(100) if us.layout.shard_of(f"k{i}") % 2]
        assert report.keys_read == len(odd)
        assert all(eu.counter(name).value() == 2 for name in odd)
        assert other.acquire(range(us.layout.shards))
        report = eu.sync_peer("us")
        assert report.skipped and report.ok and report.keys_read == 0
    finally:
        other.release()
    assert eu.sync_peer("us").keys_read == 100 - len(odd)


def test_a_wiped_peer_is_resynced_in_full(regions: Regions) -> None:
    eu, us = regions.open("eu"), regions.open("us")
    us.counter("c").incr(4)
    assert eu.sync_peer("us").full_resync
    assert not eu.sync_peer("us").full_resync
    regions.servers["us"].client().flushall()
    us = regions.open("us")
    us.counter("c").incr(1)
    report = eu.sync_peer("us")
    assert report.full_resync and report.keys_changed == 1
    assert eu.counter("c").value() == 5


def test_paging_through_many_changes_misses_nothing(regions: Regions) -> None:
    eu, us = regions.open("eu", sync_batch=3), regions.open("us")
    us.incr_many({f"k{i}": i + 1 for i in range(200)})
    eu.sync_peer("us")
    for i in range(0, 200, 7):  # some keys change again after the first pass
        us.counter(f"k{i}").incr(1000)
    report = eu.sync_peer("us")
    assert report.ok and report.lag == 0
    expected = {f"k{i}": i + 1 + (1000 if i % 7 == 0 else 0) for i in range(200)}
    assert {name: eu.counter(name).value() for name in expected} == expected


def test_a_counter_with_thousands_of_slots_merges_and_travels_on(regions: Regions) -> None:
    eu, us, ap = regions.open("eu"), regions.open("us"), regions.open("ap", ("eu",))
    state = {"type": "pncounter", "p": {f"r{i}.x": i + 1 for i in range(5000)}, "n": {}}
    assert us.counter("wide").merge(state)
    assert eu.sync_peer("us").keys_changed == 1
    assert ap.sync_peer("eu").keys_changed == 1
    assert ap.counter("wide").value() == sum(range(1, 5001))
