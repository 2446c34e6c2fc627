"""What every peer has merged of this region: the frontier below which nothing is needed.

Each pass from a peer reads that peer's cursor on this region (in the same
round trip as its heads) and keeps a copy here, ``crdt#merged:<peer>``. The
per-shard minimum over every configured peer is the *frontier*: an object
whose last change here is at or below it has been read, in that state or a
later one, by every peer (a cursor at v means every index entry at or below v
was read, and an object changed again moves to a higher version). Collection
of what only peers could still need waits for it. A peer that is down, new,
never pulled, or reachable only through a third region holds the frontier
back: nothing is trimmed until it pulls from this region again (tombstones
may go earlier on relayed proof: :mod:`crdtredis.replication.relay`).

The copies count only for this region's current incarnation (a cursor on an
older incarnation says nothing about this one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crdtredis.replication.cursor import Cursor
from crdtredis.store.region import RegionStore


def remember(region: RegionStore, peer: str, theirs: Cursor | None, peer_incarnation: str) -> None:
    """Keep ``peer``'s cursor on this region as read in a pass (no cursor: forget it).

    A cursor the peer wrote in an older incarnation of its own
    (``peer_incarnation`` is its current one) is forgotten too: the peer
    lost data since, and starts that cursor over at its next pass.
    """
    key = region.layout.merged_key(peer)
    if (
        theirs is None
        or theirs.incarnation != region.incarnation
        or theirs.local != peer_incarnation
    ):
        region.client.delete(key)
        return
    fields: dict[str, str | int] = {"inc": theirs.incarnation, "shards": len(theirs.versions)}
    fields.update({str(s): v for s, v in enumerate(theirs.versions)})
    region.client.hset(key, mapping=fields)


def merged_by(region: RegionStore, peer: str) -> list[int] | None:
    """Per shard, how far ``peer`` has merged this region; None when not known."""
    seen = Cursor.parse(peer, region.client.hgetall(region.layout.merged_key(peer)))
    if (
        seen is None
        or seen.incarnation != region.incarnation
        or len(seen.versions) != region.layout.shards
    ):
        return None
    return list(seen.versions)


def merged_by_each(region: RegionStore, peers: Iterable[str]) -> dict[str, list[int] | None]:
    """:func:`merged_by` of every peer in ``peers``."""
    return {peer: merged_by(region, peer) for peer in peers}


def frontier(merged: Mapping[str, list[int] | None]) -> list[int] | None:
    """Per shard, the version every peer in ``merged`` (:func:`merged_by_each`) has
    merged; None if any peer is unknown, or there is none."""
    if not merged or any(versions is None for versions in merged.values()):
        return None
    known = [versions for versions in merged.values() if versions is not None]
    return [min(column) for column in zip(*known, strict=True)]
