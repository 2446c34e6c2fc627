"""Relayed proof: what a peer this region cannot reach has merged, shown by a middle region.

When eu and ap cannot reach each other but both reach us, ap merges eu's
changes through us, and its cursor on eu says nothing. A per-shard cursor of
ap on us does not say it either: us's cursor on eu (past an object's change)
says what us read, and an object us changed again moves past the cursors of
the regions behind it. So the proof is per object, and read at the relay:

  1. the relay ``r`` has merged this region past the object's last change
     here (r's cursor on this region, read at r, in r's incarnation and
     this region's; the object not kept out there by a key of another
     kind), so r's copy of the object holds everything this region's holds;
  2. at r, the object's change index entry stands at ``w`` and r's copy of
     ``p``'s cursor on r is at least ``w``, read in that order (the copy
     first). The copy was taken at some moment when p had read every entry
     of r's index up to it; ``w`` was given before that moment (a cursor is
     never past its source's head), and the object stayed at ``w`` since
     (it still is there, and versions only grow). So p read the object at
     ``w`` or later: it holds everything r held at 1., the tombstones
     included. If the object has no entry at r, its last change there was
     trimmed (r's pull merged it, so it was indexed), at or below r's trim
     mark of the shard read after the entry: a copy at or past that mark
     shows p read it.

Then p holds this region's tombstones of the object as surely as if it had
pulled them here, and collecting them here cannot be undone by p. A copy
written in another incarnation of r or of p proves nothing (r forgets
those). Only one middle region is looked through. Objects proven so are
collected but their index entries stay: p still reads them here once the
direct link is back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from crdtredis.replication import frontier
from crdtredis.replication.cursor import Cursor
from crdtredis.replication.peer import Peer
from crdtredis.store.layout import KeyLayout

#: (name, version here) of the candidate objects of one shard.
Candidates = list[tuple[str, int]]


@dataclass(frozen=True)
class Held:
    """One shard's candidates, and per candidate the peers whose own cursor is behind it."""

    shard: int
    candidates: Candidates
    behind: dict[str, set[str]]


def held_back(shard: int, entries: Candidates, merged: Mapping[str, list[int] | None]) -> Held:
    """For each entry, the peers that have not pulled it here (none known: all of them)."""
    behind = {
        name: {p for p, versions in merged.items() if versions is None or versions[shard] < v}
        for name, v in entries
    }
    return Held(shard, entries, behind)


@dataclass(frozen=True)
class Puller:
    """The region asking: its name and incarnation (relays hold cursors on it)."""

    name: str
    incarnation: str


def proven(
    held: Sequence[Held],
    merged: Mapping[str, list[int] | None],
    relays: Mapping[str, Peer],
    asking: Puller,
    far: Collection[str],
) -> set[str]:
    """The candidates every peer behind them has merged through some middle region.

    ``merged`` (this region's copies of its peers' cursors) only picks the
    relays worth asking; the proof is read at the relay itself. Unreachable
    relays prove nothing (their errors are swallowed: collection waits).
    Only peers in ``far`` (cut off from this region) are looked for through
    relays: a peer this region still pulls from holds its candidates back
    until this region has pulled its change of them (see
    :mod:`crdtredis.replication.frontier`), or that change would bring the
    tombstones back here.
    """
    wanted = {
        name: set(ps) for h in held for name, ps in h.behind.items() if ps and set(ps) <= set(far)
    }
    if not wanted:
        return set()
    shown: dict[str, set[str]] = {name: set() for name in wanted}
    for relay, peer in relays.items():
        versions = merged.get(relay)
        if versions is None:
            continue
        asked = [
            (name, h.shard, v)
            for h in held
            for name, v in h.candidates
            if name in wanted and versions[h.shard] >= v and wanted[name] - {relay}
        ]
        if asked:
            peers = {p for name, _, _ in asked for p in wanted[name]}
            for name, readers in _shown_by(peer, asked, peers, asking):
                shown[name] |= readers
    return {name for name, peers in wanted.items() if peers <= shown[name]}


def _shown_by(
    relay: Peer, asked: list[tuple[str, int, int]], peers: set[str], asking: Puller
) -> list[tuple[str, set[str]]]:
    """Per (name, shard here, version here), the peers the relay shows to have read
    the object in a state holding this region's version of it.

    Everything is read at the relay, in this order: its cursor on this
    region (condition 1, so that a relay wiped or restored since this
    region's copy of that cursor proves nothing), its copies of the peers'
    cursors, then per object its entry, its shard's trim mark and owning
    incarnation, and whether a local obstacle kept it out (a key of another
    kind there: the relay's cursor moved on without it). All must belong to
    the relay's incarnation as opened.
    """
    read = _read_at(relay, asked, peers, asking)
    if read is None:
        return []
    incarnation, on_asking, copied, replies, layout = read
    theirs = Cursor.parse(asking.name, on_asking) if isinstance(on_asking, dict) else None
    if theirs is None or theirs.incarnation != asking.incarnation or theirs.local != incarnation:
        return []
    copies: dict[str, list[int]] = {}
    for p, fields in copied.items():
        cursor = frontier.latest_copy(p, fields) if isinstance(fields, dict) else None
        if cursor is not None and cursor.incarnation == incarnation:
            copies[p] = cursor.versions
    shown = []
    for i, (name, here_shard, version) in enumerate(asked):
        score, (trim, head_inc), obstructed = replies[3 * i : 3 * i + 3]
        pulled = len(theirs.versions) > here_shard and theirs.versions[here_shard] >= version
        if not pulled or obstructed or head_inc != incarnation or (score is None and not trim):
            continue
        # No entry: the object's last change there was trimmed, at or below the
        # trim mark read after it; a peer whose cursor is past that mark read it.
        needed = float(score) if score is not None else int(trim)
        shard = layout.shard_of(name)
        readers = {
            p
            for p, versions in copies.items()
            if len(versions) > shard and versions[shard] >= needed
        }
        shown.append((name, readers))
    return shown


def _read_at(
    relay: Peer, asked: list[tuple[str, int, int]], peers: set[str], asking: Puller
) -> tuple[str, Any, dict[str, Any], list[Any], KeyLayout] | None:
    """The relay's incarnation, then (one round trip) its cursor on the asking region
    and its copies of ``peers``' cursors (by peer), then (a second: on a
    cluster a pipeline's parts run on several nodes at once) per object its
    entry, its shard's trim mark and owner, and whether it is kept out there."""
    try:
        source = relay.open()
        if source is None:
            return None
        layout = source.layout
        ordered = sorted(peers - {relay.name})
        pipe = relay.client.pipeline(transaction=False)
        pipe.hgetall(layout.cursor_key(asking.name))
        for p in ordered:
            pipe.hgetall(layout.merged_key(p))
        on_asking, *copies = pipe.execute()
        pipe = relay.client.pipeline(transaction=False)
        for name, _, _ in asked:
            shard = layout.shard_of(name)
            pipe.zscore(layout.changes_key(shard), name)
            pipe.hmget(layout.head_key(shard), "trim", "inc")
            pipe.sismember(layout.retry_key(asking.name), name)
        copied = dict(zip(ordered, copies, strict=True))
        return source.identity.incarnation, on_asking, copied, pipe.execute(), layout
    except (redis.exceptions.RedisError, OSError, ValueError):
        return None
