"""The README's pure-core examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import fakeredis
import pytest
import redis

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(marker: str) -> list[str]:
    """Python code blocks of the README whose first line contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if marker in b.splitlines()[0]]


def test_the_core_example_runs() -> None:
    (block,) = python_blocks("from crdtredis.crdt import")
    exec(compile(block, str(README), "exec"), {})


def test_the_region_example_runs_on_fakeredis(monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = python_blocks("from crdtredis import Region")
    server = fakeredis.FakeServer()

    def from_url(url: str, **kwargs: object) -> fakeredis.FakeRedis:
        return fakeredis.FakeRedis(server=server, decode_responses=True)

    monkeypatch.setattr(redis.Redis, "from_url", staticmethod(from_url))
    exec(compile(block, str(README), "exec"), {})
