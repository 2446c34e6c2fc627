"""Dashboards and alert rules against a real Prometheus scraping three real regions.

Every dashboard panel query and every rule expression must be valid PromQL
that returns data after a short run, and name only metrics the exporter
emits. Prometheus comes from the system (Debian's ``prometheus`` package,
which ``make test`` installs where it can).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from crdtredis.config import load_config
from crdtredis.embedded import free_port
from crdtredis.metrics import serve
from tests.regions import NAMES, Regions
from tests.support import CONSOLE_SCRIPT, region_env, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "grafana" / "dashboards" / "crdtredis-convergence.json"
RULES = ROOT / "prometheus" / "rules" / "crdtredis.yml"
#: Seconds between two questions to Prometheus while waiting for data.
POLL = 0.5


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        return list(data["result"])


@pytest.fixture
def stack(regions: Regions) -> Iterator[tuple[Prometheus, dict[str, int]]]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus binary on PATH (make test installs Debian's where it can)")
    exporters: dict[str, int] = {}
    servers = []
    workers = []
    for name in NAMES:
        env = region_env(regions, name)
        port = free_port()
        exporters[name] = port
        config = load_config(
            env=env, overrides={"exporter_port": port, "exporter_bind": "127.0.0.1"}
        )
        servers.append(serve(config)[0])
        workers.append(
            subprocess.Popen(
                [CONSOLE_SCRIPT, "worker"],
                env={**os.environ, **env, "CRDTREDIS_SYNC_INTERVAL": "0.2"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    # The compose file's Prometheus configuration, pointed at these exporters.
    config = yaml.safe_load((ROOT / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(RULES)]
    for target in config["scrape_configs"][0]["static_configs"]:
        target["targets"] = [f"127.0.0.1:{exporters[target['labels']['region']]}"]
    workdir = Path(tempfile.mkdtemp(prefix="crdtredis-prom-"))
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prometheus = Prometheus(port)
    try:
        wait_for(lambda: _ready(prometheus), timeout=30, interval=POLL, message="Prometheus ready")
        yield prometheus, exporters
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=20)
        for server in servers:
            server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


def _ready(prometheus: Prometheus) -> bool:
    try:
        targets = prometheus.get("/api/v1/targets")["activeTargets"]
    except OSError:
        return False
    return len(targets) == 3 and all(t["health"] == "up" for t in targets)


def panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def rule_expressions() -> list[tuple[str, str]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [(r["alert"], r["expr"]) for g in groups for r in g["rules"]]


def left_side(expr: str) -> str:
    match = re.fullmatch(r"(.+?)\s*(>|<|==|!=|>=|<=)\s*[\d.]+", expr.strip(), flags=re.S)
    assert match, f"rule expression {expr!r} is not '<series> <op> <threshold>'"
    return match.group(1)


def emitted_families(exporter_port: int) -> set[str]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{exporter_port}/metrics", timeout=10).read()
    return {s.name for f in text_string_to_metric_families(body.decode()) for s in f.samples}


def test_dashboard_and_rules_return_data_from_a_live_run(
    regions: Regions, stack: tuple[Prometheus, dict[str, int]]
) -> None:
    prometheus, exporters = stack
    live = regions.all()
    for i, region in enumerate(live):
        region.counter("likes").incr(i + 1)

    keys = wait_for(
        lambda: prometheus.get(
            "/api/v1/label/key/values", **{"match[]": "crdtredis_counter_value"}
        ),
        timeout=60,
        interval=POLL,
        message="the dashboard's key variable",
    )
    assert "likes" in keys

    for title, expr in panel_queries():
        expr = expr.replace("$key", "likes")
        result = wait_for(
            partial(prometheus.query, expr),
            timeout=90,
            interval=POLL,
            message=f"panel {title!r}: {expr}",
        )
        assert result, title
        # Shown with pytest -s: what each panel would draw (for the record).
        print(f"PANEL {title}: {expr}")
        for series in result:
            print(f"    {series['metric']} = {series['value'][1]}")

    rules = prometheus.get("/api/v1/rules")["groups"]
    loaded = {r["name"]: r for g in rules for r in g["rules"]}
    for alert, expr in rule_expressions():
        assert loaded[alert]["health"] == "ok", loaded[alert]
        lhs = left_side(expr)
        assert wait_for(
            partial(prometheus.query, lhs),
            timeout=90,
            interval=POLL,
            message=f"rule {alert}: {lhs}",
        )

    emitted = emitted_families(exporters["eu"])
    named = {
        name
        for _, expr in panel_queries() + rule_expressions()
        for name in re.findall(r"crdtredis_[a-z_]+", expr)
    }
    assert named <= emitted, f"queries name metrics the exporter does not emit: {named - emitted}"


def test_the_peer_down_alert_goes_pending_when_a_peer_stops(
    regions: Regions, stack: tuple[Prometheus, dict[str, int]]
) -> None:
    prometheus, _ = stack
    regions.servers["ap"].kill()

    def peer_down_alerts() -> list[dict[str, Any]]:
        alerts = prometheus.get("/api/v1/alerts")["alerts"]
        found = [a for a in alerts if a["labels"]["alertname"] == "CRDTRedisPeerDown"]
        # Both regions that pull from ap must see it down (their scrapes are not in step).
        return found if len({a["labels"]["region"] for a in found}) >= 2 else []

    alerts = wait_for(
        peer_down_alerts,
        timeout=60,
        interval=POLL,
        message="CRDTRedisPeerDown from eu and us",
    )
    assert {a["labels"]["peer"] for a in alerts} == {"ap"}
    assert {a["labels"]["region"] for a in alerts} == {"eu", "us"}
