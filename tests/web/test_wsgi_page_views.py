"""The WSGI page-view middleware behind a real threaded WSGI server: exact counts from
concurrent clients, and requests that never fail while Redis is down."""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from crdtredis import Region
from crdtredis.embedded import RedisServer, free_port
from crdtredis.web import PageViewsWSGI

pytestmark = pytest.mark.integration

PAGES = ["/", "/pricing", "/docs", "/blog"]


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


class ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


def serving(app: PageViewsWSGI) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, ThreadedServer, Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def fetch_all(base: str, requests: int, clients: int) -> list[int]:
    def get(n: int) -> int:
        with urllib.request.urlopen(base + PAGES[n % len(PAGES)] + "?q=1", timeout=10) as reply:
            return int(reply.status)

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(get, range(requests)))


def test_requests_from_concurrent_clients_are_counted_exactly() -> None:
    with RedisServer() as redis_server:
        region = Region("eu", redis_server.url)
        app = PageViewsWSGI(hello, region, key=lambda _e: "views:today", flush_interval=0.05)
        for base in serving(app):
            assert fetch_all(base, 2_000, 20) == [200] * 2_000
        app.close()
        assert region.counter_map("views:today").items() == {p: 500 for p in sorted(PAGES)}
        assert (app.written, app.dropped) == (2_000, 0)
        assert 0 < region.ttl("views:today") <= 35 * 86_400


def test_a_stopped_redis_fails_no_request_and_drops_what_it_must(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with RedisServer() as redis_server:
        region = Region("eu", redis_server.url, socket_timeout=1.0)
        app = PageViewsWSGI(hello, region, flush_interval=0.05)
        redis_server.stop()
        with caplog.at_level("WARNING", logger="crdtredis.web.pageviews"):
            for base in serving(app):
                assert fetch_all(base, 200, 10) == [200] * 200
            app.close()
    assert (app.written, app.dropped) == (0, 200)
    assert "dropped since the last report" in caplog.records[0].getMessage()


def environ(path: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path}


def test_a_forked_worker_flushes_its_own_views() -> None:
    """Servers that load the application before forking (gunicorn --preload, uWSGI)."""
    with RedisServer() as redis_server:
        region = Region("eu", redis_server.url)
        app = PageViewsWSGI(hello, region, key=lambda _e: "views:today", flush_interval=0.05)
        for _ in range(3):
            app(environ("/parent"), lambda *_a: None)
        child = os.fork()
        if child == 0:  # the worker: its own flusher, an empty buffer of its own
            try:
                for _ in range(100):
                    app(environ("/caf\xc3\xa9"), lambda *_a: None)  # UTF-8 read as latin-1
                app.close()
                os._exit(0 if app.written == 100 else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        app.close()
        assert region.counter_map("views:today").items() == {"/café": 100, "/parent": 3}


def test_views_after_close_are_counted_as_dropped() -> None:
    with RedisServer() as redis_server:
        app = PageViewsWSGI(hello, Region("eu", redis_server.url), flush_interval=0.05)
        app.close()
        app(environ("/late"), lambda *_a: None)
        assert (app.written, app.dropped) == (0, 1)
