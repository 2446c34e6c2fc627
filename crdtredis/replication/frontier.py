"""What every peer has merged of this region: the frontier below which nothing is needed.

Each pass from a peer reads that peer's cursor on this region (in the same
round trip as its heads) and keeps a copy here, ``crdt#merged:<peer>``. The
per-shard minimum over every configured peer is the *frontier*: a change of
this region at or below it has been merged by every peer. Collection of what
only peers could still need waits for it. A peer that is down, new, or never
pulled holds the frontier back: nothing is collected until it is back.

A peer that cannot reach this region may still merge it through a third
region (eu and ap cut apart, both reaching us). So each region also keeps
*relay checkpoints* for every region it pulls from (``crdt#relay:<origin>``):
pairs (v, w) per shard, "my cursor on the origin stood at v when my own
shard version was w". Everything up to v from the origin was recorded here
at or below w, so a region whose cursor on the relay has passed w has merged
the origin up to v. A pass from a relay reads its checkpoints for this region
and its copies of the other peers' cursors on it, in the same round trip,
and keeps what they prove (``crdt#relayed:<peer>:<relay>``). This needs the
relay and this region to share their shard count (the default).

Every copy counts only for the incarnations it was read in (a cursor on an
older incarnation says nothing about this one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crdtredis.replication.cursor import Cursor
from crdtredis.store.region import RegionStore

#: Relay checkpoints kept per shard: enough for a peer's cursor on the relay
#: to fall between two of them while the relay keeps writing.
CHECKPOINTS = 4


def remember(region: RegionStore, peer: str, theirs: Cursor | None) -> None:
    """Keep ``peer``'s cursor on this region as read in a pass (no cursor: forget it)."""
    _keep(region, region.layout.merged_key(peer), theirs)


def _keep(region: RegionStore, key: str, seen: Cursor | None) -> None:
    if seen is None or seen.incarnation != region.incarnation:
        region.client.delete(key)
        return
    fields: dict[str, str | int] = {"inc": seen.incarnation, "shards": len(seen.versions)}
    fields.update({str(s): v for s, v in enumerate(seen.versions)})
    region.client.hset(key, mapping=fields)


def checkpoint(region: RegionStore, origin: str, cursor: Cursor) -> None:
    """After a pass from ``origin``: note where this region's own versions stood meanwhile."""
    key = region.layout.relay_key(origin)
    stored = region.client.hgetall(key)
    same = (
        stored.get("inc") == cursor.incarnation
        and stored.get("local") == region.incarnation
        and stored.get("shards") == str(len(cursor.versions))
    )
    own = region.head_versions()
    fields: dict[str, str] = {
        "inc": str(cursor.incarnation),
        "local": region.incarnation,
        "shards": str(len(cursor.versions)),
    }
    for shard, pulled in enumerate(cursor.versions):
        pairs = parse_pairs(stored.get(str(shard), "")) if same else []
        if pulled and (not pairs or pulled > pairs[-1][0]):
            pairs = [*pairs, (pulled, own[shard])][-CHECKPOINTS:]
        fields[str(shard)] = ",".join(f"{v}:{w}" for v, w in pairs)
    region.client.hset(key, mapping=fields)


def parse_pairs(text: str) -> list[tuple[int, int]]:
    pairs = []
    for item in text.split(","):
        v, _, w = item.partition(":")
        if v.isdigit() and w.isdigit():
            pairs.append((int(v), int(w)))
    return pairs


def through(
    region: RegionStore,
    relay: str,
    relay_incarnation: str,
    checkpoints: Mapping[str, str] | None,
    cursors: Mapping[str, Cursor | None],
) -> None:
    """Keep what ``relay`` proves the other peers have merged of this region.

    ``checkpoints`` is the relay's record for this region as origin;
    ``cursors`` the relay's copies of each other peer's cursor on the relay.
    """
    shards = region.layout.shards
    valid = (
        checkpoints is not None
        and checkpoints.get("inc") == region.incarnation
        and checkpoints.get("local") == relay_incarnation
        and checkpoints.get("shards") == str(shards)
    )
    for peer, cursor in cursors.items():
        key = region.layout.relayed_key(peer, relay)
        if not valid or cursor is None or cursor.incarnation != relay_incarnation:
            region.client.delete(key)
            continue
        if len(cursor.versions) != shards:
            region.client.delete(key)
            continue
        assert checkpoints is not None
        versions = []
        for shard in range(shards):
            reached = [
                v
                for v, w in parse_pairs(checkpoints.get(str(shard), ""))
                if w <= cursor.versions[shard]
            ]
            versions.append(max(reached, default=0))
        _keep(region, key, Cursor(peer, region.incarnation, versions))


def merged_by(region: RegionStore, peer: str, relays: Iterable[str]) -> list[int] | None:
    """Per shard, how far ``peer`` has merged this region, directly or through ``relays``."""
    keys = [region.layout.merged_key(peer)]
    keys += [region.layout.relayed_key(peer, r) for r in relays if r != peer]
    pipe = region.client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    best: list[int] | None = None
    for fields in pipe.execute():
        seen = Cursor.parse(peer, fields)
        if (
            seen is None
            or seen.incarnation != region.incarnation
            or len(seen.versions) != region.layout.shards
        ):
            continue
        best = (
            list(seen.versions)
            if best is None
            else [max(a, b) for a, b in zip(best, seen.versions, strict=True)]
        )
    return best


def frontier(region: RegionStore, peers: Iterable[str]) -> list[int] | None:
    """Per shard, the version every peer in ``peers`` has merged; None if any peer is unknown."""
    names = list(peers)
    if not names:
        return None
    lowest: list[int] | None = None
    for name in names:
        merged = merged_by(region, name, names)
        if merged is None:
            return None
        lowest = (
            merged if lowest is None else [min(a, b) for a, b in zip(lowest, merged, strict=True)]
        )
    return lowest
