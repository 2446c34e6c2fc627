"""Every command end to end on real Redis servers: output, JSON schema, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crdtredis import Region
from crdtredis.cli import cli
from tests.regions import Regions
from tests.support import CONSOLE_SCRIPT, region_env

pytestmark = pytest.mark.integration


class Shell:
    """Runs the CLI as region eu with peers us and ap, in process or as the console script."""

    def __init__(self, regions: Regions, peers: str | None = None) -> None:
        self.env = region_env(regions, "eu")
        if peers is not None:
            self.env["CRDTREDIS_PEERS"] = peers

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), env=self.env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CONSOLE_SCRIPT, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture
def shell(regions: Regions) -> Shell:
    return Shell(regions)


def test_counter_commands_print_the_value_alone(shell: Shell) -> None:
    assert shell("incr", "likes") == (0, "1\n", "")
    assert shell("incr", "likes", "--by", "4") == (0, "5\n", "")
    assert shell("decr", "likes", "--by", "2") == (0, "3\n", "")
    assert shell("get", "likes") == (0, "3\n", "")
    assert shell("incr", "views", "--type", "gcounter")[1] == "1\n"
    assert shell("incr", "views")[1] == "2\n"  # an existing gcounter stays one


def test_the_console_script_works_the_same(shell: Shell) -> None:
    done = shell.script("incr", "likes", "--by", "7")
    assert (done.returncode, done.stdout, done.stderr) == (0, "7\n", "")
    done = shell.script("get", "nothing")
    assert done.returncode == 2
    assert done.stderr == "error: key 'nothing' does not exist in region eu\n"


def test_sets_and_logs(shell: Shell) -> None:
    assert shell("set", "add", "liked-by", "bob", "alice")[0] == 0
    assert shell("set", "remove", "liked-by", "bob")[0] == 0
    assert shell("set", "members", "liked-by")[1] == "alice\n"
    assert shell("set", "add", "coupons", "X", "--type", "2pset")[0] == 0
    assert shell("set", "remove", "coupons", "X")[0] == 0
    code, _, err = shell("set", "add", "coupons", "X")
    assert code == 2 and "cannot be re-added" in err
    assert shell("log", "append", "events", '{"event": "paid"}', "shipped")[0] == 0
    assert shell("log", "insert", "events", "0", '"created"')[0] == 0
    assert shell("log", "read", "events")[1] == '"created"\n{"event": "paid"}\n"shipped"\n'
    assert shell("log", "remove", "events", "1")[1] == '{"event": "paid"}\n'
    assert shell("log", "read", "events", "--last", "1")[1] == '"shipped"\n'
    assert shell("keys")[1] == "coupons\nevents\nliked-by\n"
    assert shell("keys", "l*", "--type")[1] == "liked-by\torset\n"


def test_inspect_json_follows_the_documented_schema(regions: Regions, shell: Shell) -> None:
    eu, us, _ = regions.all()
    eu.counter("likes").incr(3)
    us.counter("likes").incr(2)
    us.counter("likes").decr(1)
    code, out, _ = shell("inspect", "likes", "--json")
    report: dict[str, Any] = json.loads(out)
    assert code == 0
    assert set(report) == {
        "key", "region", "replica", "type", "shard", "ttl", "exists", "value", "tombstones",
        "replicas", "peers",
    }  # fmt: skip
    assert (report["key"], report["type"], report["value"], report["exists"]) == (
        "likes", "pncounter", 3, True
    )  # fmt: skip
    assert report["replicas"] == [
        {
            "replica": eu.replica,
            "region": "eu",
            "incarnation": eu.incarnation,
            "p": 3,
            "n": 0,
            "current": True,
        }
    ]
    us_view, ap_view = report["peers"]
    assert us_view == {
        "peer": "us",
        "reachable": True,
        "exists": True,
        "value": 1,
        "tombstones": 0,
        "missing_here": 3,
        "missing_there": 3,
    }
    assert ap_view == {
        "peer": "ap",
        "reachable": True,
        "exists": False,
        "missing_here": 0,
        "missing_there": 3,
    }


def test_inspect_tables_for_every_type(regions: Regions, shell: Shell) -> None:
    eu = regions.open("eu")
    eu.counter("c").incr()
    eu.orset("s").add("x")
    eu.sequence("q").append({"n": 1})
    for key, expected in (("c", "replica slots"), ("s", "1 members: x"), ("q", "1 events")):
        code, out, _ = shell("inspect", key)
        assert code == 0 and expected in out and "peers" in out


def test_status_shows_identity_peers_and_sync(regions: Regions, shell: Shell) -> None:
    assert shell("sync")[0] == 0
    code, out, _ = shell("status", "--json")
    report = json.loads(out)
    assert code == 0 and report["region"] == "eu" and len(report["replica"]) == 4
    assert [p["peer"] for p in report["peers"]] == ["us", "ap"]
    assert all(p["reachable"] and p["last_success"] for p in report["peers"])
    code, out, _ = shell("status")
    assert code == 0 and "region eu" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "ghost"), "key 'ghost' does not exist in region eu"),
        (("inspect", "ghost"), "key 'ghost' does not exist in region eu or any reachable peer"),
        (("incr", "likes", "--by", "-1"), "--by must be >= 0"),
        (("incr", "likes", "--by", "x"), "is not a valid integer"),
        (("set", "remove", "liked-by", "zed"), "'zed' is not a member of set 'liked-by'\n"),
        (("log", "read", "ghost"), "key 'ghost' does not exist in region eu"),
        (("log", "remove", "events", "9"), "out of range"),
        (("incr", "tags"), "key 'tags' has type orset, not pncounter"),
        (("get", "tags"), "has type orset, not a counter"),
        (("nonsense",), "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    regions: Regions, shell: Shell, args: tuple[str, ...], message: str
) -> None:
    eu = regions.open("eu")
    eu.orset("tags").add("x")
    eu.orset("liked-by").add("bob")
    eu.sequence("events").append(1)
    code, out, err = shell(*args)
    assert code == 2, (out, err)
    assert message in err
    assert "Traceback" not in err


def test_unreachable_redis_and_peers(regions: Regions) -> None:
    broken = Shell(regions, peers="us=redis://:hunter2@127.0.0.1:1/0")
    code, out, err = broken("sync")
    assert code == 1 and "peer us" in out and "unreachable" in out
    assert "hunter2" not in out + err
    code, out, _ = broken("inspect", "likes")
    assert code == 2  # nothing anywhere reachable
    regions.open("eu").counter("likes").incr()
    code, out, _ = broken("inspect", "likes", "--json")
    assert code == 0 and json.loads(out)["peers"][0]["reachable"] is False
    down = Shell(regions)
    down.env["CRDTREDIS_REDIS_URL"] = "redis://:hunter2@127.0.0.1:1/0"
    done = down.script("incr", "likes")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach Redis at redis://:***@127.0.0.1:1/0")
    assert "hunter2" not in done.stderr and done.stderr.count("\n") == 1


def test_a_malformed_config_file_is_exit_2(tmp_path: Path, regions: Regions) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('region = "eu"\nredis_url = 5\n')
    done = subprocess.run(
        [CONSOLE_SCRIPT, "--config", str(config), "get", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("CRDTREDIS_")},
    )
    assert done.returncode == 2
    assert done.stderr == "error: setting redis_url = '5' is not a valid string\n"
    assert Region("eu", regions.servers["eu"].url).type_of("x") is None


def test_a_password_in_the_query_string_is_never_shown_or_stored(regions: Regions) -> None:
    secret = "s3cr3t-query"
    broken = Shell(regions, peers=f"us=redis://127.0.0.1:1/0?password={secret}")
    code, out, err = broken("sync")
    assert code == 1 and "unreachable" in out
    code, status, _ = broken("status", "--json")
    assert code == 0 and "password=***" in status
    stored = regions.servers["eu"].client().hgetall(regions.open("eu").layout.sync_stats_key("us"))
    assert stored and secret not in str(stored)
    assert secret not in out + err + status


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_a_url_with_a_password_and_a_bad_port_is_one_line_exit_2(
    regions: Regions, port: str
) -> None:
    shell = Shell(regions)
    shell.env["CRDTREDIS_REDIS_URL"] = f"redis://:hunter2@127.0.0.1:{port}/0"
    done = shell.script("get", "x")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "has no valid port" in done.stderr and "hunter2" not in done.stderr


def test_an_increment_by_zero_says_that_nothing_was_written(shell: Shell) -> None:
    code, out, err = shell("incr", "fresh", "--by", "0")
    assert code == 0 and out == "0\n"
    assert "--by 0: nothing was written to 'fresh'" in err
    assert shell("get", "fresh")[0] == 2  # it was not created


def test_del_prints_how_many_keys_held_anything(shell: Shell) -> None:
    assert shell("incr", "views", "--by", "3")[0] == 0
    assert shell("set", "add", "liked-by", "bob")[0] == 0
    assert shell("del", "views", "liked-by", "never-written")[1] == "2\n"
    assert shell("get", "views")[1] == "0\n"
    report = json.loads(shell("inspect", "views", "--json")[1])
    assert (report["exists"], report["value"], report["tombstones"]) == (False, 0, 1)
    assert shell("del", "views")[1] == "0\n"
    assert shell("set", "add", "tags", "x", "--type", "gset")[0] == 0
    code, _, err = shell("del", "tags")
    assert code == 2 and err.count("\n") == 1 and "only grows and cannot be deleted" in err


def test_expire_ttl_persist_and_incr_with_a_ttl(shell: Shell) -> None:
    assert shell("incr", "views:2026-11-23", "--ttl", "2592000")[1] == "1\n"
    assert shell("ttl", "views:2026-11-23")[1] == "2592000\n"
    assert shell("incr", "views:2026-11-23", "--ttl", "60")[1] == "2\n"  # set when new only
    assert shell("ttl", "views:2026-11-23")[1] == "2592000\n"
    assert shell("expire", "views:2026-11-23", "100")[1] == "1\n"
    assert shell("ttl", "views:2026-11-23")[1] == "100\n"
    assert shell("persist", "views:2026-11-23")[1] == "1\n"
    assert shell("ttl", "views:2026-11-23")[1] == "-1\n"
    assert shell("ttl", "never-written")[1] == "-2\n"
    code, _, err = shell("expire", "never-written", "10")
    assert (code, err) == (
        2,
        "error: key 'never-written' does not exist in region eu; nothing to expire\n",
    )
    code, _, err = shell("expire", "views:2026-11-23", "-5")
    assert code == 2 and "-5" in err


def test_map_commands_count_rank_and_list_fields(shell: Shell) -> None:
    assert shell("map", "incr", "views:d", "/pricing", "--by", "3") == (0, "3\n", "")
    assert shell("map", "incr", "views:d", "/", "--ttl", "3600")[1] == "1\n"
    assert shell("map", "incr", "views:d", "/docs", "--by", "3")[1] == "3\n"
    assert shell("map", "decr", "views:d", "/docs")[1] == "2\n"
    assert shell("map", "get", "views:d", "/pricing", "/never") == (0, "3\n0\n", "")
    assert shell("map", "top", "views:d", "-n", "2")[1] == "/pricing\t3\n/docs\t2\n"
    assert shell("map", "items", "views:d")[1] == "/\t1\n/docs\t2\n/pricing\t3\n"
    assert 0 < int(shell("ttl", "views:d")[1]) <= 3600
    assert shell("map", "del", "views:d", "/docs")[1] == "1\n"
    assert shell("map", "items", "views:d")[1] == "/\t1\n/pricing\t3\n"
    code, _, err = shell("get", "views:d")
    assert code == 2 and "use crdtredis map items" in err
    code, _, err = shell("map", "incr", "views:d", "/", "--by", "-1")
    assert (code, err) == (2, "error: --by must be >= 0, got -1; use map decr to count down\n")
    code, _, err = shell("incr", "likes")
    code, _, err = shell("map", "top", "likes")
    assert code == 2 and "has type pncounter, not countermap" in err
    code, out, _ = shell("inspect", "views:d", "--json")
    report = json.loads(out)
    assert (report["type"], report["value"], report["fields"]) == ("countermap", 4, 2)
    assert report["top"] == [["/pricing", 3], ["/", 1]]
