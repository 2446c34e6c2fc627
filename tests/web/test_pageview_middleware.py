"""The page-view middleware in a real Starlette app: exact counts from concurrent clients,
requests that never wait for a Redis that is down or frozen, and a flush at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from crdtredis import Region
from crdtredis.aio import AsyncRegion
from crdtredis.embedded import RedisServer
from crdtredis.web import PageViews

pytestmark = pytest.mark.integration

PAGES = ["/", "/pricing", "/docs", "/blog/crdts"]


async def page(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"page {request.url.path}")


def starlette_app() -> Starlette:
    return Starlette(routes=[Route("/{path:path}", page)])


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as started:
        yield started


def views_in(server: RedisServer, key: str = "views:today") -> dict[str, int]:
    return Region("eu", server.url).counter_map(key).items()


async def fetch_all(app: PageViews, requests: int, clients: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    statuses: list[int] = []

    async def client(i: int) -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for n in range(i, requests, clients):
                statuses.append((await http.get(PAGES[n % len(PAGES)] + "?q=1")).status_code)

    await asyncio.gather(*(client(i) for i in range(clients)))
    return statuses


@pytest.mark.parametrize("interval", [0.05, 0.0], ids=["coalescing", "write-through"])
def test_ten_thousand_requests_from_concurrent_clients_are_ten_thousand_views(
    server: RedisServer, interval: float
) -> None:
    async def run() -> PageViews:
        region = await AsyncRegion.connect("eu", server.url)
        app = PageViews(
            starlette_app(), region, key=lambda _s: "views:today", flush_interval=interval
        )
        assert await fetch_all(app, 10_000, 50) == [200] * 10_000
        await app.flush()
        await region.close()
        return app

    app = asyncio.run(run())
    assert views_in(server) == {p: 2_500 for p in sorted(PAGES)}
    assert (app.written, app.dropped) == (10_000, 0)
    assert 0 < Region("eu", server.url).ttl("views:today") <= 35 * 86_400


def test_requests_do_not_wait_for_a_frozen_redis(server: RedisServer) -> None:
    async def run() -> PageViews:
        region = await AsyncRegion.connect("eu", server.url, socket_timeout=30)
        app = PageViews(starlette_app(), region, key=lambda _s: "views:today", flush_timeout=30)
        server.pause()  # SIGSTOP: Redis hangs, every write waits
        try:
            await fetch_all(app, 20, 5)
            stuck = asyncio.get_running_loop().create_task(app.flush())
            await asyncio.sleep(0)  # the flush has sent its write and waits
            assert await fetch_all(app, 300, 10) == [200] * 300
            assert not stuck.done(), "every request was answered while the flush hung"
        finally:
            server.resume()
        await stuck
        await app.close()
        await region.close()
        return app

    app = asyncio.run(run())
    assert (app.written, app.dropped) == (320, 0)
    assert sum(views_in(server).values()) == 320


def test_a_stopped_redis_drops_views_without_failing_requests_and_says_so_once(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> PageViews:
        region = await AsyncRegion.connect("eu", server.url, socket_timeout=1.0)
        app = PageViews(starlette_app(), region, flush_interval=0.01)
        assert await fetch_all(app, 100, 10) == [200] * 100
        await app.flush()
        server.stop()
        assert await fetch_all(app, 200, 10) == [200] * 200
        await app.flush()
        return app

    with caplog.at_level(logging.WARNING, logger="crdtredis.web.pageviews"):
        app = asyncio.run(run())
    assert (app.written, app.dropped) == (100, 200)
    [line] = [r.getMessage() for r in caplog.records]  # one report a minute at most
    assert "dropped since the last report" in line and "ConnectionError" in line


async def serve_lifespan(app: PageViews, during: list[str]) -> None:
    """Run the ASGI lifespan as a server does: startup, requests (``during``), shutdown."""
    events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[str] = []

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await events.put({"type": "lifespan.startup"})
    lifespan = asyncio.get_running_loop().create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, events.get, send)  # type: ignore[arg-type]
    )
    assert await fetch_all_paths(app, during) == [200] * len(during)
    await events.put({"type": "lifespan.shutdown"})
    await lifespan
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def fetch_all_paths(app: PageViews, paths: list[str]) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return [(await http.get(path)).status_code for path in paths]


def test_shutdown_flushes_what_is_buffered(server: RedisServer) -> None:
    async def run() -> None:
        region = await AsyncRegion.connect("eu", server.url)
        app = PageViews(starlette_app(), region, key=lambda _s: "views:today", flush_interval=3600)
        await serve_lifespan(app, PAGES)
        await region.close()

    asyncio.run(run())
    assert views_in(server) == {p: 1 for p in sorted(PAGES)}


def test_a_full_buffer_drops_new_pages_and_keeps_counting_known_ones(server: RedisServer) -> None:
    async def run() -> PageViews:
        region = await AsyncRegion.connect("eu", server.url)
        app = PageViews(
            starlette_app(), region, key=lambda _s: "views:today", max_entries=2,
            flush_interval=3600,
        )  # fmt: skip
        await fetch_all(app, 8, 1)  # /, /pricing fit; /docs, /blog/crdts do not
        await app.close()
        await region.close()
        return app

    app = asyncio.run(run())
    assert views_in(server) == {"/": 2, "/pricing": 2}
    assert app.dropped == 4


def test_an_unusable_view_or_a_refused_map_loses_only_its_own_views(server: RedisServer) -> None:
    Region("eu", server.url).counter("views:taken").incr()  # a key of another type

    def key(scope: dict[str, object]) -> str:
        path = str(scope["path"])
        return "" if path == "/bad" else "views:taken" if path == "/taken" else "views:today"

    async def run() -> PageViews:
        region = await AsyncRegion.connect("eu", server.url)
        app = PageViews(starlette_app(), region, key=key, flush_interval=3600)  # type: ignore[arg-type]
        paths = ["/", "/bad", "/taken", "/docs", "/" + "x" * 2000]
        assert await fetch_all_paths(app, paths) == [200] * 5
        await app.close()
        await region.close()
        return app

    app = asyncio.run(run())
    long_path = ("/" + "x" * 2000)[:1024]  # the default field cuts a path to the longest field
    assert views_in(server) == {"/": 1, "/docs": 1, long_path: 1}
    assert (app.written, app.dropped) == (3, 2)


def test_write_through_reports_what_it_drops(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> PageViews:
        region = await AsyncRegion.connect("eu", server.url, socket_timeout=1.0)
        app = PageViews(starlette_app(), region, flush_interval=0)
        server.stop()
        assert await fetch_all(app, 20, 2) == [200] * 20
        return app

    with caplog.at_level(logging.WARNING, logger="crdtredis.web.pageviews"):
        app = asyncio.run(run())
    assert app.dropped == 20
    assert [r.getMessage() for r in caplog.records][0].startswith("page views: 1 dropped")
