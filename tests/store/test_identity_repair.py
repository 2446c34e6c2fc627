"""Partial losses of a region's identity or shards: writers go on, and never reuse a slot value.

The identity key, a shard's head and its data can each be lost alone (a
cluster node lost, a partial restore). The region repairs what is missing on
the next write: a new identity outranks the heads left from before, a shard
that lost its data under a surviving identity gets a new incarnation, and a
head is never handed back to an older incarnation.
"""

from __future__ import annotations

import threading

from crdtredis.store import RegionStore
from tests.store.conftest import Backend


def test_a_lost_identity_key_does_not_lock_writers_out(backend: Backend) -> None:
    client = backend()
    eu = RegionStore("eu", client)
    eu.counter("c").incr()
    client.delete(eu.layout.identity_key)  # the identity alone is lost; the heads stay
    fresh = RegionStore("eu", client)
    assert fresh.counter("c").incr() == 2
    assert eu.counter("c").incr() == 3  # the old process adopts the new identity
    assert eu.replica == fresh.replica


def test_a_shard_that_lost_its_data_gets_a_new_incarnation(backend: Backend) -> None:
    client = backend()
    eu = RegionStore("eu", client)
    eu.counter("c").incr(5)
    old = eu.replica
    shard = eu.layout.shard_of("c")
    client.delete(eu.layout.head_key(shard), eu.layout.data_key("c"), eu.layout.changes_key(shard))
    assert eu.counter("c").incr() == 1
    assert eu.replica != old  # never counts on in the slot peers hold at 5
    eu.counter("c").merge({"type": "pncounter", "p": {old: 5}, "n": {}})
    assert eu.counter("c").value() == 6


def test_a_stale_process_cannot_hand_a_head_back_to_a_renewed_incarnation(
    backend: Backend,
) -> None:
    client = backend()
    stale, current = RegionStore("eu", client), RegionStore("eu", client)
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


def test_a_new_identity_outranks_heads_left_from_before(backend: Backend) -> None:
    client = backend()
    eu = RegionStore("eu", client)
    eu.counter("x").incr()
    eu.guard.renew("a test")  # epoch 2
    eu.counter("x").incr()
    client.delete(eu.layout.identity_key)
    again = RegionStore("eu", client)
    assert again.identity.epoch == 3
    assert again.counter("x").incr() == 3


def test_writers_giving_a_fresh_shard_its_head_at_once_take_it_for_no_loss(
    server_backend: Backend,
) -> None:
    """Two writers meet a shard with no head; the second must not see the first's
    mark as a loss (its head exists by then)."""
    for _ in range(30):
        client = server_backend()
        writers = [RegionStore("eu", client, shards=1) for _ in range(4)]
        incarnation = writers[0].incarnation
        start = threading.Barrier(len(writers))

        threads = [threading.Thread(target=write, args=(w, start)) for w in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert RegionStore("eu", client).incarnation == incarnation
        assert RegionStore("eu", client).counter("c").value() == len(writers)


def write(region: RegionStore, start: threading.Barrier) -> None:
    start.wait()
    region.counter("c").incr()
