"""`crdtredis sync`: one pass with a report, clear errors and exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crdtredis import Region
from crdtredis.cli import cli
from tests.conftest import ServerFactory

pytestmark = pytest.mark.integration


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_sync_once_pulls_and_reports(redis_servers: ServerFactory) -> None:
    eu, us = redis_servers(), redis_servers()
    Region("us", us.url).counter("likes").incr(3)
    code, out, err = run("--region", "eu", "--redis-url", eu.url, "--peer", f"us={us.url}", "sync")
    assert code == 0, err
    assert out.startswith("us: ok; 1 keys read, 1 changed")
    assert Region("eu", eu.url).counter("likes").value() == 3
    code, out, _ = run(
        "--region", "eu", "--redis-url", eu.url, "--peer", f"us={us.url}", "sync", "--json"
    )
    (report,) = json.loads(out)
    assert code == 0 and report["peer"] == "us" and report["ok"] and report["keys_read"] == 0


def test_an_unreachable_peer_fails_the_command_with_exit_1(redis_servers: ServerFactory) -> None:
    eu = redis_servers()
    dead = "redis://:s3cret@127.0.0.1:1/0"
    code, out, err = run("--region", "eu", "--redis-url", eu.url, "--peer", f"us={dead}", "sync")
    assert code == 1
    assert "unreachable" in out and "s3cret" not in out + err
    assert err.startswith("error: sync from us failed")


def test_bad_configuration_is_exit_2_and_one_line(redis_servers: ServerFactory) -> None:
    eu = redis_servers()
    code, _, err = run("--redis-url", eu.url, "sync")
    assert code == 2 and err.count("\n") == 1 and "no region configured" in err
    code, _, err = run("--region", "eu", "--redis-url", eu.url, "sync")
    assert code == 2 and "no peers configured" in err
    code, _, err = run("--region", "eu", "--redis-url", eu.url, "--peer", "us", "sync")
    assert code == 2 and "name=redis://" in err


def test_an_unreachable_local_redis_is_exit_1(redis_servers: ServerFactory) -> None:
    code, _, err = run(
        "--region",
        "eu",
        "--redis-url",
        "redis://:pw@127.0.0.1:1/0",
        "--peer",
        "us=redis://x/0",
        "sync",
    )
    assert code == 1
    assert err.startswith("error: cannot reach Redis at redis://:***@127.0.0.1:1/0")
    assert "Traceback" not in err and err.count("\n") == 1
