"""Awaitable handles: each wraps the blocking handle of the same object for its keys,
arguments and error translation, and awaits the same scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from redis.exceptions import ResponseError

from crdtredis.crdt.countermap import check_field
from crdtredis.crdt.gcounter import check_amount
from crdtredis.crdt.gset import check_element
from crdtredis.store.codec import parse_id
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import ScriptError, script
from crdtredis.store.types import RedisCounterMap, RedisORSet, RedisPNCounter
from crdtredis.store.types.countermap import check_amounts

if TYPE_CHECKING:
    from crdtredis.aio.region import AsyncRegion

Handle = TypeVar("Handle", bound=RedisObject[Any])


class AsyncObject(Generic[Handle]):
    """What every awaitable handle shares: the blocking handle, typed reads, guarded writes."""

    def __init__(self, region: AsyncRegion, blocking: Handle) -> None:
        self.region = region
        #: The blocking handle of the same object: keys, argument checks, errors.
        self.blocking = blocking
        self.name = blocking.name

    async def _fields(self) -> dict[str, str]:
        try:
            fields: dict[str, str] = dict(await self.region.client.hgetall(self.blocking.key))  # type: ignore[arg-type]
        except ResponseError as exc:
            raise self.blocking.obstacle(exc) from None
        self.blocking._check_code(fields.get(""))
        return fields

    async def _write(self, lua_name: str, build: Callable[[], list[str]]) -> Any:
        handle = self.blocking
        try:
            return await self.region.write(handle.shard, handle.keys, script(lua_name), build)
        except ScriptError as exc:
            raise handle.refusal(exc) from None
        except ResponseError as exc:
            raise handle.obstacle(exc) from None

    async def exists(self) -> bool:
        fields = await self._fields()
        return bool(fields) and self.blocking.stored.live(self.blocking.stored.decode_hash(fields))

    async def delete(self) -> bool:
        """Remove what this region has observed (see ``RedisObject.delete``)."""
        return bool(await self.region.delete(self.name))

    async def to_dict(self) -> dict[str, Any]:
        fields = await self._fields()
        state = self.blocking.stored.decode_hash(fields)
        return dict(self.blocking.stored.pure.from_dict(state, self.region.replica).to_dict())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, region={self.region.name!r})"


class AsyncCounter(AsyncObject[RedisPNCounter]):
    """An up-and-down counter; ``await counter.incr()``."""

    async def incr(self, n: int = 1) -> int:
        """Add ``n >= 0``; return the new value."""
        return await self._add("", n)

    async def decr(self, n: int = 1) -> int:
        """Subtract ``n >= 0``; return the new value."""
        return await self._add("-", n)

    async def _add(self, sign: str, n: int) -> int:
        amount = str(check_amount(n))
        code, region = self.blocking.code, self.region
        p, n_, p_floor, n_floor = await self._write(
            "counter_add", lambda: [code, sign + region.replica, "1", self.name, amount]
        )
        return (int(p) - int(p_floor)) - (int(n_) - int(n_floor))

    async def value(self) -> int:
        fields = await self._fields()
        if not fields:
            return 0
        stored = self.blocking.stored
        return stored.value(stored.decode_hash(fields)) or 0


class AsyncCounterMap(AsyncObject[RedisCounterMap]):
    """A counter map; ``await views.incr("/pricing")``, ``await views.top(10)``."""

    async def incr(self, field: str, n: int = 1) -> int:
        """Add ``n >= 0`` to ``field``; return its new count."""
        return await self._add("", field, n)

    async def decr(self, field: str, n: int = 1) -> int:
        """Subtract ``n >= 0`` from ``field``; return its new count."""
        return await self._add("-", field, n)

    async def _add(self, sign: str, field: str, n: int) -> int:
        payload = json.dumps([[self.name, check_amounts({field: n}, f"key {self.name!r}")]])
        code, region = self.blocking.code, self.region
        return int(await self._write("map_add", lambda: [code, sign + region.replica, payload]))

    async def _read(self, mode: str, *args: str) -> list[str]:
        try:
            found: list[str] = await self.region.read(
                script("map_read"), [self.blocking.key], [self.blocking.code, mode, *args]
            )
        except ScriptError as exc:
            raise self.blocking.refusal(exc) from None
        except ResponseError as exc:
            raise self.blocking.obstacle(exc) from None
        return found

    async def get(self, field: str) -> int:
        """The count of ``field`` (0 for a field never written)."""
        return int((await self._read("get", check_field(field)))[0])

    async def top(self, n: int = 10) -> list[tuple[str, int]]:
        """The ``n`` largest counts, largest first, equal counts in field-name order."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"top() takes a count >= 0, got {n!r}")
        flat = await self._read("top", str(n))
        return [(flat[i], int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def total(self) -> int:
        """The sum of every field's count."""
        return int((await self._read("size"))[1])

    async def length(self) -> int:
        """How many fields have a count other than 0 (``len()`` of the blocking map)."""
        return int((await self._read("size"))[0])

    async def items(self) -> dict[str, int]:
        """Every field with a count other than 0, by field name (reads the whole map)."""
        fields = await self._fields()
        state = self.blocking.stored.decode_hash(fields) if fields else None
        if state is None:
            return {}
        pure = self.blocking.stored.pure.from_dict(state, self.region.replica)
        return dict(pure.items())


class AsyncORSet(AsyncObject[RedisORSet]):
    """An observed-remove set; ``await tags.add("x")``."""

    async def add(self, element: str) -> tuple[str, int]:
        """Add ``element`` under a fresh tag, which is returned."""
        check_element(element)
        code, region = self.blocking.code, self.region
        tag = await self._write(
            "orset_update", lambda: [self.name, code, "add", element, region.replica]
        )
        counter, replica = parse_id(tag)
        return replica, counter

    async def remove(self, element: str) -> None:
        """Remove ``element`` as observed here; ``KeyError`` if it is not a member."""
        check_element(element)
        code = self.blocking.code
        try:
            await self._write("orset_update", lambda: [self.name, code, "remove", element, ""])
        except KeyError:
            raise KeyError(f"{element!r} is not a member of set {self.name!r}") from None

    async def members(self) -> set[str]:
        fields = await self._fields()
        return {f[1:] for f, v in fields.items() if f[:1] == "."}

    async def contains(self, element: str) -> bool:
        try:
            found: list[Any] = await self.region.client.hmget(
                self.blocking.key, ["", f".{element}"]
            )
        except ResponseError as exc:
            raise self.blocking.obstacle(exc) from None
        self.blocking._check_code(found[0])
        return found[1] is not None
