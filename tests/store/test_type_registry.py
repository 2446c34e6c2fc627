"""A type registered by the suite alone is stored, validated, merged, synced and inspected.

Nothing in crdtredis names the max register (tests/store/max_register.py):
batches, sync, inspect and the exporter reach it through the registry.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.core import CollectorRegistry
from prometheus_client.exposition import generate_latest

from crdtredis.errors import InvalidStateError, WrongTypeError
from crdtredis.metrics.collector import RegionCollector
from crdtredis.replication.inspection import inspect_key
from crdtredis.store import REGISTRY, RegionStore
from crdtredis.store.types import BUILT_IN, TypeRegistry
from tests.regions import Regions
from tests.store.max_register import MAX_REGISTER, RedisMaxRegister, registry_with_max_register
from tests.store.snapshot import snapshot


@pytest.fixture
def types() -> TypeRegistry:
    return registry_with_max_register()


def test_the_registry_knows_each_built_in_type_by_name_and_code() -> None:
    assert [REGISTRY.by_name(t.name) for t in BUILT_IN] == list(BUILT_IN)
    assert [REGISTRY.by_code(t.code) for t in BUILT_IN] == list(BUILT_IN)
    assert REGISTRY.names("counter") == ("gcounter", "pncounter")
    assert "maxregister" not in REGISTRY.names()  # the suite's type stays out of the default


def test_a_type_cannot_take_a_name_or_code_already_registered(types: TypeRegistry) -> None:
    with pytest.raises(ValueError, match="exists"):
        types.register(MAX_REGISTER)


def test_a_registered_type_is_written_read_and_merged(client: Any, types: TypeRegistry) -> None:
    region = RegionStore("eu", client, types=types)
    register = region.handle("maxregister", "m")
    assert isinstance(register, RedisMaxRegister)
    assert register.raise_to(5) and not register.raise_to(3)
    assert register.value() == 5
    assert region.type_of("m") == "maxregister"
    assert region.export("m") == {"type": "maxregister", "value": 5}
    assert isinstance(region.object("m"), RedisMaxRegister)
    assert "m" in list(region.names())


def test_a_bad_state_of_a_registered_type_changes_nothing(client: Any, types: TypeRegistry) -> None:
    region = RegionStore("eu", client, types=types)
    region.handle("maxregister", "m").merge({"type": "maxregister", "value": 2})
    before = snapshot(client)
    report = region.merge_many({"m": {"type": "maxregister", "value": -1}})
    assert isinstance(report.rejected["m"], InvalidStateError)
    with pytest.raises(WrongTypeError, match="maxregister"):
        region.counter("m").incr()
    assert snapshot(client) == before


@pytest.mark.integration
def test_a_registered_type_syncs_and_is_inspected_and_exported(
    regions: Regions, types: TypeRegistry
) -> None:
    eu, us = regions.open("eu", types=types), regions.open("us", types=types)
    eu.handle("maxregister", "m").merge({"type": "maxregister", "value": 7})
    us.handle("maxregister", "m").merge({"type": "maxregister", "value": 9})
    report = inspect_key(eu, "m")
    assert report["type"] == "maxregister" and report["value"] == 7
    assert {p["peer"]: p.get("missing_here") for p in report["peers"]}["us"] == 1
    for region in (eu, us):
        for peer_report in region.sync():
            assert peer_report.ok, peer_report.summary()
    assert eu.export("m") == us.export("m") == {"type": "maxregister", "value": 9}
    metrics = CollectorRegistry()
    metrics.register(RegionCollector(eu, eu.peers, keys=["m"]))
    text = generate_latest(metrics).decode()
    assert 'crdtredis_counter_value{key="m"} 9.0' in text
    assert 'crdtredis_replica_divergence{key="m"} 0.0' in text


@pytest.mark.integration
def test_a_region_without_the_type_rejects_it_by_name(
    regions: Regions, types: TypeRegistry
) -> None:
    regions.open("us", types=types).handle("maxregister", "m").merge(
        {"type": "maxregister", "value": 1}
    )
    report = regions.open("eu", peers=("us",)).sync_peer("us")
    assert report.ok and "unknown type code 'mx'" in report.rejected["m"]
