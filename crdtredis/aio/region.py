"""One region's Redis seen from asyncio: awaited scripts, and the blocking guard for the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio
from redis.exceptions import NoScriptError, ResponseError

from crdtredis.aio.objects import AsyncCounter, AsyncCounterMap, AsyncORSet
from crdtredis.store import RegionStore, batch
from crdtredis.store.guard import is_refusal
from crdtredis.store.region import SOCKET_TIMEOUT
from crdtredis.store.scripts import LuaScript, ScriptError, is_cluster

#: What an awaited script call can give back instead of its result: the call
#: must go through the blocking region (its script was forgotten, or the
#: identity changed under it).
_HAND_OVER = object()

#: Why a Redis Cluster is refused.
SINGLE_SERVER = (
    "crdtredis.aio runs on a single Redis server; for a Redis Cluster use the blocking "
    "crdtredis.Region"
)

#: Connections an asyncio region opens at most by default.
MAX_CONNECTIONS = 50


class AsyncRegion:
    """A region for asyncio code: ``await AsyncRegion.connect("eu", "redis://...")``,
    or ``AsyncRegion.open(...)`` before the loop runs.

    Args:
        store: the blocking region over the same Redis; it keeps the
            identity, and heals what asyncio calls are refused for.
        client: a ``redis.asyncio`` client of that Redis, with
            ``decode_responses=True``.

    A single Redis server (or fakeredis): a Redis Cluster is refused, since
    its asyncio client is not tested here; use the blocking region there.
    """

    def __init__(self, store: RegionStore, client: redis.asyncio.Redis) -> None:
        if isinstance(client, redis.asyncio.RedisCluster) or is_cluster(store.client):
            raise ValueError(SINGLE_SERVER)
        self.store = store
        self.client = client

    @classmethod
    def open(
        cls, name: str, url: str, *, max_connections: int = MAX_CONNECTIONS, **options: Any
    ) -> AsyncRegion:
        """Open region ``name`` at ``url``, blocking: for set-up before the event loop runs
        (a module-level ``app = PageViews(..., AsyncRegion.open(...))``).

        Options are :class:`RegionStore`'s. At most ``max_connections`` calls
        are on the wire at once; more wait for a connection (up to the socket
        timeout) rather than fail. Connections are made when first used, in
        the loop that uses them.
        """
        if options.get("cluster"):
            raise ValueError(SINGLE_SERVER)  # before the store connects to the cluster
        store = RegionStore(name, url, **options)
        timeout = options.get("socket_timeout", SOCKET_TIMEOUT)
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            decode_responses=True,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        return cls(store, redis.asyncio.Redis(connection_pool=pool))

    @classmethod
    async def connect(
        cls, name: str, url: str, *, max_connections: int = MAX_CONNECTIONS, **options: Any
    ) -> AsyncRegion:
        """:meth:`open` from inside the event loop: the identity is found or created
        by the blocking region in a thread."""
        return await asyncio.to_thread(
            cls.open, name, url, max_connections=max_connections, **options
        )

    async def close(self) -> None:
        await self.client.aclose(close_connection_pool=True)
        self.store.client.close()

    async def __aenter__(self) -> AsyncRegion:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def name(self) -> str:
        return self.store.name

    @property
    def replica(self) -> str:
        return self.store.replica

    # -- objects -------------------------------------------------------------
    def counter(self, name: str) -> AsyncCounter:
        """The up-and-down counter ``name`` (a PNCounter)."""
        return AsyncCounter(self, self.store.counter(name))

    def counter_map(self, name: str) -> AsyncCounterMap:
        """The counter map ``name``."""
        return AsyncCounterMap(self, self.store.counter_map(name))

    def orset(self, name: str) -> AsyncORSet:
        """The observed-remove set ``name``."""
        return AsyncORSet(self, self.store.orset(name))

    async def incr_fields(self, maps: Mapping[str, Mapping[str, int]]) -> None:
        """Add to fields of many counter maps in one round trip (see ``Region.incr_fields``)."""
        groups, calls = batch.plan_fields(self.store, maps)
        results = await self._pipelined(calls)
        handed = [i for i, r in enumerate(results) if r is _HAND_OVER]
        if handed:
            again = await asyncio.to_thread(
                batch.run_guarded, self.store, [calls[i] for i in handed]
            )
            for i, result in zip(handed, again, strict=True):
                results[i] = result
        batch.raise_refusals(self.store, groups, results, "countermap")

    async def expire(self, name: str, seconds: float, *, only_new: bool = False) -> bool:
        """``Region.expire`` (a rare call: it runs on the blocking region, in a thread)."""
        return await asyncio.to_thread(self.store.expire, name, seconds, only_new=only_new)

    async def delete(self, *names: str) -> int:
        """``Region.delete``, in a thread."""
        return await asyncio.to_thread(self.store.delete, *names)

    # -- calls -------------------------------------------------------------------
    async def write(self, shard: int, keys: Sequence[str], lua: LuaScript, build: Any) -> Any:
        """A write script, awaited; handed to the blocking region when it must heal first."""
        result = await self._evalsha(lua, keys, [self.store.incarnation, *build()])
        if result is _HAND_OVER:
            return await asyncio.to_thread(self.store.write, shard, keys, lua, build)
        return result

    async def read(self, lua: LuaScript, keys: Sequence[str], args: Sequence[str]) -> Any:
        """A reading script, awaited (loaded by the blocking region if the server forgot it)."""
        result = await self._evalsha(lua, keys, args)
        if result is _HAND_OVER:
            return await asyncio.to_thread(self.store.scripts.call, lua, keys, args)
        return result

    async def _evalsha(self, lua: LuaScript, keys: Sequence[str], args: Sequence[str]) -> Any:
        try:
            return await self.client.evalsha(lua.sha, len(keys), *keys, *args)
        except NoScriptError:
            return _HAND_OVER
        except ResponseError as exc:
            outcome = _classify(exc)
            if outcome is _HAND_OVER:
                return outcome
            raise outcome from None

    async def _pipelined(self, calls: Sequence[tuple[int, LuaScript, Any]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for _shard, lua, build in calls:
            keys, args = build()
            pipe.evalsha(lua.sha, len(keys), *keys, self.store.incarnation, *args)
        replies = await pipe.execute(raise_on_error=False)
        return [_classify(r) if isinstance(r, ResponseError) else r for r in replies]


def _classify(error: ResponseError) -> Any:
    """A script's error as the blocking API gives it (a :class:`ScriptError` when refused
    on purpose), or the mark to hand the call to the blocking region."""
    if isinstance(error, NoScriptError):
        return _HAND_OVER
    refused = ScriptError.parse(error)
    if refused is None:
        return error
    return _HAND_OVER if is_refusal(refused) else refused
