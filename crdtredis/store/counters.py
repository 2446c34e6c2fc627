"""Counters in Redis: per-replica slots in one hash, incremented by one script call."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from crdtredis.crdt import GCounter, PNCounter
from crdtredis.crdt.gcounter import check_amount
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import script


def counter_value(type_name: str, fields: dict[str, str]) -> int:
    """The value of a counter hash: sum of P slots minus sum of N slots."""
    total = 0
    for field, count in fields.items():
        if field:
            total += -int(count) if field[0] == "-" and type_name == "pncounter" else int(count)
    return total


Counter = TypeVar("Counter", bound=GCounter | PNCounter)


class _RedisCounter(RedisObject[Counter]):
    def value(self) -> int:
        return counter_value(self.type_name, self._fields())

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
