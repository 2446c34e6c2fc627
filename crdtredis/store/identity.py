"""A region's identity: its name and the incarnation of its Redis data.

The identity hash is created the first time a region meets a Redis that holds
none: on first start, and again after the data was lost. Each creation draws a
fresh random incarnation, and the region's replica id is
``<region>.<incarnation>``. A wiped region therefore never writes to a slot
its peers still hold from before the wipe (they keep that slot, and sync
brings it back); it counts in a new slot instead. The same holds for a region
rolled back to an older copy of itself: the identity records the server it
was confirmed on, and a restarted server renews the incarnation.
"""

from __future__ import annotations

import base64
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from crdtredis.errors import IdentityError

REGION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def check_region_name(region: object) -> str:
    if not isinstance(region, str) or not REGION_PATTERN.fullmatch(region):
        raise ValueError(
            f"region name {region!r} must be 1-32 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return region


def new_incarnation() -> str:
    """8 random base32 characters (40 bits): unique across every wipe in practice."""
    return base64.b32encode(os.urandom(5)).decode().lower()


@dataclass(frozen=True)
class RegionIdentity:
    """Who writes to a region's Redis: the region, its incarnation and shard count."""

    region: str
    incarnation: str
    shards: int
    created: float
    #: Grows by one at each renewal after a partial loss; shard heads carry it,
    #: so a head is only ever handed to a newer incarnation, never back.
    epoch: int = 1
    #: The server the identity was last confirmed on (run ids; see ``identity.lua``).
    server: str = ""

    @property
    def replica(self) -> str:
        """The replica id this region's own updates are counted under."""
        return f"{self.region}.{self.incarnation}"

    def to_fields(self) -> dict[str, str]:
        return {
            "region": self.region,
            "incarnation": self.incarnation,
            "replica": self.replica,
            "shards": str(self.shards),
            "created": f"{self.created:.6f}",
            "epoch": str(self.epoch),
            "server": self.server,
        }

    def to_args(self) -> list[str]:
        """The identity hash as script arguments: field, value, field, value, ..."""
        return [x for pair in self.to_fields().items() for x in pair]

    @classmethod
    def from_fields(cls, fields: dict[str, Any], where: str) -> RegionIdentity:
        """Parse the identity hash; raise ``IdentityError`` if it is not one of ours."""
        try:
            return cls(
                region=check_region_name(fields["region"]),
                incarnation=str(fields["incarnation"]),
                shards=int(fields["shards"]),
                created=float(fields["created"]),
                epoch=int(fields.get("epoch", 1)),
                server=str(fields.get("server", "")),
            )
        except (KeyError, ValueError) as exc:
            raise IdentityError(
                f"{where} holds a malformed region identity ({exc}); "
                "delete it only if this Redis holds no crdtredis data you need"
            ) from None

    @classmethod
    def fresh(cls, region: str, shards: int, epoch: int = 1, server: str = "") -> RegionIdentity:
        return cls(check_region_name(region), new_incarnation(), shards, time.time(), epoch, server)
