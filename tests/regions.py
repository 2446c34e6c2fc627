"""Three regions (eu, us, ap) on three real redis-server processes, for tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crdtredis import Region
from crdtredis.embedded import RedisServer

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


def converge(regions: list[Region], rounds: int = 3) -> None:
    """Sync passes in a fixed order until every region has seen everything."""
    for _ in range(rounds):
        for region in regions:
            for report in region.sync():
                assert report.ok, report.summary()


Converge = Callable[[list[Region]], None]
