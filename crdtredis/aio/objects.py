"""Awaitable handles: each wraps the blocking handle of the same object, which gives
its keys, the scripts and arguments of its writes and reads, the reading of its
hash and the errors; these only await the round trips."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crdtredis.crdt.orset import Tag
from crdtredis.store.handle import RedisObject, WriteCall
from crdtredis.store.types import RedisCounterMap, RedisORSet, RedisPNCounter
from crdtredis.store.types.countermap import SIZE, ranked
from crdtredis.store.types.orset import tag_of
from crdtredis.store.types.slots import value_after

if TYPE_CHECKING:
    from crdtredis.aio.region import AsyncRegion

Handle = TypeVar("Handle", bound=RedisObject[Any])


class AsyncObject(Generic[Handle]):
    """What every awaitable handle shares: the blocking handle, typed reads, guarded writes."""

    def __init__(self, region: AsyncRegion, blocking: Handle) -> None:
        self.region = region
        #: The blocking handle of the same object: keys, calls, decoding, errors.
        self.blocking = blocking
        self.name = blocking.name

    async def _fields(self) -> dict[str, str]:
        with self.blocking.domain_errors():
            found: dict[str, str] = await self.region.client.hgetall(self.blocking.key)  # type: ignore[assignment]
        self.blocking._check_code(found.get(""))
        return found

    async def _write(self, call: WriteCall) -> Any:
        handle = self.blocking
        with handle.domain_errors():
            return await self.region.write(handle.shard, handle.keys, *call)

    async def exists(self) -> bool:
        return self.blocking.exists_in(await self._fields())

    async def delete(self) -> bool:
        """Remove what this region has observed (see ``RedisObject.delete``)."""
        return bool(await self.region.delete(self.name))

    async def to_dict(self) -> dict[str, Any]:
        return self.blocking.state_in(await self._fields())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, region={self.region.name!r})"


class AsyncCounter(AsyncObject[RedisPNCounter]):
    """An up-and-down counter; ``await counter.incr()``."""

    async def incr(self, n: int = 1) -> int:
        """Add ``n >= 0``; return the new value."""
        return value_after(await self._write(self.blocking.add_call("", n)))

    async def decr(self, n: int = 1) -> int:
        """Subtract ``n >= 0``; return the new value."""
        return value_after(await self._write(self.blocking.add_call("-", n)))

    async def value(self) -> int:
        return self.blocking.value_in(await self._fields())


class AsyncCounterMap(AsyncObject[RedisCounterMap]):
    """A counter map; ``await views.incr("/pricing")``, ``await views.top(10)``."""

    async def incr(self, field: str, n: int = 1) -> int:
        """Add ``n >= 0`` to ``field``; return its new count."""
        return int(await self._write(self.blocking.add_call("", {field: n})))

    async def decr(self, field: str, n: int = 1) -> int:
        """Subtract ``n >= 0`` from ``field``; return its new count."""
        return int(await self._write(self.blocking.add_call("-", {field: n})))

    async def _read(self, mode: str, *args: str) -> list[str]:
        with self.blocking.domain_errors():
            found: list[str] = await self.region.read(*self.blocking.read_args(mode, *args))
        return found

    async def get(self, field: str) -> int:
        """The count of ``field`` (0 for a field never written)."""
        return int((await self._read(*self.blocking.get_call(field)))[0])

    async def top(self, n: int = 10) -> list[tuple[str, int]]:
        """The ``n`` largest counts, largest first, equal counts in field-name order."""
        return ranked(await self._read(*self.blocking.top_call(n)))

    async def total(self) -> int:
        """The sum of every field's count."""
        return int((await self._read(*SIZE))[1])

    async def length(self) -> int:
        """How many fields have a count other than 0 (``len()`` of the blocking map)."""
        return int((await self._read(*SIZE))[0])

    async def items(self) -> dict[str, int]:
        """Every field with a count other than 0, by field name (reads the whole map)."""
        return self.blocking.items_in(await self._fields())


class AsyncORSet(AsyncObject[RedisORSet]):
    """An observed-remove set; ``await tags.add("x")``."""

    async def add(self, element: str) -> Tag:
        """Add ``element`` under a fresh tag, which is returned."""
        return tag_of(await self._write(self.blocking.add_call(element)))

    async def remove(self, element: str) -> None:
        """Remove ``element`` as observed here; ``KeyError`` if it is not a member."""
        with self.blocking.not_a_member(element):
            await self._write(self.blocking.remove_call(element))

    async def members(self) -> set[str]:
        return self.blocking.members_in(await self._fields())

    async def contains(self, element: str) -> bool:
        with self.blocking.domain_errors():
            found: list[Any] = await self.region.client.hmget(
                self.blocking.key, ["", f".{element}"]
            )
        return self.blocking.member_in(found)
