"""``make example``: the page-view site on an embedded region ``eu``, with peers ``us`` and ``ap``.

Three redis-servers are started on this machine, each region syncs from the
other two every half second, and the peers get some views of their own, so
the top page shows them arrive. Open http://127.0.0.1:8000/ (``PORT`` to
change it); Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from contextlib import ExitStack

import uvicorn

from crdtredis.aio import AsyncRegion
from crdtredis.config import PeerConfig
from crdtredis.embedded import RedisServer
from crdtredis.replication import Peer, Region
from examples.pageviews.app import PAGES, make_app, today

NAMES = ("eu", "us", "ap")


def sync_forever(regions: list[Region], stop: threading.Event) -> None:
    """Each region pulls from its peers every half second; the peers get views too."""
    rng = random.Random(1)
    while not stop.wait(0.5):
        for region in regions[1:]:
            region.counter_map(today()).incr(rng.choice(PAGES), rng.randint(0, 3))
        for region in regions:
            region.sync()


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    with ExitStack() as stack:
        servers = {n: stack.enter_context(RedisServer()) for n in NAMES}
        regions = [
            Region(n, servers[n].url, peers={p: servers[p].url for p in NAMES if p != n})
            for n in NAMES
        ]
        stop = threading.Event()
        stack.callback(stop.set)
        threading.Thread(target=sync_forever, args=(regions, stop), daemon=True).start()
        eu = asyncio.run(AsyncRegion.connect("eu", servers["eu"].url))
        peers = [Peer(PeerConfig(p, servers[p].url)) for p in NAMES if p != "eu"]
        print(f"page views example: http://127.0.0.1:{port}/ (region eu, peers us and ap)")
        uvicorn.run(make_app(eu, peers), host="127.0.0.1", port=port, log_level="warning")


main()
