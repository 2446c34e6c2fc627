"""Expiry as replicated state: one last-writer-wins register per object, and graves.

An object's expiry is the field ``@`` of its hash: ``<expire_ms>/<set_ms>/<replica>``,
the absolute time it expires (0: never, a ``persist``), when it was set and
by whom. Concurrent settings resolve by the later ``set_ms`` (then the
larger replica id): the same winner in every region, whatever the order.

Once an object's expiry time has passed (by the merging region's clock) it is
gone: Redis frees it with ``PEXPIREAT`` at that time, and a merge never
writes a state whose winning expiry has passed. What ended it stays as a
*grave* (field ``~<name>`` of the shard's head, the expiry that ended it), so
that:

- a peer that pulls the name finds the grave instead of an empty hash and
  ends its own copy too, even one that never learned of the expiry (and
  passes the grave on to regions that pull only through it);
- a write after the expiry starts a new *life*: the new object carries the
  grave as field ``*`` (the death it was born after). A merge ends any life
  of the name that the death ended (born before it, with no later expiry
  setting of its own) instead of joining it into the new one.

Every time here is in milliseconds of the clock of the region that took it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from crdtredis.crdt.interface import check_replica_id

#: Fields of an object's hash that belong to its life, not to its type.
EXPIRY_FIELD = "@"
BIRTH_FIELD = "*"
LIFE_FIELDS = (EXPIRY_FIELD, BIRTH_FIELD)

#: Latest expiry accepted (year 9999): later is refused as a mistake.
MAX_EXPIRE_MS = 253_402_300_799_000

Clock = Callable[[], float]


@dataclass(frozen=True, order=True)
class ExpirySetting:
    """One setting of an object's expiry: ordered by (set_ms, replica), the LWW order."""

    set_ms: int
    replica: str
    #: When the object expires, in Unix milliseconds; 0 for never (persist).
    expire_ms: int

    def encode(self) -> str:
        return f"{self.expire_ms}/{self.set_ms}/{self.replica}"

    @classmethod
    def parse(cls, text: str) -> ExpirySetting:
        """Read a stored setting; ``ValueError`` when it is not one."""
        parts = text.split("/", 2)
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
            raise ValueError(f"expiry {text[:60]!r} is not <expire_ms>/<set_ms>/<replica>")
        expire_ms, set_ms = int(parts[0]), int(parts[1])
        if expire_ms > MAX_EXPIRE_MS or set_ms > MAX_EXPIRE_MS:
            raise ValueError(f"expiry {text[:60]!r} is out of range")
        return cls(set_ms, check_replica_id(parts[2]), expire_ms)


def check_life_fields(fields: dict[str, str]) -> dict[str, str]:
    """The life fields of a peer's hash, checked; ``ValueError`` for a malformed one."""
    found = {f: fields[f] for f in LIFE_FIELDS if f in fields}
    for value in found.values():
        ExpirySetting.parse(value)
    return found


def expire_ms_after(seconds: object, clock: Clock) -> int:
    """The absolute expiry ``seconds`` from now; ``ValueError`` unless a positive number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"a TTL must be a number of seconds, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a TTL must be a positive number of seconds, got {seconds}")
    return check_expire_at(clock() + seconds)


def check_expire_at(unix_time: object) -> int:
    """An absolute expiry (Unix seconds) in milliseconds; ``ValueError`` when not a time."""
    if isinstance(unix_time, bool) or not isinstance(unix_time, int | float):
        raise ValueError(f"an expiry time must be Unix seconds, got {type(unix_time).__name__}")
    if not math.isfinite(unix_time) or unix_time <= 0 or unix_time * 1000 > MAX_EXPIRE_MS:
        raise ValueError(f"an expiry time must be Unix seconds before year 10000, got {unix_time}")
    return math.ceil(unix_time * 1000)


def now_ms(clock: Clock = time.time) -> int:
    return int(clock() * 1000)
