"""Three regions on three real redis-server processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crdtredis import Region
from crdtredis.embedded import RedisServer

pytestmark = pytest.mark.integration

NAMES = ("eu", "us", "ap")


@dataclass
class Regions:
    """Servers for eu, us and ap, and a way to open each region with chosen peers."""

    servers: dict[str, RedisServer]

    def open(self, name: str, peers: tuple[str, ...] | None = None, **options: Any) -> Region:
        chosen = [p for p in NAMES if p != name] if peers is None else list(peers)
        return Region(
            name,
            self.servers[name].url,
            peers={p: self.servers[p].url for p in chosen},
            **options,
        )

    def all(self, **options: Any) -> list[Region]:
        return [self.open(n, **options) for n in NAMES]


@pytest.fixture
def regions() -> Iterator[Regions]:
    servers = {name: RedisServer(appendonly=True).start() for name in NAMES}
    yield Regions(servers)
    for server in servers.values():
        server.stop()


def converge(regions: list[Region], rounds: int = 3) -> None:
    """Sync passes in a fixed order until every region has seen everything."""
    for _ in range(rounds):
        for region in regions:
            for report in region.sync():
                assert report.ok, report.summary()


Converge = Callable[[list[Region]], None]
