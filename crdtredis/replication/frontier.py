"""What every peer has merged of this region: the frontier below which nothing is needed.

Each pass from a peer reads that peer's cursor on this region (in the same
round trip as its heads) and keeps a copy here, ``crdt#merged:<peer>``. The
per-shard minimum over every configured peer is the *frontier*: a change of
this region at or below it has been merged by every peer. Collection of what
only peers could still need (graves today; tombstones and change index
entries next) waits for it. A peer that is down, new, or never pulled holds
the frontier at nothing: nothing is collected until it is back.

The copies count only for this region's current incarnation (a cursor on an
older incarnation says nothing about this one).
"""

from __future__ import annotations

from collections.abc import Iterable

from crdtredis.replication.cursor import Cursor
from crdtredis.store.region import RegionStore


def remember(region: RegionStore, peer: str, theirs: Cursor | None) -> None:
    """Keep ``peer``'s cursor on this region as read in a pass (no cursor: forget it)."""
    key = region.layout.merged_key(peer)
    if theirs is None or theirs.incarnation != region.incarnation:
        region.client.delete(key)
        return
    fields = {"inc": theirs.incarnation, "shards": len(theirs.versions)}
    fields.update({str(s): v for s, v in enumerate(theirs.versions)})
    region.client.hset(key, mapping=fields)


def frontier(region: RegionStore, peers: Iterable[str]) -> list[int] | None:
    """Per shard, the version every peer in ``peers`` has merged; None if any peer is unknown."""
    names = list(peers)
    if not names:
        return None
    pipe = region.client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(region.layout.merged_key(name))
    lowest: list[int] | None = None
    for name, fields in zip(names, pipe.execute(), strict=True):
        seen = Cursor.parse(name, fields)
        if (
            seen is None
            or seen.incarnation != region.incarnation
            or len(seen.versions) != region.layout.shards
        ):
            return None
        lowest = (
            seen.versions
            if lowest is None
            else [min(a, b) for a, b in zip(lowest, seen.versions, strict=True)]
        )
    return lowest
