"""The up-and-down counter in Redis: slots ``<replica>`` count up, ``-<replica>`` down."""

from __future__ import annotations

from typing import Any

from crdtredis.crdt import PNCounter
from crdtredis.store.types.slots import CounterType, RedisCounter


class PNCounterType(CounterType):
    name = PNCounter.type_name
    code = "pn"
    pure = PNCounter
    slot_fields = ("p", "n")
    prefixes = ("", "-")

    def open(self, region: Any, name: str) -> RedisPNCounter:
        return RedisPNCounter(region, name)


PNCOUNTER = PNCounterType()


class RedisPNCounter(RedisCounter[PNCounter]):
    """An up-and-down counter (:class:`~crdtredis.crdt.PNCounter`) in Redis."""

    stored = PNCOUNTER

    def incr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this region's P slot; return the new value."""
        return self._add("", n)

    def decr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this region's N slot; return the new value."""
        return self._add("-", n)
