"""The README's pure-core examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import fakeredis
import pytest
import redis

from crdtredis.config import load_config
from crdtredis.replication.access import peer_acl

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(marker: str) -> list[str]:
    """Python code blocks of the README whose first line contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if marker in b.splitlines()[0]]


def test_the_core_example_runs() -> None:
    (block,) = python_blocks("from crdtredis.crdt import")
    exec(compile(block, str(README), "exec"), {})


@pytest.mark.parametrize("index", [0, 1])
def test_the_region_examples_run_on_fakeredis(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    blocks = python_blocks("from crdtredis import Region")
    assert len(blocks) == 2
    servers: dict[str, fakeredis.FakeServer] = {}

    def from_url(url: str, **kwargs: object) -> fakeredis.FakeRedis:
        server = servers.setdefault(url, fakeredis.FakeServer())
        return fakeredis.FakeRedis(server=server, decode_responses=True)

    monkeypatch.setattr(redis.Redis, "from_url", staticmethod(from_url))
    exec(compile(blocks[index], str(README), "exec"), {})


def test_the_configuration_example_is_valid(tmp_path: Path) -> None:
    (block,) = re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.S)
    path = tmp_path / "eu.toml"
    path.write_text(block)
    config = load_config(path, env={})
    assert config.region == "eu"
    assert [p.name for p in config.peers] == ["us", "ap"]
    assert config.exporter_keys == ("counter:*",)


def test_the_peer_acl_in_the_readme_is_the_one_the_tests_use() -> None:
    expected = "ACL SETUSER " + " ".join(peer_acl("crdt-peer", "PASSWORD"))
    assert expected in README.read_text()


def test_the_counter_map_example_runs_on_fakeredis(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (block,) = python_blocks("# Counter maps")
    server = fakeredis.FakeServer()

    def from_url(url: str, **kwargs: object) -> fakeredis.FakeRedis:
        return fakeredis.FakeRedis(server=server, decode_responses=True)

    monkeypatch.setattr(redis.Redis, "from_url", staticmethod(from_url))
    exec(compile(block, str(README), "exec"), {})
    assert capsys.readouterr().out == "3 [('/', 5), ('/docs', 3)] 11 3\n"


def test_the_cluster_peer_acl_in_the_readme_is_the_one_the_tests_use() -> None:
    extra = peer_acl("crdt-peer", "PASSWORD", cluster=True)[len(peer_acl("crdt-peer", "P")) :]
    assert " ".join(extra) in README.read_text()
