"""crdtredis.aio behaves like the blocking store: the same model test, the same errors, and
writes that heal through the blocking region when the identity changed or scripts were lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import fakeredis
import pytest
import redis.asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtredis.aio import AsyncRegion
from crdtredis.crdt import CounterMap, ORSet, PNCounter
from crdtredis.embedded import RedisServer
from crdtredis.errors import BatchError, WrongTypeError
from crdtredis.store import RegionStore

Opener = Callable[[], Awaitable[AsyncRegion]]

FIELDS = st.sampled_from(["/", "/a", "/b", "é"])
AMOUNTS = st.integers(min_value=0, max_value=5)
OPS = st.one_of(
    st.tuples(st.sampled_from(["incr", "decr"]), AMOUNTS),
    st.tuples(st.sampled_from(["map_incr", "map_decr"]), FIELDS, AMOUNTS),
    st.tuples(st.just("batch"), st.dictionaries(FIELDS, AMOUNTS, max_size=3)),
    st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(["x", "y"])),
    st.tuples(st.just("merge"), FIELDS, AMOUNTS),
)


def fake_opener() -> Opener:
    async def open_() -> AsyncRegion:
        server = fakeredis.FakeServer()
        store = RegionStore("eu", fakeredis.FakeRedis(server=server, decode_responses=True))
        client = fakeredis.aioredis.FakeRedis(server=server, decode_responses=True)
        return AsyncRegion(store, client)

    return open_


def real_opener(server: RedisServer) -> Opener:
    async def open_() -> AsyncRegion:
        server.client().flushall()
        return await AsyncRegion.connect("eu", server.url)

    return open_


async def run_model(open_: Opener, ops: list[tuple[Any, ...]]) -> None:
    region = await open_()
    counter, views, tags = region.counter("c"), region.counter_map("m"), region.orset("s")
    pure_c, pure_m, pure_s = (PNCounter(region.replica), CounterMap(region.replica), ORSet("r"))
    peer = CounterMap("peer1")
    for op in ops:
        kind = op[0]
        if kind in ("incr", "decr"):
            assert await getattr(counter, kind)(op[1]) == getattr(pure_c, kind)(op[1])
        elif kind in ("map_incr", "map_decr"):
            method = kind.removeprefix("map_")
            assert await getattr(views, method)(op[1], op[2]) == getattr(pure_m, method)(*op[1:])
        elif kind == "batch":
            await region.incr_fields({"m": op[1]})
            for field, n in op[1].items():
                pure_m.incr(field, n)
        elif kind == "merge":
            peer.incr(op[1], op[2])
            await asyncio.to_thread(region.store.counter_map("m").merge, peer)
            pure_m.merge(peer)
        elif kind == "add":
            await tags.add(op[1])
            pure_s.add(op[1])
        elif op[1] in pure_s.members():
            await tags.remove(op[1])
            pure_s.remove(op[1])
        else:
            with pytest.raises(KeyError, match="not a member"):
                await tags.remove(op[1])
    assert await counter.value() == pure_c.value()
    assert await views.items() == pure_m.items()
    assert await views.top(3) == pure_m.top(3)
    assert (await views.total(), await views.length()) == (pure_m.total(), len(pure_m))
    assert await tags.members() == pure_s.members()
    assert await views.to_dict() == region.store.counter_map("m").to_dict()
    await region.close()


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(ops=st.lists(OPS, max_size=30))
def test_on_fakeredis_like_the_pure_types(ops: list[tuple[Any, ...]]) -> None:
    asyncio.run(run_model(fake_opener(), ops))


@pytest.mark.integration
@SETTINGS
@given(ops=st.lists(OPS, max_size=30))
def test_on_a_real_server_like_the_pure_types(
    shared_server: RedisServer, ops: list[tuple[Any, ...]]
) -> None:
    asyncio.run(run_model(real_opener(shared_server), ops))


@pytest.mark.integration
def test_errors_are_the_blocking_apis(shared_server: RedisServer) -> None:
    async def check() -> None:
        region = await real_opener(shared_server)()
        await region.counter("likes").incr()
        with pytest.raises(WrongTypeError, match="has type pncounter, not countermap"):
            await region.counter_map("likes").incr("/")
        with pytest.raises(WrongTypeError):
            await region.counter_map("likes").top()
        with pytest.raises(ValueError, match="amount must be >= 0"):
            await region.counter_map("views").incr("/", -1)
        with pytest.raises(BatchError):
            await region.incr_fields({"likes": {"/": 1}, "views": {"/": 2}})
        assert await region.counter_map("views").get("/") == 2
        await region.close()

    asyncio.run(check())


@pytest.mark.integration
def test_a_wiped_redis_and_lost_scripts_are_healed_by_the_blocking_region(
    shared_server: RedisServer,
) -> None:
    async def check() -> None:
        region = await real_opener(shared_server)()
        views = region.counter_map("views")
        assert await views.incr("/", 2) == 2
        before = region.store.incarnation
        shared_server.client().flushall()  # a wipe: the identity and every shard head go
        assert await views.incr("/", 3) == 3
        assert region.store.incarnation != before
        shared_server.client().script_flush()  # the server forgot every script
        await region.incr_fields({"views": {"/": 1}, "other": {"/x": 1}})
        assert await views.top(5) == [("/", 4)]
        shared_server.client().script_flush()
        assert await region.counter("c").incr() == 1
        await region.close()

    asyncio.run(check())


def test_a_cluster_client_is_refused_with_what_to_use() -> None:
    store = RegionStore("eu", fakeredis.FakeRedis(decode_responses=True))
    cluster = redis.asyncio.RedisCluster.__new__(redis.asyncio.RedisCluster)
    with pytest.raises(ValueError, match="use the blocking crdtredis.Region"):
        AsyncRegion(store, cluster)  # type: ignore[arg-type]


def test_a_cluster_option_is_refused_before_anything_is_opened() -> None:
    with pytest.raises(ValueError, match="use the blocking crdtredis.Region"):
        AsyncRegion.open("eu", "redis://127.0.0.1:1/0", cluster=True)
