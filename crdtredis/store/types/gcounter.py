"""The grow-only counter in Redis: one slot field per replica, merged by per-slot max."""

from __future__ import annotations

from typing import Any

from crdtredis.crdt import GCounter
from crdtredis.store.types.slots import CounterType, RedisCounter


class GCounterType(CounterType):
    name = GCounter.type_name
    code = "g"
    pure = GCounter
    slot_fields = ("slots",)
    prefixes = ("",)

    def open(self, region: Any, name: str) -> RedisGCounter:
        return RedisGCounter(region, name)


GCOUNTER = GCounterType()


class RedisGCounter(RedisCounter[GCounter]):
    """A grow-only counter (:class:`~crdtredis.crdt.GCounter`) in Redis."""

    stored = GCOUNTER

    def incr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this region's slot; return the new value."""
        return self._add("", n)

    def decr(self, n: int = 1) -> int:
        """Always raises ``ValueError``: a grow-only counter cannot go down."""
        raise ValueError(f"key {self.name!r} is a gcounter, which only grows; use a pncounter")
