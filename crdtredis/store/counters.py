"""Counters in Redis: per-replica slots in one hash, incremented by one script call."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from crdtredis.crdt import GCounter, PNCounter, counter_value
from crdtredis.crdt.gcounter import check_amount
from crdtredis.store import codec
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import script

Counter = TypeVar("Counter", bound=GCounter | PNCounter)


class _RedisCounter(RedisObject[Counter]):
    def value(self) -> int:
        state = codec.decode_stored(self._fields())
        return 0 if state is None else counter_value(state)

    def _add(self, sign: str, n: int) -> int:
        amount = str(check_amount(n))
        p, n = self._write_with(
            script("counter_add"),
            lambda: [self.code, sign + self.region.replica, "1", self.name, amount],
        )
        return int(p) - int(n)


class RedisGCounter(_RedisCounter[GCounter]):
    """A grow-only counter (:class:`~crdtredis.crdt.GCounter`) in Redis."""

    pure_type: ClassVar[type[GCounter]] = GCounter

    def incr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this region's slot; return the new value."""
        return self._add("", n)

    def decr(self, n: int = 1) -> int:
        """Always raises ``ValueError``: a grow-only counter cannot go down."""
        raise ValueError(f"key {self.name!r} is a gcounter, which only grows; use a pncounter")


class RedisPNCounter(_RedisCounter[PNCounter]):
    """An up-and-down counter (:class:`~crdtredis.crdt.PNCounter`) in Redis."""

    pure_type: ClassVar[type[PNCounter]] = PNCounter

    def incr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this region's P slot; return the new value."""
        return self._add("", n)

    def decr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this region's N slot; return the new value."""
        return self._add("-", n)
