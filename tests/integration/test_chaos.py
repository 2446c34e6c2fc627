"""The short chaos profile: a minute of writes on three regions with faults injected
at random, then the checker (``make chaos`` runs longer ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crdtredis.chaos.run import run

pytestmark = pytest.mark.integration


def test_a_minute_of_chaos_loses_no_acknowledged_operation(tmp_path: Path) -> None:
    report = run(seed=2, seconds=45, folder=tmp_path)
    print(report.summary())
    assert report.ok, report.summary()
    assert report.acknowledged > 1000
    assert {f["kind"] for f in report.faults} >= {"wipe", "restart-redis", "partition"}
    assert report.convergence_seconds is not None
    assert json.loads((tmp_path / "history.json").read_text())["ops"]
