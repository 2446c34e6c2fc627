"""A region retired for good: values stay, nobody keeps bookkeeping for it, status forgets it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crdtredis.cli import cli
from tests.regions import converge
from tests.replication.conftest import Regions
from tests.support import region_env

pytestmark = pytest.mark.integration


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_retired_region_leaves_values_alone_and_is_forgotten(regions: Regions) -> None:
    live = regions.all()
    for n, region in enumerate(live, start=1):
        region.counter("c").incr(n)
        region.orset("s").add(region.name)
    converge(live)
    # ap is shut down for good; eu and us drop it from their configuration.
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    for region in (eu, us):
        assert region.retire_peer("ap") > 0
        assert not [k for k in region.client.scan_iter("crdt#*") if k.endswith(":ap")]
    regions.servers["ap"].stop()
    eu.counter("c").incr(10)
    converge([eu, us])
    assert eu.counter("c").value() == us.counter("c").value() == 16  # ap's 3 stays
    assert eu.orset("s").members() == us.orset("s").members() == {"eu", "us", "ap"}
    env = region_env(regions, "eu", peers=["us"])
    code, out, _ = run(env, "status", "--json")
    assert code == 0 and [p["peer"] for p in json.loads(out)["peers"]] == ["us"]


def test_a_configured_peer_cannot_be_retired(regions: Regions) -> None:
    env = region_env(regions, "eu")
    code, _, err = run(env, "retire", "ap")
    assert code == 2
    assert err == (
        "error: ap is still a peer of region eu: remove it from the configuration of "
        "every region first, then retire it\n"
    )
    code, out, _ = run(region_env(regions, "eu", peers=["us"]), "retire", "ap")
    assert code == 0 and out.startswith("region eu forgot ap:")
