"""The exporter on real Redis regions: exact values and divergence, peer health, short scrapes."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from crdtredis.config import load_config
from crdtredis.embedded import free_port
from crdtredis.metrics import make_registry, serve
from crdtredis.replication import probe
from tests.regions import Regions, converge
from tests.support import region_env, wait_for

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(registry: CollectorRegistry) -> Samples:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def registry_for(regions: Regions, name: str, **extra: Any) -> CollectorRegistry:
    return make_registry(load_config(env=region_env(regions, name), overrides=extra))


def test_values_and_divergence_are_exact_before_and_after_sync(regions: Regions) -> None:
    eu, us, ap = regions.all()
    eu.counter("likes").incr(3)
    us.counter("likes").incr(1)
    ap.counter("likes").decr(1)
    registry = registry_for(regions, "eu")
    before = scrape(registry)
    assert value(before, "crdtredis_up") == 1
    assert value(before, "crdtredis_counter_value", key="likes") == 3
    # one increment in us and one decrement in ap: two updates missing, though they cancel
    assert value(before, "crdtredis_replica_divergence", key="likes") == 2
    assert value(before, "crdtredis_sync_lag_changes", peer="us") == 1
    assert (
        value(
            before,
            "crdtredis_region_info",
            region="eu",
            replica=eu.replica,
            incarnation=eu.incarnation,
        )
        == 1
    )

    converge([eu, us, ap])
    after = scrape(registry)
    assert value(after, "crdtredis_counter_value", key="likes") == 3
    assert value(after, "crdtredis_replica_divergence", key="likes") == 0
    assert value(after, "crdtredis_sync_lag_changes", peer="us") == 0
    assert value(after, "crdtredis_sync_merged_keys_total", peer="us") == 1
    assert value(after, "crdtredis_sync_duration_seconds_count", peer="us") == 3
    assert (
        value(after, "crdtredis_sync_last_success_timestamp_seconds", peer="us") > time.time() - 60
    )


def test_peer_up_follows_a_stopped_and_restarted_peer(regions: Regions) -> None:
    registry = registry_for(regions, "eu")
    assert value(scrape(registry), "crdtredis_peer_up", peer="us") == 1
    regions.servers["us"].kill()
    down = scrape(registry)
    assert value(down, "crdtredis_peer_up", peer="us") == 0
    assert value(down, "crdtredis_peer_up", peer="ap") == 1
    regions.servers["us"].start()
    assert value(scrape(registry), "crdtredis_peer_up", peer="us") == 1


def test_a_hung_peer_keeps_the_scrape_short(regions: Regions) -> None:
    registry = registry_for(regions, "eu")
    regions.servers["us"].pause()
    regions.servers["ap"].pause()
    try:
        started = time.monotonic()
        samples = scrape(registry)
        elapsed = time.monotonic() - started
    finally:
        regions.servers["us"].resume()
        regions.servers["ap"].resume()
    assert value(samples, "crdtredis_up") == 1
    assert value(samples, "crdtredis_peer_up", peer="us") == 0
    assert elapsed < 3.0  # both peers asked in parallel, each with a 1 s timeout


def test_a_down_local_redis_is_up_0_not_a_failed_scrape(regions: Regions) -> None:
    registry = registry_for(regions, "eu")
    regions.servers["eu"].kill()
    samples = scrape(registry)
    assert value(samples, "crdtredis_up") == 0
    regions.servers["eu"].start()
    assert value(scrape(registry), "crdtredis_up") == 1


def test_the_key_cap_counts_what_it_drops(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.incr_many({f"page:{i}": 1 for i in range(7)})
    eu.counter("other").incr()
    registry = registry_for(
        regions, "eu", exporter_keys=("page:*", "other", "missing"), exporter_max_keys=5
    )
    samples = scrape(registry)
    reported = {
        dict(labels)["key"] for (name, labels) in samples if name == "crdtredis_counter_value"
    }
    assert len(reported) == 5
    assert value(samples, "crdtredis_exporter_keys_dropped") == 3


def test_the_http_endpoint_serves_parseable_metrics(regions: Regions) -> None:
    regions.open("eu").counter("likes").incr(2)
    port = free_port()
    config = load_config(
        env=region_env(regions, "eu"),
        overrides={"exporter_port": port, "exporter_bind": "127.0.0.1"},
    )
    server, _ = serve(config)
    try:
        body = (
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        )
    finally:
        server.shutdown()
    families = {f.name: f for f in text_string_to_metric_families(body)}
    assert families["crdtredis_counter_value"].samples[0].value == 2
    assert "process_cpu_seconds" in families


def test_convergence_is_reported_for_origins_reached_through_a_middle_region(
    regions: Regions,
) -> None:
    eu, us, ap = regions.open("eu", ("us",)), regions.open("us"), regions.open("ap", ("us",))
    probe.write_probe(ap)
    assert us.sync_peer("ap").ok
    assert eu.sync_peer("us").ok
    assert probe.origins(eu) == ["ap"]
    samples = scrape(make_registry(load_config(env=region_env(regions, "eu", ("us",)))))
    assert value(samples, "crdtredis_convergence_seconds_count", origin="ap") == 1


def test_a_scrape_of_a_wiped_redis_creates_no_identity(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.counter("likes").incr()
    registry = registry_for(regions, "eu")
    assert value(scrape(registry), "crdtredis_region_info", **_info(eu)) == 1
    regions.servers["eu"].client().flushall()
    samples = scrape(registry)
    assert value(samples, "crdtredis_up") == 1
    assert not any(name == "crdtredis_region_info" for name, _ in samples)
    assert not regions.servers["eu"].client().exists(eu.layout.identity_key)


def _info(region: Any) -> dict[str, str]:
    identity = region.identity
    return {
        "region": identity.region,
        "replica": identity.replica,
        "incarnation": identity.incarnation,
    }


def test_an_exporter_pointed_at_another_regions_redis_reports_down_not_a_500(
    regions: Regions,
) -> None:
    regions.open("us").counter("likes").incr()
    env = region_env(regions, "eu")
    env["CRDTREDIS_REDIS_URL"] = regions.servers["us"].url  # us's Redis, eu's name
    samples = scrape(make_registry(load_config(env=env)))
    assert value(samples, "crdtredis_up") == 0


def test_graves_waiting_for_collection_are_exported_by_the_peer_holding_them(
    regions: Regions,
) -> None:
    eu = regions.open("eu", ("us",))
    eu.counter("bucket").incr()
    eu.expire("bucket", 0.2)
    wait_for(lambda: not eu.client.exists(eu.layout.data_key("bucket")), message="expired")
    samples = scrape(make_registry(load_config(env=region_env(regions, "eu", peers=["us"]))))
    assert value(samples, "crdtredis_graves") == 1
    assert value(samples, "crdtredis_collection_held_back", peer="us") == 1
    assert value(samples, "crdtredis_unmerged_changes", peer="us") == 1  # us never pulled


def test_a_counter_map_reports_its_total_and_its_largest_fields_up_to_the_cap(
    regions: Regions,
) -> None:
    eu, us, _ = regions.all()
    eu.incr_fields({"views:d": {"/": 5, "/docs": 3, "/about": 1}})
    us.counter_map("views:d").incr("/about", 7)
    samples = scrape(registry_for(regions, "eu", exporter_map_fields=2))
    assert value(samples, "crdtredis_counter_value", key="views:d") == 9
    fields = {
        dict(labels)["field"]: v
        for (name, labels), v in samples.items()
        if name == "crdtredis_map_field_value"
    }
    assert fields == {"/": 5, "/docs": 3}
    assert value(samples, "crdtredis_replica_divergence", key="views:d") == 7
    none = scrape(registry_for(regions, "eu", exporter_map_fields=0))
    assert not [name for (name, _) in none if name == "crdtredis_map_field_value"]
