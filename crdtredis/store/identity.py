"""A region's identity: its name and the incarnation of its Redis data.

The identity hash is created the first time a region meets a Redis that holds
none: on first start, and again after the data was lost. Each creation draws a
fresh random incarnation and a fresh *replica id*, four random letters and
digits, under which the incarnation counts: a slot field in every counter,
the owner of every set tag and log id. A wiped region therefore never writes
to a slot its peers still hold from before the wipe (they keep that slot, and
sync brings it back); it counts in a new slot instead. The same holds for a
region rolled back to an older copy of itself: the identity records the
server it was confirmed on, and a restarted server renews the incarnation.

Replica ids are short because a counter holds one per slot (memory is what a
counter service pays for); what they stand for is in the *replica registry*,
fields ``r:<id>`` = ``<region>.<incarnation>`` of the identity hash. Every
pass copies the peer's registry before it merges anything, so a region knows
every id its objects hold, and inspect and the metrics show region names. A
renewal draws an id that no registered replica has. Two incarnations that
drew the same id without knowing of each other (62^4 ids: a chance of about
one in ten million per pair) are found when their registries meet, before
any of their objects do: passes between them are refused with an error.

The identity also records the key *layout version* (``layout``): a region
refuses a Redis, and a pass refuses a peer, written in another layout.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from crdtredis.errors import IdentityError, LayoutError

REGION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
#: Version of the key layout (:mod:`crdtredis.store.layout`) this code reads and writes.
LAYOUT_VERSION = 2
#: Characters of a replica id: letters and digits, which no field prefix uses.
REPLICA_ALPHABET = string.ascii_letters + string.digits
REPLICA_ID_LENGTH = 4
#: Fresh replica ids offered to a renewal, which takes the first not registered.
REPLICA_CANDIDATES = 4
#: Field prefix of the replica registry in the identity hash.
REGISTRY_PREFIX = "r:"
REPLICA_PATTERN = re.compile(f"[A-Za-z0-9]{{{REPLICA_ID_LENGTH}}}")
#: A registry entry's value: ``<region>.<incarnation>``.
OWNER_PATTERN = re.compile(REGION_PATTERN.pattern + r"\.[a-z2-7]{8}")


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


def new_replica_ids(count: int = REPLICA_CANDIDATES) -> list[str]:
    """``count`` random replica ids (the caller takes the first one not registered)."""
    return [
        "".join(secrets.choice(REPLICA_ALPHABET) for _ in range(REPLICA_ID_LENGTH))
        for _ in range(count)
    ]


def registry_of(fields: dict[str, Any]) -> dict[str, str]:
    """The replica registry in an identity hash: replica id -> ``<region>.<incarnation>``.

    Malformed entries (a corrupt or foreign peer) are left out, so they are
    never copied into another region's registry, where entries never change.
    """
    found = {}
    for f, v in fields.items():
        if f.startswith(REGISTRY_PREFIX):
            replica, owner = f[len(REGISTRY_PREFIX) :], str(v)
            if REPLICA_PATTERN.fullmatch(replica) and OWNER_PATTERN.fullmatch(owner):
                found[replica] = owner
    return found


def owner_of(entry: str | None) -> tuple[str, str | None]:
    """``(region, incarnation)`` from a registry entry; ``("?", None)`` when unknown."""
    if not entry:
        return "?", None
    region, _, incarnation = entry.partition(".")
    return region, incarnation or None


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
    #: The replica id this region's own updates are counted under.
    replica: str = ""
    #: The key layout version the data was written in.
    layout: int = LAYOUT_VERSION
    #: Every replica id known here -> ``<region>.<incarnation>``.
    replicas: dict[str, str] = field(default_factory=dict, compare=False)

    def to_fields(self) -> dict[str, str]:
        return {
            "region": self.region,
            "incarnation": self.incarnation,
            "replica": self.replica,
            "shards": str(self.shards),
            "created": f"{self.created:.6f}",
            "epoch": str(self.epoch),
            "server": self.server,
            "layout": str(self.layout),
            **{REGISTRY_PREFIX + r: owner for r, owner in self.replicas.items()},
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
                replica=str(fields["replica"]),
                layout=int(fields.get("layout", 1)),
                replicas=registry_of(fields),
            )
        except (KeyError, ValueError) as exc:
            raise IdentityError(
                f"{where} holds a malformed region identity ({exc}); "
                "delete it only if this Redis holds no crdtredis data you need"
            ) from None

    @classmethod
    def fresh(cls, region: str, shards: int, epoch: int = 1, server: str = "") -> RegionIdentity:
        incarnation, replica = new_incarnation(), new_replica_ids(1)[0]
        return cls(
            check_region_name(region),
            incarnation,
            shards,
            time.time(),
            epoch,
            server,
            replica,
            replicas={replica: f"{region}.{incarnation}"},
        )

    def check_layout(self, where: str) -> RegionIdentity:
        """This identity, if its data is in this code's key layout; else ``LayoutError``."""
        if self.layout != LAYOUT_VERSION:
            raise LayoutError(
                f"{where} holds crdtredis data in key layout {self.layout}, and this crdtredis "
                f"reads layout {LAYOUT_VERSION} only: run the same crdtredis version in every "
                "region (a Redis of another layout is never read or written)"
            )
        return self
