"""Three regions (eu, us, ap) on three real redis-server processes, for tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crdtredis import Region
from crdtredis.demo.link import Link
from crdtredis.embedded import RedisServer

NAMES = ("eu", "us", "ap")


@dataclass
class Regions:
    """Servers for eu, us and ap, and a way to open each region with chosen peers.

    With ``delay`` (seconds, one way) every region reaches its peers through
    a delay line (:class:`~crdtredis.demo.link.Link`), as regions far apart do.
    """

    servers: dict[str, RedisServer]
    delay: float = 0.0
    links: dict[tuple[str, str], Link] = field(default_factory=dict)

    def open(self, name: str, peers: tuple[str, ...] | None = None, **options: Any) -> Region:
        chosen = [p for p in NAMES if p != name] if peers is None else list(peers)
        return Region(
            name,
            self.servers[name].url,
            peers={p: self.peer_url(name, p) for p in chosen},
            **options,
        )

    def peer_url(self, region: str, peer: str) -> str:
        """Where ``region`` reaches ``peer``: directly, or through its delay line."""
        if not self.delay:
            return self.servers[peer].url
        if (region, peer) not in self.links:
            self.links[(region, peer)] = Link(self.servers[peer].port, delay=self.delay)
        return self.links[(region, peer)].url

    def close(self) -> None:
        for link in self.links.values():
            link.close()

    def all(self, **options: Any) -> list[Region]:
        return [self.open(n, **options) for n in NAMES]


def converge(regions: list[Region], rounds: int = 3) -> None:
    """Sync passes in a fixed order until every region has seen everything."""
    for _ in range(rounds):
        for region in regions:
            for report in region.sync():
                assert report.ok, report.summary()


Converge = Callable[[list[Region]], None]
