"""Invariant 2: replica identity, incarnations, and what happens after a wipe."""

from __future__ import annotations

from typing import Any

import pytest

from crdtredis.errors import IdentityError
from crdtredis.store import RegionStore
from tests.store.conftest import Backend
from tests.support import wipe


def test_a_region_finds_its_identity_again(client: Any) -> None:
    first = RegionStore("eu", client)
    again = RegionStore("eu", client)
    assert again.replica == first.replica
    assert len(first.replica) == 4 and first.replica.isalnum() and len(first.incarnation) == 8
    registered = first.client.hget("crdt#region", f"r:{first.replica}")
    assert registered == f"eu.{first.incarnation}"  # what the short id stands for


def test_one_redis_serves_one_region_per_prefix(client: Any) -> None:
    RegionStore("eu", client)
    with pytest.raises(IdentityError, match="belongs to region 'eu', not 'us'"):
        RegionStore("us", client)
    other = RegionStore("us", client, prefix="other")
    assert client.hget("other#region", f"r:{other.replica}").startswith("us.")


def test_the_stored_shard_count_wins(client: Any) -> None:
    RegionStore("eu", client, shards=16)
    assert RegionStore("eu", client).layout.shards == 16
    with pytest.raises(IdentityError, match="16 shards, not 32"):
        RegionStore("eu", client, shards=32)


def test_a_malformed_identity_is_reported(client: Any) -> None:
    client.hset("crdt#region", mapping={"region": "eu"})
    with pytest.raises(IdentityError, match="malformed region identity"):
        RegionStore("eu", client)


@pytest.mark.parametrize("name", ["", "e u", "-eu", "x" * 33])
def test_region_names_are_checked(client: Any, name: str) -> None:
    with pytest.raises(ValueError, match="region name"):
        RegionStore(name, client)


def test_after_a_wipe_a_region_counts_in_a_new_slot(client: Any) -> None:
    region = RegionStore("eu", client)
    counter = region.counter("views")
    counter.incr(5)
    old = region.replica
    peer_copy = counter.to_dict()

    wipe(client)
    assert counter.incr(2) == 2
    assert region.replica != old
    # The old slot comes back through a merge, and both slots count.
    counter.merge(peer_copy)
    assert counter.value() == 7
    assert counter.to_dict()["p"] == {old: 5, region.replica: 2}


def test_a_stale_process_adopts_the_new_incarnation(backend: Backend) -> None:
    client = backend()
    stale = RegionStore("eu", client)
    stale.counter("a").incr()
    wipe(client)
    fresh = RegionStore("eu", client)
    assert fresh.replica != stale.replica
    stale.counter("a").incr()
    stale.gset("s").add("x")
    assert stale.replica == fresh.replica
    assert fresh.counter("a").to_dict()["p"] == {fresh.replica: 1}


def test_a_first_batch_spanning_many_chunks_keeps_the_incarnation(client: Any) -> None:
    region = RegionStore("eu", client)
    first = region.replica
    region.incr_many({f"k{i}": 1 for i in range(16 * 300)})  # two chunks per shard
    assert region.replica == first
    assert RegionStore("eu", client).replica == first
