"""The README's asyncio and middleware examples run as written, on a real redis-server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from crdtredis import Region
from crdtredis.embedded import RedisServer
from crdtredis.web import day_bucket
from tests.unit.test_readme import README, python_blocks

pytestmark = pytest.mark.integration

URL = "redis://localhost:6379/0"


def run_block(marker: str, server: RedisServer) -> dict[str, Any]:
    (block,) = python_blocks(marker)
    assert URL in block
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(block.replace(URL, server.url), str(README), "exec"), namespace)
    return namespace


def test_the_asyncio_example_runs(
    shared_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    shared_server.client().flushall()
    run_block("# asyncio", shared_server)
    assert capsys.readouterr().out == "[('/', 2), ('/pricing', 1)] 2\n1\n"


def test_the_middleware_example_counts_requests(shared_server: RedisServer) -> None:
    shared_server.client().flushall()
    app = run_block("# Page views of an ASGI application", shared_server)["app"]

    async def visit() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://site") as http:
            for path in ["/", "/pricing", "/pricing"]:
                assert (await http.get(path)).text == "hello"
        await app.close()
        await app.region.close()

    asyncio.run(visit())
    key = day_bucket()({})
    region = Region("eu", shared_server.url)
    assert region.counter_map(key).items() == {"/": 1, "/pricing": 2}
    assert 0 < region.ttl(key) <= 35 * 86400
