"""What every peer has merged of this region: the frontier below which nothing is needed.

Each pass from a peer reads that peer's cursor on this region together with
the peer's heads (atomically, or the cursor first) and keeps a copy here,
``crdt#merged:<peer>``. The per-shard minimum over every configured peer is
the *frontier*: an object whose last change here is at or below it has been
read, in that state or a later one, by every peer (a cursor at v means every
index entry at or below v was read, and an object changed again moves to a
higher version). Collection of what only peers could still need waits for
it. A peer that is down, new, never pulled, or reachable only through a
third region holds the frontier back: nothing is trimmed until it pulls from
this region again (tombstones may go earlier on relayed proof:
:mod:`crdtredis.replication.relay`).

A copy counts only once this region has also pulled the peer up to the heads
read with it. Merging this region's tombstone gave the peer a change of its
own, indexed at or below those heads; were it collected here before that
change was pulled, the pull would bring the tombstone back, and with it a new
change for every peer that had collected it too: remains going round the
regions for as long as their passes interleave. So a copy read in a pass
waits, *pending*, until this region's cursor on the peer covers its heads;
until then the last covered copy stands. One pending copy is kept at a time
(later ones are dropped until it is covered), so a peer written all the time
still moves the frontier.

The copies count only for this region's current incarnation (a cursor on an
older incarnation says nothing about this one) and the peer's current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crdtredis.replication.cursor import Cursor
from crdtredis.replication.peer import PeerHeads
from crdtredis.store.region import RegionStore

#: Prefix of the pending copy's fields in the ``merged`` hash.
PENDING = "next."


@dataclass(frozen=True)
class Pending:
    """A peer's cursor on this region and the peer's heads, as read in one pass."""

    cursor: Cursor
    #: The peer's head of each of its shards (None: a corrupt shard, never covered).
    heads: list[int | None]

    @classmethod
    def parse(cls, peer: str, fields: Mapping[str, str]) -> Pending | None:
        found = {k[len(PENDING) :]: v for k, v in fields.items() if k.startswith(PENDING)}
        cursor = Cursor.parse(peer, found)
        if cursor is None or "heads" not in found:
            return None
        try:
            heads = [None if h == "-" else int(h) for h in found["heads"].split(",")]
        except ValueError:
            return None
        return cls(cursor, heads)

    def fields(self) -> dict[str, str | int]:
        heads = ",".join("-" if h is None else str(h) for h in self.heads)
        return {PENDING + k: v for k, v in (*_fields(self.cursor).items(), ("heads", heads))}

    def covered_by(self, pulled: Cursor | None, local: str) -> bool:
        """Whether ``pulled`` (this region's cursor on the peer, written in this region's
        incarnation ``local``) is past every head."""
        return (
            pulled is not None
            and pulled.incarnation == self.cursor.local
            and pulled.local == local
            and len(pulled.versions) == len(self.heads)
            and all(
                h is not None and v >= h for v, h in zip(pulled.versions, self.heads, strict=True)
            )
        )

    def overtaken_by(self, later: Pending) -> bool:
        """Whether ``later`` (read in a later pass) shows this copy can never be
        covered, or is wrong: a head went back in time or was corrupt, the peer's
        shard count changed, or the peer's cursor went back (it started a shard of
        this region over)."""
        return (
            len(later.heads) != len(self.heads)
            or any(
                old is None or (new is not None and new < old)
                for old, new in zip(self.heads, later.heads, strict=True)
            )
            or _went_back(self.cursor, later.cursor)
        )


def _went_back(earlier: Cursor, later: Cursor) -> bool:
    return len(earlier.versions) != len(later.versions) or any(
        new < old for old, new in zip(earlier.versions, later.versions, strict=True)
    )


def _fields(cursor: Cursor) -> dict[str, str | int]:
    fields: dict[str, str | int] = {
        "inc": str(cursor.incarnation),
        "local": cursor.local,
        "shards": len(cursor.versions),
    }
    fields.update({str(s): v for s, v in enumerate(cursor.versions)})
    return fields


def _copies(
    region: RegionStore, peer: str, fields: Mapping[str, str]
) -> tuple[Cursor | None, Pending | None]:
    """The confirmed and pending copies in a ``merged`` hash, each only if it belongs to
    this region's current incarnation."""
    confirmed = Cursor.parse(peer, fields)
    waiting = Pending.parse(peer, fields)
    if confirmed is not None and confirmed.incarnation != region.incarnation:
        confirmed = None
    if waiting is not None and waiting.cursor.incarnation != region.incarnation:
        waiting = None
    return confirmed, waiting


def remember(region: RegionStore, peer: str, read: PeerHeads, peer_incarnation: str) -> None:
    """Keep ``peer``'s cursor on this region, read with the peer's heads in a pass, as
    pending (no cursor: forget every copy).

    A cursor the peer wrote in an older incarnation of its own
    (``peer_incarnation`` is its current one) is forgotten too: the peer
    lost data since, and starts that cursor over at its next pass. A
    pending copy already covered is promoted first; one not covered yet is
    kept, and this one dropped, unless this one shows it can never be
    covered. A cursor that went back forgets every copy above it.
    """
    key = region.layout.merged_key(peer)
    theirs = read.cursor_on_puller
    if (
        theirs is None
        or theirs.incarnation != region.incarnation
        or theirs.local != peer_incarnation
    ):
        region.client.delete(key)
        return
    stored = region.client.hgetall(key)
    confirmed, waiting = _copies(region, peer, stored)
    later = Pending(theirs, list(read.versions))
    if confirmed is not None and (
        confirmed.local != peer_incarnation or _went_back(confirmed, theirs)
    ):
        confirmed = None
    if waiting is not None and (
        waiting.cursor.local != peer_incarnation or waiting.overtaken_by(later)
    ):
        waiting = None
    if waiting is not None and not waiting.covered_by(
        Cursor.stored(region, peer), region.incarnation
    ):
        later = waiting  # kept until covered: this copy is dropped
    elif waiting is not None:
        confirmed = waiting.cursor
    if confirmed is None and Cursor.parse(peer, stored) is not None:
        region.client.delete(key)  # first: a reader meanwhile sees less, never a stale copy
    region.client.hset(key, mapping={**later.fields(), **(_fields(confirmed) if confirmed else {})})


def latest_copy(peer: str, fields: Mapping[str, str]) -> Cursor | None:
    """The newest copy of ``peer``'s cursor in a ``merged`` hash, covered or not.

    What a peer has merged is true of it whether or not this region pulled
    its heads since: a relay's proof to a third region
    (:mod:`crdtredis.replication.relay`) and the count of changes a peer has
    not merged yet are read from this one.
    """
    waiting = Pending.parse(peer, fields)
    return waiting.cursor if waiting is not None else Cursor.parse(peer, fields)


def merged_by(region: RegionStore, peer: str, covered: bool = True) -> list[int] | None:
    """Per shard, how far ``peer`` has merged this region; None when not known.

    With ``covered`` (what collection goes by), only copies whose heads this
    region has pulled count; without it, the latest copy read.
    """
    fields = region.client.hgetall(region.layout.merged_key(peer))
    seen: Cursor | None
    if covered:
        seen, waiting = _copies(region, peer, fields)
        if waiting is not None and waiting.covered_by(
            Cursor.stored(region, peer), region.incarnation
        ):
            seen = waiting.cursor
    else:
        seen = latest_copy(peer, fields)
    if (
        seen is None
        or seen.incarnation != region.incarnation
        or len(seen.versions) != region.layout.shards
    ):
        return None
    return list(seen.versions)


def merged_by_each(
    region: RegionStore, peers: Iterable[str], covered: bool = True
) -> dict[str, list[int] | None]:
    """:func:`merged_by` of every peer in ``peers``."""
    return {peer: merged_by(region, peer, covered) for peer in peers}


def frontier(merged: Mapping[str, list[int] | None]) -> list[int] | None:
    """Per shard, the version every peer in ``merged`` (:func:`merged_by_each`) has
    merged; None if any peer is unknown, or there is none."""
    if not merged or any(versions is None for versions in merged.values()):
        return None
    known = [versions for versions in merged.values() if versions is not None]
    return [min(column) for column in zip(*known, strict=True)]
