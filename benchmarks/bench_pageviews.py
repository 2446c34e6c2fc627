"""Page views through the ASGI middleware, and top(10) of a large counter map.

Views per second are counted from the first request to the last view
written (the final flush included), with 50 concurrent clients in one
process: coalescing (the default, a flush every 0.1 s) against
write-through (one round trip per view, which the request waits for).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from benchmarks.bench_store import settled_memory, three_regions
from crdtredis import Region
from crdtredis.aio import AsyncRegion
from crdtredis.demo.link import Link
from crdtredis.embedded import RedisServer
from crdtredis.web import PageViews

PAGES = [f"/page/{i}" for i in range(200)]


async def _page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _views_per_second(url: str, interval: float, requests: int, clients: int) -> float:
    region = await AsyncRegion.connect("eu", url)
    app = PageViews(
        Starlette(routes=[Route("/{path:path}", _page)]),
        region,
        key=lambda _scope: "views:bench",
        flush_interval=interval,
    )
    transport = httpx.ASGITransport(app=app)

    async def client(i: int) -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for n in range(i, requests, clients):
                await http.get(PAGES[n % len(PAGES)])

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    await app.close()
    elapsed = time.perf_counter() - started
    await region.close()
    if app.written != requests:
        raise RuntimeError(f"{app.written} of {requests} views written ({app.dropped} dropped)")
    return requests / elapsed


def middleware(requests: int, clients: int = 50, rtt: float = 0.0) -> tuple[float, float]:
    """Views per second, coalescing and write-through, to a Redis ``rtt`` seconds away."""
    with RedisServer() as server:
        link = Link(server.port, delay=rtt / 2) if rtt else None
        url = link.url if link else server.url
        try:
            rates = []
            for interval in (0.1, 0.0):
                server.client().flushall()
                rates.append(asyncio.run(_views_per_second(url, interval, requests, clients)))
            counted = Region("eu", server.url).counter_map("views:bench").total()
            if counted != requests:
                raise RuntimeError(f"the map counts {counted} views, not {requests}")
            return rates[0], rates[1]
        finally:
            if link:
                link.close()


def top_latency(fields: int, reads: int) -> tuple[float, float]:
    """Microseconds per ``top(10)`` of a map of ``fields`` fields, and per ZREVRANGE 0 9
    WITHSCORES of a plain sorted set of as many members (interleaved, medians)."""
    with RedisServer() as server:
        region = Region("eu", server.url)
        plain = server.client(decode_responses=True)
        step = 5_000
        for first in range(0, fields, step):
            counts = {f"/page/{i}": i % 977 + 1 for i in range(first, min(first + step, fields))}
            region.incr_fields({"views:big": counts})
            plain.zadd("plain:big", counts)
        views = region.counter_map("views:big")
        if len(views) != fields or plain.zcard("plain:big") != fields:
            raise RuntimeError("the map and the sorted set were not filled")
        ours: list[float] = []
        reference: list[float] = []
        for _ in range(5):
            ours.append(_per_call(lambda: views.top(10), reads))
            reference.append(
                _per_call(lambda: plain.zrevrange("plain:big", 0, 9, withscores=True), reads)
            )
        return sorted(ours)[2] * 1e6, sorted(reference)[2] * 1e6


def _per_call(call: Callable[[], object], reads: int) -> float:
    started = time.perf_counter()
    for _ in range(reads):
        call()
    return (time.perf_counter() - started) / reads


def map_memory_per_field(fields: int, binary: str | None = None) -> tuple[str, float, float]:
    """Bytes of ``used_memory`` each field of a day map adds, three regions' slots synced
    and its top-N index included, against what a Redis user keeps for counts with a
    top-N: a field of a plain hash (HINCRBY) and a member of a sorted set (ZINCRBY).
    Slopes over the second half of the fields, as for counters (see bench_store)."""
    with three_regions(binary) as (regions, plain):
        version = str(plain.info("server")["redis_version"])
        names = [f"/page/{i:07d}" for i in range(fields)]
        half = fields // 2
        first = _synced_fields(regions, names[:half])
        ours = (_synced_fields(regions, names[half:]) - first) / (fields - half)
        if regions[0].counter_map("views:day").total() != 3 * fields:
            raise RuntimeError("the regions did not converge")
        plain.flushall()
        first = _plain_fields(plain, names[:half])
        reference = (_plain_fields(plain, names[half:]) - first) / (fields - half)
    return version, ours, reference


def _synced_fields(regions: list[Region], names: list[str]) -> int:
    for region in regions:
        for start in range(0, len(names), 1000):
            region.incr_fields({"views:day": dict.fromkeys(names[start : start + 1000], 1)})
    for _ in range(3):
        for region in regions:
            for report in region.sync():
                if not report.ok:
                    raise RuntimeError(report.summary())
    for region in regions:
        while region.syncer.collector.collect():
            pass
    return settled_memory(regions[0].client)


def _plain_fields(client: Any, names: list[str]) -> int:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hincrby("plain:day", name, 1)
        pipe.zincrby("plain:top", 1, name)
    pipe.execute()
    return settled_memory(client)
