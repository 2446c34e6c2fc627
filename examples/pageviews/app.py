"""The example site: every page is counted; ``/`` shows today's top pages here and in the peers.

The page views go through :class:`crdtredis.web.PageViews` into today's
counter map (``views:<date>``); the top of the page reads this region's
derived index (``top(10)``), and each peer's count is read from the peer's
own Redis, read-only, as a sync pass reads it.
"""

from __future__ import annotations

import asyncio
import html

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from crdtredis.aio import AsyncRegion
from crdtredis.crdt import CounterMap
from crdtredis.replication import Peer
from crdtredis.store.types import REGISTRY
from crdtredis.web import PageViews, day_bucket

PAGES = ["/pricing", "/docs", "/blog/crdts-on-redis", "/about"]


def today() -> str:
    return day_bucket()({})


def peer_counts(peer: Peer, key: str) -> CounterMap | None:
    """A peer's map as its Redis holds it now (None when the peer cannot be read)."""
    try:
        opened = peer.open()
        if opened is None:
            return CounterMap("reader")
        found = opened.read([key])[0]
    except Exception:  # noqa: BLE001 - a peer that is down shows as such
        return None
    if isinstance(found, Exception):
        return None
    state = REGISTRY.decode_hash(found)
    return CounterMap("reader") if state is None else CounterMap.from_dict(state, "reader")


def make_app(region: AsyncRegion, peers: list[Peer]) -> PageViews:
    """The site, with every request counted (flushed every 0.1 s)."""

    async def home(request: Request) -> HTMLResponse:
        key = today()
        top = await region.counter_map(key).top(10)
        theirs = await asyncio.gather(*(asyncio.to_thread(peer_counts, p, key) for p in peers))
        head = "".join(f"<th>{html.escape(p.name)}</th>" for p in peers)
        rows = "".join(
            f"<tr><td><a href='{html.escape(field)}'>{html.escape(field)}</a></td><td>{n}</td>"
            + "".join(f"<td>{'down' if m is None else m.get(field)}</td>" for m in theirs)
            + "</tr>"
            for field, n in top
        )
        links = " ".join(f"<a href='{p}'>{p}</a>" for p in PAGES)
        return HTMLResponse(
            f"<h1>Top pages of {key} in region {html.escape(region.name)}</h1>"
            f"<p>Visit some pages: {links}</p>"
            f"<table><tr><th>page</th><th>{html.escape(region.name)}</th>{head}</tr>{rows}</table>"
        )

    async def page(request: Request) -> HTMLResponse:
        path = html.escape(request.url.path)
        return HTMLResponse(f"<h1>{path}</h1><p><a href='/'>today's top pages</a></p>")

    site = Starlette(routes=[Route("/", home), Route("/{path:path}", page)])
    return PageViews(site, region, count=lambda scope: scope["path"] != "/")
