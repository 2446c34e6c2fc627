"""How far this region has pulled from a peer: one version per peer shard.

A cursor belongs to one incarnation of the peer (and its shard count), and
to the local incarnation it was written in. When the peer's identity
differs, the cursor means nothing and the pass starts from zero: a full
resync. When the local incarnation differs, the local Redis lost data (a
wipe, a restore) after the cursor was written, or a pass that started before
the loss wrote it into the fresh Redis; either way the keys it counts as
pulled may be gone, so the pass starts from zero too. Cursors only move
forward within one pair of incarnations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crdtredis.store.identity import RegionIdentity
from crdtredis.store.region import RegionStore
from crdtredis.store.scripts import script


@dataclass
class Cursor:
    peer: str
    #: The peer's incarnation the versions belong to.
    incarnation: str | None
    versions: list[int]
    #: This region's incarnation the cursor was loaded in and is written for.
    local: str = ""

    @classmethod
    def load(
        cls,
        region: RegionStore,
        peer: str,
        identity: RegionIdentity,
        local: str = "",
        stored: Cursor | None = None,
    ) -> tuple[Cursor, bool]:
        """This region's cursor for ``peer``; True as second item when it was reset.

        A cursor stored for another incarnation or shard count of the peer,
        or in another local incarnation than ``local`` (the region's current
        one by default), is reset to zero (full resync). ``stored`` is the
        cursor as this pass already read it (read here when not given).
        """
        local = local or region.incarnation
        found = stored or cls.stored(region, peer)
        if (
            found is None
            or found.incarnation != identity.incarnation
            or len(found.versions) != identity.shards
            or found.local != local
        ):
            return cls(peer, identity.incarnation, [0] * identity.shards, local), True
        return found, False

    @classmethod
    def stored(cls, region: RegionStore, peer: str) -> Cursor | None:
        """This region's cursor for ``peer`` as stored, whatever it belongs to; None if none."""
        return cls.parse(peer, region.client.hgetall(region.layout.cursor_key(peer)))

    @classmethod
    def parse(cls, peer: str, fields: Mapping[str, str]) -> Cursor | None:
        """A cursor from its stored hash (here or in a peer); None when absent or malformed."""
        try:
            shards = int(fields["shards"])
            versions = [int(fields.get(str(s), 0)) for s in range(shards)]
            return cls(peer, fields["inc"], versions, fields.get("local", ""))
        except (KeyError, ValueError):
            return None

    def advance(self, region: RegionStore, updates: dict[int, int]) -> None:
        """Record new versions (never moving back) in this region's Redis."""
        if not updates:
            return
        args: list[str] = [str(self.incarnation), str(len(self.versions)), self.local]
        for shard, version in updates.items():
            args += [str(shard), str(version)]
            self.versions[shard] = max(self.versions[shard], version)
        region.scripts.call(script("cursor_advance"), [region.layout.cursor_key(self.peer)], args)

    def rewind(self, region: RegionStore, shard: int) -> None:
        """Start one shard over from zero (the peer's shard went back in time)."""
        self.versions[shard] = 0
        region.client.hset(region.layout.cursor_key(self.peer), str(shard), 0)

    @property
    def total(self) -> int:
        return sum(self.versions)
