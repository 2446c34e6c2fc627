"""Concurrent writers on one real server: nothing acknowledged is lost."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence

import pytest

from crdtredis.crdt import PNCounter
from crdtredis.store import RegionStore
from tests.conftest import ServerFactory

pytestmark = pytest.mark.integration

WRITERS = 4
INCREMENTS = 10_000


def increment(url: str, name: str, times: int) -> None:
    counter = RegionStore("eu", url).counter(name)
    for _ in range(times):
        counter.incr()


def merge_peers(url: str, name: str, rounds: int) -> None:
    """A sync worker's view: peer states whose slots keep growing, merged in."""
    region = RegionStore("eu", url)
    peers = [PNCounter(f"peer{i}.x") for i in range(3)]
    for round_ in range(rounds):
        for i, peer in enumerate(peers):
            peer.incr(i + 1)
            if round_ % 3 == 0:
                peer.decr()
        region.merge_many({name: peers[round_ % 3].to_dict()})
        region.counter(name).merge(PNCounter.from_dict(peers[(round_ + 1) % 3].to_dict(), "x"))
    for peer in peers:
        region.counter(name).merge(peer)


def run(processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
        assert p.exitcode == 0


def test_four_processes_lose_no_increment(redis_servers: ServerFactory) -> None:
    url = redis_servers().url
    ctx = multiprocessing.get_context("spawn")
    run([ctx.Process(target=increment, args=(url, "likes", INCREMENTS)) for _ in range(WRITERS)])
    assert RegionStore("eu", url).counter("likes").value() == WRITERS * INCREMENTS


def test_increments_interleaved_with_merges_lose_nothing(redis_servers: ServerFactory) -> None:
    url = redis_servers().url
    ctx = multiprocessing.get_context("spawn")
    rounds = 300
    run(
        [ctx.Process(target=increment, args=(url, "likes", INCREMENTS)) for _ in range(WRITERS)]
        + [ctx.Process(target=merge_peers, args=(url, "likes", rounds))]
    )
    region = RegionStore("eu", url)
    state = region.counter("likes").to_dict()
    own = [v for r, v in state["p"].items() if r == region.replica]
    assert own == [WRITERS * INCREMENTS]
    peer_p = {f"peer{i}.x": (i + 1) * rounds for i in range(3)}
    peer_n = {f"peer{i}.x": (rounds + 2) // 3 for i in range(3)}
    assert {r: v for r, v in state["p"].items() if r.startswith("peer")} == peer_p
    assert state["n"] == peer_n
    expected = WRITERS * INCREMENTS + sum(peer_p.values()) - sum(peer_n.values())
    assert RegionStore("eu", url).counter("likes").value() == expected
