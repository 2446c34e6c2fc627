"""The embedded redis-server launcher the demo, tests and benchmarks rely on."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import ServerFactory

pytestmark = pytest.mark.integration


def test_servers_start_on_distinct_ports_and_keep_separate_data(
    redis_servers: ServerFactory,
) -> None:
    a, b = redis_servers(), redis_servers()
    assert a.port != b.port
    a.client().set("k", "a")
    assert b.client().get("k") is None


def test_a_killed_server_restarts_empty_without_persistence(redis_servers: ServerFactory) -> None:
    server = redis_servers()
    server.client().set("k", "v")
    server.kill()
    with pytest.raises(redis.exceptions.ConnectionError):
        server.client(socket_connect_timeout=1).ping()
    server.start()
    assert server.client().get("k") is None


def test_aof_persistence_survives_a_kill(redis_servers: ServerFactory) -> None:
    server = redis_servers(appendonly=True)
    server.client().set("k", "v")
    server.kill()
    server.start()
    assert server.client().get("k") == b"v"


def test_a_paused_server_times_out_instead_of_hanging(redis_servers: ServerFactory) -> None:
    server = redis_servers()
    server.pause()
    with pytest.raises(redis.exceptions.TimeoutError):
        server.client(socket_timeout=0.2).ping()
    server.resume()
    assert server.client(socket_timeout=1).ping()
