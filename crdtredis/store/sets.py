"""Sets in Redis: one hash per set, one field per element (plus tags or tombstones)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, TypeVar

from crdtredis.crdt import GSet, ORSet, TwoPhaseSet
from crdtredis.crdt.gset import check_element
from crdtredis.crdt.orset import Tag
from crdtredis.store import codec
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import script

AnySet = TypeVar("AnySet", bound=GSet | TwoPhaseSet | ORSet)


class _RedisSet(RedisObject[AnySet]):
    """Reads shared by the set types: an element is a member when its field says so."""

    def _is_live(self, value: str | None) -> bool:
        return value is not None and value != "r"

    def members(self) -> set[str]:
        return {f[1:] for f, v in self._fields().items() if f[:1] == "." and self._is_live(v)}

    def __contains__(self, element: object) -> bool:
        if not isinstance(element, str):
            return False
        stored, value = self.region.client.hmget(self.key, ["", f".{element}"])
        self._check_code(stored)
        return self._is_live(value)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.members()))

    def __len__(self) -> int:
        return len(self.members())

    def add(self, element: str) -> None:
        self._write("set_update", self.name, self.code, "add", check_element(element), "")


class RedisGSet(_RedisSet[GSet]):
    """A grow-only set (:class:`~crdtredis.crdt.GSet`) in Redis."""

    pure_type: ClassVar[type[GSet]] = GSet


class RedisTwoPhaseSet(_RedisSet[TwoPhaseSet]):
    """A remove-once set (:class:`~crdtredis.crdt.TwoPhaseSet`) in Redis."""

    pure_type: ClassVar[type[TwoPhaseSet]] = TwoPhaseSet

    def remove(self, element: str) -> None:
        """Remove ``element`` for good; ``KeyError`` if it is not a member."""
        self._write("set_update", self.name, self.code, "remove", check_element(element), "")


class RedisORSet(_RedisSet[ORSet]):
    """An observed-remove set (:class:`~crdtredis.crdt.ORSet`) in Redis."""

    pure_type: ClassVar[type[ORSet]] = ORSet

    def add(self, element: str) -> Tag:  # type: ignore[override]
        """Add ``element`` under a fresh tag, which is returned."""
        check_element(element)
        tag = self._write_with(
            script("set_update"),
            lambda: [self.name, self.code, "add", element, self.region.replica],
        )
        counter, replica = codec.parse_id(tag)
        return replica, counter

    def remove(self, element: str) -> None:
        """Remove ``element`` as observed here; ``KeyError`` if it is not a member."""
        self._write("set_update", self.name, self.code, "remove", check_element(element), "")

    def tombstones(self) -> int:
        return sum(len(v.split(",")) for f, v in self._fields().items() if f[:1] == "~")
