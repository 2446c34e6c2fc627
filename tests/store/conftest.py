"""Backends for the Redis-backed type tests: the same test body runs on each.

``fake`` is fakeredis (fast, no server), ``real`` a real redis-server, and
``cluster`` a real three-master Redis Cluster; the last two carry the
``integration`` mark. Real servers are shared by the session and flushed
before each test, so no test sees another's data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fakeredis
import pytest

from crdtredis.store import RegionStore

Backend = Callable[[], Any]


def make_backend(kind: str, request: pytest.FixtureRequest) -> Backend:
    """A function returning a fresh, empty client of backend ``kind`` at each call."""
    if kind == "fake":

        def fake() -> Any:
            return fakeredis.FakeRedis(decode_responses=True)

        return fake
    if kind == "real":
        server = request.getfixturevalue("shared_server")

        def real() -> Any:
            client = server.client(decode_responses=True)
            client.flushall()
            return client

        return real
    cluster = request.getfixturevalue("shared_cluster")

    def clustered() -> Any:
        cluster.flush()
        return cluster.client(decode_responses=True)

    return clustered


SERVERS = [
    pytest.param("real", marks=pytest.mark.integration),
    pytest.param("cluster", marks=pytest.mark.integration),
]


@pytest.fixture(params=["fake", *SERVERS])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every backend: fakeredis, a real server, a real cluster."""
    return make_backend(request.param, request)


@pytest.fixture(params=SERVERS)
def server_backend(request: pytest.FixtureRequest) -> Backend:
    """Real servers only: a standalone redis-server and a Redis Cluster."""
    return make_backend(request.param, request)


@pytest.fixture
def client(backend: Backend) -> Any:
    return backend()


@pytest.fixture
def region(client: Any) -> RegionStore:
    return RegionStore("eu", client)
