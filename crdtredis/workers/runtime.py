"""The region a worker process serves: built once, from the worker's configuration.

``crdtredis worker`` calls :func:`configure`; a job running in a process that
was not configured (a plain ``rq worker``) builds its region from the
environment and ``CRDTREDIS_CONFIG`` instead. Job arguments never carry Redis
URLs, so no password ends up in a job payload or an RQ log line.
"""

from __future__ import annotations

from crdtredis.config import RegionConfig, load_config
from crdtredis.replication import Region

_config: RegionConfig | None = None
_region: Region | None = None


def configure(config: RegionConfig) -> None:
    global _config, _region
    _config, _region = config, None


def configured(config: RegionConfig) -> bool:
    """Whether this process already holds the region of ``config``."""
    return _config is config and _region is not None


def config() -> RegionConfig:
    global _config
    if _config is None:
        _config = load_config()
    return _config


def region() -> Region:
    global _region
    if _region is None:
        _region = Region.from_config(config())
    return _region


def queue_name(region_name: str) -> str:
    """The RQ queue a region's sync jobs go to."""
    return f"crdtredis-{region_name}"
