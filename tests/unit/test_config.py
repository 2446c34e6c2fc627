"""Configuration: file, environment and flags, in increasing priority; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from crdtredis.config import ConfigError, PeerConfig, load_config, parse_peers, redact

FULL = """
region = "eu"
redis_url = "redis://eu-redis:6379/0"
prefix = "crdt"

[sync]
interval = 0.25
timeout = 1.5
batch = 500

[exporter]
port = 9200
keys = ["counter:*", "page:/"]

[[peers]]
name = "us"
url = "redis://us-redis:6379/0"

[[peers]]
name = "ap"
url = "redis://:secret@ap-redis:6379/0"
cluster = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crdtredis.toml"
    path.write_text(text)
    return path


def test_the_file_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={})
    assert config.region == "eu"
    assert config.peers == (
        PeerConfig("us", "redis://us-redis:6379/0"),
        PeerConfig("ap", "redis://:secret@ap-redis:6379/0", cluster=True),
    )
    assert (config.sync_interval, config.peer_timeout, config.sync_batch) == (0.25, 1.5, 500)
    assert config.exporter_port == 9200
    assert config.exporter_keys == ("counter:*", "page:/")
    assert config.queue == config.redis_url


def test_environment_beats_the_file_and_flags_beat_both(tmp_path: Path) -> None:
    env = {
        "CRDTREDIS_CONFIG": str(write(tmp_path, FULL)),
        "CRDTREDIS_REDIS_URL": "redis://from-env:6379/0",
        "CRDTREDIS_PEERS": "us=redis://us-env:1/0",
        "CRDTREDIS_SYNC_INTERVAL": "2",
    }
    config = load_config(env=env, overrides={"redis_url": "redis://flag:6379/0", "region": None})
    assert config.region == "eu"
    assert config.redis_url == "redis://flag:6379/0"
    assert config.peers == (PeerConfig("us", "redis://us-env:1/0"),)
    assert config.sync_interval == 2.0


def test_environment_alone_is_enough() -> None:
    config = load_config(env={"CRDTREDIS_REGION": "us", "CRDTREDIS_REDIS_URL": "redis://x:1/0"})
    assert (config.region, config.peers) == ("us", ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('region = "eu"', "no redis_url configured"),
        ('redis_url = "redis://x"', "no region configured"),
        ('region = "eu"\nredis_url = "http://x"', "must be a redis://"),
        ('region = "e u"\nredis_url = "redis://x"', "region name"),
        ('region = "eu"\nredis_url = "redis://x"\ncolour = 1', "unknown setting 'colour'"),
        ('region = "eu"\nredis_url = "redis://x"\n[sync]\nspeed = 1', "unknown setting sync.speed"),
        (
            'region = "eu"\nredis_url = "redis://x"\n[sync]\ninterval = -1',
            "number of seconds from 0.01 to 3600",
        ),
        ('region = "eu"\nredis_url = "redis://x"\n[[peers]]\nname = "us"', "has no url"),
        (
            'region = "eu"\nredis_url = "redis://x"\n[[peers]]\nname = "eu"\nurl = "redis://y"',
            "lists itself",
        ),
        ("region = [", "not valid TOML"),
    ],
)
def test_bad_files_get_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(write(tmp_path, text), env={})
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file .*nope.toml"):
        load_config(tmp_path / "nope.toml", env={})


def test_peers_are_parsed_and_checked() -> None:
    assert parse_peers("us=redis://a:1/0, ap=redis://b:2/0") == (
        PeerConfig("us", "redis://a:1/0"),
        PeerConfig("ap", "redis://b:2/0"),
    )
    with pytest.raises(ConfigError, match="name=redis://"):
        parse_peers("us")
    with pytest.raises(ConfigError, match="listed twice"):
        load_config(
            env={
                "CRDTREDIS_REGION": "eu",
                "CRDTREDIS_REDIS_URL": "redis://x",
                "CRDTREDIS_PEERS": "us=redis://a,us=redis://b",
            }
        )


def test_passwords_never_show() -> None:
    assert redact("redis://user:hunter2@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact("redis://host:6379/0") == "redis://host:6379/0"
    config = load_config(
        env={
            "CRDTREDIS_REGION": "eu",
            "CRDTREDIS_REDIS_URL": "redis://:hunter2@x:1/0",
            "CRDTREDIS_PEERS": "us=redis://:hunter3@y:1/0",
        }
    )
    assert "hunter" not in repr(config)
    with pytest.raises(ConfigError) as caught:
        parse_peers("redis://:hunter2@x")
    assert "hunter2" not in str(caught.value)


BASE = 'region = "eu"\nredis_url = "redis://x"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sync]\ninterval = nan", "sync_interval = 'nan' is not a valid number of seconds"),
        ("[sync]\ninterval = inf", "sync_interval = 'inf' is not a valid number of seconds"),
        ("[sync]\ntimeout = 1e-9", "peer_timeout = '1e-09' is not a valid number of seconds"),
        ("[sync]\nbatch = 2.7", "sync_batch = '2.7' is not a valid whole number from 1"),
        ("[exporter]\nport = 70000", "exporter_port = '70000' is not a valid whole number"),
        ('[[peers]]\nname = 5\nurl = "redis://y"', "name and url must be strings"),
    ],
)
def test_non_finite_and_out_of_range_settings_are_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, BASE + text), env={})


@pytest.mark.parametrize("interval", ["nan", "inf", "-inf", "0"])
def test_a_non_finite_interval_from_the_environment_is_refused(interval: str) -> None:
    env = {
        "CRDTREDIS_REGION": "eu",
        "CRDTREDIS_REDIS_URL": "redis://x:1/0",
        "CRDTREDIS_SYNC_INTERVAL": interval,
    }
    with pytest.raises(ConfigError, match="sync_interval"):
        load_config(env=env)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("redis://h:6379/0?password=pw&db=1", "redis://h:6379/0?password=***&db=1"),
        ("redis://h/0?username=me&Password=x%40y", "redis://h/0?username=***&Password=***"),
        ("unix:///tmp/r.sock?password=s", "unix:///tmp/r.sock?password=***"),
        ("redis://u:pw@h:99999/0", "redis://u:***@h:99999/0"),
        ("redis://u:pw@h:abc/0", "redis://u:***@h:abc/0"),
        ("redis://u:p@w@h/0", "redis://u:***@h/0"),
    ],
)
def test_every_form_of_credential_is_redacted_and_bad_ports_do_not_crash(
    url: str, safe: str
) -> None:
    assert redact(url) == safe
