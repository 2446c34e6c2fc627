"""What the set types share: one field ``.<element>`` per element, read the same way."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from crdtredis.crdt import GSet, ORSet, TwoPhaseSet
from crdtredis.store.handle import RedisObject

AnySet = TypeVar("AnySet", bound=GSet | TwoPhaseSet | ORSet)


class RedisSet(RedisObject[AnySet]):
    """Reads shared by the set types: an element is a member when its field says so."""

    def _is_live(self, value: str | None) -> bool:
        return value is not None and value != "r"

    def members(self) -> set[str]:
        return self.members_in(self._fields())

    def members_in(self, fields: Mapping[str, str]) -> set[str]:
        """The members of the set's hash ``fields``."""
        return {f[1:] for f, v in fields.items() if f[:1] == "." and self._is_live(v)}

    def __contains__(self, element: object) -> bool:
        if not isinstance(element, str):
            return False
        with self.domain_errors():
            found = self.region.client.hmget(self.key, ["", f".{element}"])
        return self.member_in(found)

    def member_in(self, found: list[str | None]) -> bool:
        """Whether an element is a member, from ``HMGET`` of the type field and its field."""
        self._check_code(found[0])
        return self._is_live(found[1])

    def _remove(self, lua_name: str, element: str, *args: str) -> None:
        """Run a remove script; a refusal names the element that is not a member."""
        with self.not_a_member(element):
            self._write(lua_name, *args)

    @contextmanager
    def not_a_member(self, element: str) -> Iterator[None]:
        """A remove's refusal (``KeyError``) as one that names the element and the set."""
        try:
            yield
        except KeyError:
            raise KeyError(f"{element!r} is not a member of set {self.name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.members()))

    def __len__(self) -> int:
        return len(self.members())


def set_summary(members: list[str], tombstones: int) -> dict[str, Any]:
    """What inspect shows of any set."""
    return {"members": sorted(members), "tombstones": tombstones}
