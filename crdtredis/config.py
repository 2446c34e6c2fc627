"""A region's configuration: TOML file, then environment, then flags.

Sources in increasing priority: the TOML file (``--config`` or
``CRDTREDIS_CONFIG``), the environment (``CRDTREDIS_REGION``,
``CRDTREDIS_REDIS_URL``, ``CRDTREDIS_PEERS`` as ``name=url,name=url``, and the
others listed in :data:`ENVIRONMENT`), then explicit overrides (CLI flags).
Every problem is a :class:`ConfigError` whose message names the setting and
says what is expected.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from crdtredis.errors import CRDTRedisError
from crdtredis.store.identity import REGION_PATTERN
from crdtredis.store.layout import DEFAULT_PREFIX

#: Defaults the library's classes share with the configuration.
PEER_TIMEOUT = 2.0
SYNC_BATCH = 1000
EXPORTER_MAX_KEYS = 1000
#: Fields of each counter map the exporter reports (its largest counts).
EXPORTER_MAP_FIELDS = 10


class ConfigError(CRDTRedisError, ValueError):
    """The configuration is missing something or holds a bad value."""


@dataclass(frozen=True)
class SettingKind:
    """How a setting's raw value (from TOML, the environment or a flag) becomes a typed one.

    ``parse`` raises ``ValueError``, ``KeyError`` or ``TypeError`` on a bad
    value; ``what`` names the kind in the error.
    """

    what: str
    parse: Callable[[Any], Any]


def seconds(low: float, high: float) -> SettingKind:
    """A finite number of seconds in ``[low, high]`` (``nan`` and ``inf`` are refused)."""

    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not (math.isfinite(number) and low <= number <= high):
            raise ValueError
        return number

    return SettingKind(f"number of seconds from {low:g} to {high:g}", parse)


def whole(low: int, high: int) -> SettingKind:
    """A whole number in ``[low, high]``; ``2.7`` is refused, not truncated."""

    def parse(value: Any) -> int:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        number = int(value.strip()) if isinstance(value, str) else value
        if not isinstance(number, int) or not low <= number <= high:
            raise ValueError
        return number

    return SettingKind(f"whole number from {low} to {high}", parse)


def _flag_value(value: object) -> bool:
    if isinstance(value, str):
        value = {"true": True, "1": True, "false": False, "0": False}[value.lower()]
    if not isinstance(value, bool):
        raise ValueError
    return value


def _strings(value: object) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError
    return tuple(i.strip() for i in items if i.strip())


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


TEXT = SettingKind("string", _text)
FLAG = SettingKind("true or false", _flag_value)
STRINGS = SettingKind("list of strings", _strings)
PEERS = SettingKind("list of peers", tuple)


def setting(kind: SettingKind, default: Any) -> Any:
    """A configuration field of ``kind`` (see :func:`_coerce`)."""
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True)
class PeerConfig:
    """A peer region this region pulls from."""

    name: str
    url: str
    #: The peer's Redis is a Redis Cluster (``url`` names one of its nodes).
    cluster: bool = False

    def __repr__(self) -> str:
        return f"PeerConfig(name={self.name!r}, url={redact(self.url)!r}, cluster={self.cluster})"


@dataclass(frozen=True, repr=False)
class RegionConfig:
    """Everything a region's processes need to know."""

    region: str
    redis_url: str
    peers: tuple[PeerConfig, ...] = setting(PEERS, ())
    prefix: str = DEFAULT_PREFIX
    cluster: bool = setting(FLAG, False)
    #: Where the RQ queue lives (RQ needs a plain Redis); default: ``redis_url``.
    queue_url: str | None = None
    #: Seconds between sync passes from each peer.
    sync_interval: float = setting(seconds(0.01, 3600), 0.5)
    #: Socket timeout (seconds) for every call to a peer's Redis.
    peer_timeout: float = setting(seconds(0.01, 600), PEER_TIMEOUT)
    #: Keys read from a peer per shard per round of a pass.
    sync_batch: int = setting(whole(1, 100_000), SYNC_BATCH)
    #: Longest wait (seconds) between attempts at a peer that keeps failing.
    max_backoff: float = setting(seconds(0.01, 86_400), 30.0)
    exporter_bind: str = "0.0.0.0"
    exporter_port: int = setting(whole(1, 65_535), 9108)
    #: Names or glob patterns of the keys the exporter reports.
    exporter_keys: tuple[str, ...] = setting(STRINGS, ("*",))
    #: Most per-key series the exporter emits; the rest are counted as dropped.
    exporter_max_keys: int = setting(whole(1, 1_000_000), EXPORTER_MAX_KEYS)
    #: Largest fields of each counter map reported as series of their own (0: none).
    exporter_map_fields: int = setting(whole(0, 10_000), EXPORTER_MAP_FIELDS)

    @property
    def queue(self) -> str:
        return self.queue_url or self.redis_url

    def __repr__(self) -> str:
        peers = ", ".join(f"{p.name}={redact(p.url)}" for p in self.peers)
        url = redact(self.redis_url)
        return f"RegionConfig(region={self.region!r}, redis_url={url!r}, peers=[{peers}])"

    def peer(self, name: str) -> PeerConfig:
        for peer in self.peers:
            if peer.name == name:
                return peer
        known = ", ".join(p.name for p in self.peers) or "none"
        raise ConfigError(f"region {self.region!r} has no peer {name!r} (peers: {known})")


#: Environment variables and the settings they fill.
ENVIRONMENT = {
    "CRDTREDIS_REGION": "region",
    "CRDTREDIS_REDIS_URL": "redis_url",
    "CRDTREDIS_PEERS": "peers",
    "CRDTREDIS_PREFIX": "prefix",
    "CRDTREDIS_QUEUE_URL": "queue_url",
    "CRDTREDIS_SYNC_INTERVAL": "sync_interval",
    "CRDTREDIS_PEER_TIMEOUT": "peer_timeout",
    "CRDTREDIS_MAX_BACKOFF": "max_backoff",
    "CRDTREDIS_EXPORTER_PORT": "exporter_port",
    "CRDTREDIS_EXPORTER_BIND": "exporter_bind",
}

#: Sections of the TOML file and the settings their keys fill.
_FILE_SECTIONS = {
    "sync": {
        "interval": "sync_interval",
        "timeout": "peer_timeout",
        "batch": "sync_batch",
        "max_backoff": "max_backoff",
    },
    "exporter": {
        "bind": "exporter_bind",
        "port": "exporter_port",
        "keys": "exporter_keys",
        "max_keys": "exporter_max_keys",
        "map_fields": "exporter_map_fields",
    },
}
_TOP_LEVEL = {"region", "redis_url", "prefix", "cluster", "queue_url", "peers"}


def parse_peers(text: str) -> tuple[PeerConfig, ...]:
    """``name=url,name=url`` (the form of ``CRDTREDIS_PEERS`` and ``--peer``)."""
    peers = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, eq, url = item.partition("=")
        if not eq or not name.strip() or not url.strip():
            raise ConfigError(f"peer {redact(item)!r} must be written name=redis://host:port/db")
        peers.append(PeerConfig(name.strip(), url.strip()))
    return tuple(peers)


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _FILE_SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [{key}] must be a table")
            for inner, inner_value in value.items():
                setting = _FILE_SECTIONS[key].get(inner)
                if setting is None:
                    known = ", ".join(_FILE_SECTIONS[key])
                    raise ConfigError(f"{path}: unknown setting {key}.{inner} (known: {known})")
                values[setting] = inner_value
        elif key == "peers":
            if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
                raise ConfigError(f"{path}: peers must be [[peers]] tables with name and url")
            try:
                values["peers"] = tuple(
                    PeerConfig(_text(p["name"]), _text(p["url"]), _flag(p.get("cluster", False)))
                    for p in value
                )
            except KeyError as exc:
                raise ConfigError(f"{path}: a [[peers]] entry has no {exc.args[0]}") from None
            except ValueError:
                raise ConfigError(
                    f"{path}: a [[peers]] entry's name and url must be strings "
                    '(name = "us", url = "redis://...")'
                ) from None
        elif key in _TOP_LEVEL:
            values[key] = value
        else:
            known = ", ".join(sorted(_TOP_LEVEL | set(_FILE_SECTIONS)))
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {known})")
    return values


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"peer setting cluster = {value!r} must be true or false")
    return value


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for variable, setting in ENVIRONMENT.items():
        if env.get(variable):
            values[setting] = parse_peers(env[variable]) if setting == "peers" else env[variable]
    return values


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Check and convert each setting with the kind its field declares."""
    kinds: dict[str, SettingKind] = {
        f.name: f.metadata.get("kind", TEXT) for f in fields(RegionConfig)
    }
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = kinds[name]
        try:
            out[name] = kind.parse(value)
        except (ValueError, KeyError, TypeError):
            raise ConfigError(
                f"setting {name} = {redact(str(value))!r} is not a valid {kind.what}"
            ) from None
    return out


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RegionConfig:
    """Build a region's configuration from its three sources.

    Args:
        path: the TOML file; ``CRDTREDIS_CONFIG`` names one when omitted.
        env: the environment (``os.environ`` when omitted).
        overrides: explicit settings (CLI flags); ``None`` values are ignored.

    Raises:
        ConfigError: a source cannot be read, or a setting is missing or bad.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    file = path or env.get("CRDTREDIS_CONFIG")
    if file:
        values.update(_from_file(Path(file)))
    values.update(_from_environment(env))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    values = _coerce(values)
    for required, hint in (
        ("region", "CRDTREDIS_REGION or --region"),
        ("redis_url", "CRDTREDIS_REDIS_URL or --redis-url"),
    ):
        if not values.get(required):
            raise ConfigError(f"no {required} configured: set it in the config file, {hint}")
    config = RegionConfig(**values)
    return _checked(config)


def _checked(config: RegionConfig) -> RegionConfig:
    if not REGION_PATTERN.fullmatch(config.region):
        raise ConfigError(f"region name {config.region!r} must be 1-32 letters, digits, '_' or '-'")
    names = [p.name for p in config.peers]
    for peer in config.peers:
        if not REGION_PATTERN.fullmatch(peer.name):
            raise ConfigError(f"peer name {peer.name!r} must be 1-32 letters, digits, '_' or '-'")
        if peer.name == config.region:
            raise ConfigError(f"region {config.region!r} lists itself as a peer")
    if len(set(names)) != len(names):
        raise ConfigError(f"a peer is listed twice: {names}")
    for name, url in [("redis_url", config.redis_url), ("queue_url", config.queue_url)] + [
        (f"peer {p.name}", p.url) for p in config.peers
    ]:
        if url is None:
            continue
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(
                f"{name} {redact(url)!r} must be a redis://, rediss:// or unix:// URL"
            )
        try:
            if urlsplit(url).port == 0:
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"{name} {redact(url)!r} has no valid port: give a number from 1 to 65535"
            ) from None
    return config


def with_overrides(config: RegionConfig, **changes: Any) -> RegionConfig:
    """A copy of ``config`` with some settings changed (checked again)."""
    return _checked(replace(config, **_coerce(changes)))


#: Query parameters of a Redis URL that carry credentials (redis-py honours both).
SECRET_PARAMETERS = ("password", "username", "ssl_password")


def redact(url: str) -> str:
    """``url`` with every credential replaced by ``***``, safe to print, log or store.

    Covers each form redis-py accepts: a password in the userinfo
    (``redis://user:secret@host``) and ``password=`` / ``username=`` query
    parameters. Never raises, whatever the URL (a bad port, say).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    safe = url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        safe = safe.replace(parts.netloc, f"{userinfo.split(':', 1)[0]}:***@{hostport}", 1)
    if parts.query:
        query = "&".join(
            f"{key}=***" if unquote(key).lower() in SECRET_PARAMETERS else f"{key}{eq}{value}"
            for key, eq, value in (item.partition("=") for item in parts.query.split("&"))
        )
        head, _, tail = safe.partition("?")
        safe = f"{head}?{query}" + (f"#{tail.split('#', 1)[1]}" if "#" in tail else "")
    return safe


__all__ = ["ConfigError", "PeerConfig", "RegionConfig", "load_config", "parse_peers", "redact"]
