"""Fixtures shared by all tests: real redis-server processes on free ports.

Hypothesis runs with the ``crdtredis`` profile: no per-example deadline, so a
busy machine (two cores shared by real servers) cannot fail a test that is
merely slow. ``HYPOTHESIS_PROFILE=default`` (or any registered profile)
chooses another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

from crdtredis.embedded import RedisClusterServers, RedisServer, ServerBinaryNotFound
from tests.regions import NAMES, Regions

settings.register_profile("crdtredis", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "crdtredis"))

ServerFactory = Callable[..., RedisServer]


@pytest.fixture
def redis_servers() -> Iterator[ServerFactory]:
    """Start real redis-server processes on demand; all are stopped after the test."""
    started: list[RedisServer] = []

    def start(**kwargs: object) -> RedisServer:
        server = RedisServer(**kwargs).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_server(redis_servers: ServerFactory) -> RedisServer:
    """One real redis-server for this test alone."""
    return redis_servers()


@pytest.fixture
def regions() -> Iterator[Regions]:
    """Three regions, eu, us and ap, each on its own real redis-server (with AOF)."""
    servers = {name: RedisServer(appendonly=True).start() for name in NAMES}
    regions = Regions(servers)
    yield regions
    regions.close()
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def shared_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def shared_cluster() -> Iterator[RedisClusterServers]:
    try:
        cluster = RedisClusterServers().start()
    except ServerBinaryNotFound as exc:
        pytest.skip(f"no Redis Cluster can be started here: {exc}")
    yield cluster
    cluster.stop()
