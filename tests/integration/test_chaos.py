"""The short chaos profile: a minute of writes on three regions with faults injected
at random, then the checker (``make chaos`` runs longer ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crdtredis.chaos.run import run

pytestmark = pytest.mark.integration


def test_a_minute_of_chaos_loses_no_acknowledged_operation(tmp_path: Path) -> None:
    report = run(seed=3, seconds=45, folder=tmp_path)
    print(report.summary())
    assert report.ok, report.summary()
    assert report.acknowledged > 1000
    assert {f["kind"] for f in report.faults} >= {
        "lose-disk", "restart-redis", "partition", "full-memory", "pause-redis"
    }  # fmt: skip
    assert report.convergence_seconds is not None and report.clock_skew[1] != 0
    ops = json.loads((tmp_path / "history.json").read_text())["ops"]
    written = {(op["kind"], op["key"][0]) for op in ops if op["outcome"] == "ok"}
    assert written >= {
        ("incr", "c"), ("decr", "c"), ("delete", "c"), ("incr", "m"), ("decr", "m"),
        ("delete", "m"), ("incr", "x"), ("expire", "x"), ("add", "s"), ("remove", "s"),
        ("append", "l"),
    }  # fmt: skip
