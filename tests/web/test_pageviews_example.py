"""The example site counts its pages and shows today's top pages here and in a peer."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from crdtredis.aio import AsyncRegion
from crdtredis.config import PeerConfig
from crdtredis.embedded import RedisServer
from crdtredis.replication import Peer, Region
from examples.pageviews.app import make_app, today

pytestmark = pytest.mark.integration


def test_the_top_page_shows_counts_here_and_in_the_peer() -> None:
    with RedisServer() as eu_server, RedisServer() as us_server:
        us = Region("us", us_server.url, peers={"eu": eu_server.url})
        us.counter_map(today()).incr("/docs", 5)

        async def visit() -> str:
            region = await AsyncRegion.connect("eu", eu_server.url)
            peers = [
                Peer(PeerConfig("us", us_server.url)),
                Peer(PeerConfig("ap", "redis://127.0.0.1:1/0")),
            ]
            app = make_app(region, peers)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://site") as http:
                for path in ["/pricing", "/pricing", "/docs", "/"]:
                    assert (await http.get(path)).status_code == 200
                await app.flush()
                page = (await http.get("/")).text
            await app.close()
            await region.close()
            return page

        page = asyncio.run(visit())
        rows = re.findall(
            r"<tr><td><a href='([^']+)'>[^<]+</a></td>((?:<td>[^<]*</td>)+)</tr>", page
        )
        cells = {path: re.findall(r"<td>([^<]*)</td>", tds) for path, tds in rows}
        assert cells == {"/pricing": ["2", "0", "down"], "/docs": ["1", "5", "down"]}
        assert us.sync()[0].ok  # and us sees eu's views once it pulls them
        assert us.counter_map(today()).items() == {"/docs": 6, "/pricing": 2}
