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

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

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
