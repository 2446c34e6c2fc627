"""docker-compose.yml, the Dockerfile and the Grafana provisioning hang together.

No Docker engine runs where the tests run, so this checks what can be checked
without one: the compose file validates with docker-compose, and every file
it, the Dockerfile and the provisioning name exists in the repository.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from crdtredis.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_compose_validates_with_docker_compose() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("no docker-compose on PATH (make test installs Debian's where it can)")
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compose_names_only_files_in_the_repository() -> None:
    for name, service in compose()["services"].items():
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            assert (context / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_the_dockerfile_copies_what_exists() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_compose_runs_only_commands_the_cli_has() -> None:
    for name, service in compose()["services"].items():
        command = service.get("command") or []
        entry = " ".join(service.get("entrypoint") or [])
        used = [command[0]] if service.get("image") == "crdtredis:local" and command else []
        used += re.findall(r"crdtredis (\w+)", entry)
        for word in used:
            assert word in cli.commands, f"{name} runs 'crdtredis {word}', which does not exist"


def test_grafana_provisioning_points_at_the_dashboard_and_the_datasource() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2][::-1] for v in grafana["volumes"])
    provider = yaml.safe_load((ROOT / "grafana/provisioning/dashboards/crdtredis.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert ROOT / mounts[path].lstrip("./") == ROOT / "grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "grafana/dashboards" / Path(home).name).is_file()
    datasource = yaml.safe_load(
        (ROOT / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    dashboard = json.loads((ROOT / "grafana/dashboards/crdtredis-convergence.json").read_text())
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert panel["description"] and panel["fieldConfig"]["defaults"]["unit"]
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in compose()["services"]
