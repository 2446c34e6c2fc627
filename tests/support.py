"""Shared test helpers: polling with a deadline, the console script, a region's environment."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tests.regions import Regions

T = TypeVar("T")

#: The ``crdtredis`` console script of the environment running the tests.
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "crdtredis")


def wait_for(
    condition: Callable[[], T],
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Call ``condition`` until it returns something true, and return that.

    Raises:
        AssertionError: nothing true within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: did not hold within {timeout}s")
        time.sleep(interval)


def region_env(
    regions: Regions, name: str, peers: Iterable[str] | None = None, **settings: object
) -> dict[str, str]:
    """The ``CRDTREDIS_*`` environment of region ``name``.

    Its peers are ``peers`` (every other region by default); each keyword
    adds a setting, ``peer_timeout=0.5`` giving ``CRDTREDIS_PEER_TIMEOUT=0.5``.
    """
    chosen = [p for p in regions.servers if p != name] if peers is None else list(peers)
    env = {
        "CRDTREDIS_REGION": name,
        "CRDTREDIS_REDIS_URL": regions.servers[name].url,
        "CRDTREDIS_PEERS": ",".join(f"{p}={regions.servers[p].url}" for p in chosen),
    }
    env.update({f"CRDTREDIS_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def long_pass(
    regions: Regions, config_dir: Path, keys: int, **settings: object
) -> tuple[Any, dict[str, str]]:
    """Region eu, and the environment of an eu process pulling ``keys`` counters from us.

    Rounds of 5 keys per shard make its pass last long enough to break on
    purpose (kill it, fill its Redis) while it runs.
    """
    eu, us = regions.open("eu", ("us",)), regions.open("us")
    us.incr_many({f"c{i}": 1 for i in range(keys)})
    config = config_dir / "eu.toml"
    config.write_text("[sync]\nbatch = 5\n")
    env = {
        **os.environ,
        **region_env(regions, "eu", ("us",), **settings),
        "CRDTREDIS_CONFIG": str(config),
    }
    return eu, env


def servers_of(client: Any) -> list[Any]:
    """A client of each server behind ``client``: each primary of a cluster, else itself."""
    if hasattr(client, "get_primaries"):
        return [client.get_redis_connection(node) for node in client.get_primaries()]
    return [client]


def wipe(client: Any) -> None:
    """Lose every key, as a Redis restarted without persistence would (on a cluster too)."""
    for server in servers_of(client):
        server.flushall()
