"""What the set types share: one field ``.<element>`` per element, read the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from redis.exceptions import ResponseError

from crdtredis.crdt import GSet, ORSet, TwoPhaseSet
from crdtredis.store.handle import RedisObject

AnySet = TypeVar("AnySet", bound=GSet | TwoPhaseSet | ORSet)


class RedisSet(RedisObject[AnySet]):
    """Reads shared by the set types: an element is a member when its field says so."""

    def _is_live(self, value: str | None) -> bool:
        return value is not None and value != "r"

    def members(self) -> set[str]:
        return {f[1:] for f, v in self._fields().items() if f[:1] == "." and self._is_live(v)}

    def __contains__(self, element: object) -> bool:
        if not isinstance(element, str):
            return False
        try:
            stored, value = self.region.client.hmget(self.key, ["", f".{element}"])
        except ResponseError as exc:
            raise self.obstacle(exc) from None
        self._check_code(stored)
        return self._is_live(value)

    def _remove(self, lua_name: str, element: str, *args: str) -> None:
        """Run a remove script; a refusal names the element that is not a member."""
        try:
            self._write(lua_name, *args)
        except KeyError:
            raise KeyError(f"{element!r} is not a member of set {self.name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.members()))

    def __len__(self) -> int:
        return len(self.members())


def set_summary(members: list[str], tombstones: int) -> dict[str, Any]:
    """What inspect shows of any set."""
    return {"members": sorted(members), "tombstones": tombstones}
