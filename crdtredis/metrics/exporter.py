"""``crdtredis exporter``: serve a region's metrics over HTTP for Prometheus."""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import start_http_server

from crdtredis.config import RegionConfig
from crdtredis.metrics.collector import RegionCollector
from crdtredis.replication import Peer
from crdtredis.replication.region import Region

log = logging.getLogger(__name__)

#: Socket timeout (seconds) for peers while scraping: well under Prometheus'
#: default 10 s scrape timeout, even with every peer hung (they are asked in
#: parallel).
SCRAPE_PEER_TIMEOUT = 1.0


def make_registry(config: RegionConfig) -> CollectorRegistry:
    """A registry with the region collector (and this process' own metrics)."""

    def open_region() -> Region:
        return Region(
            config.region,
            config.redis_url,
            prefix=config.prefix,
            cluster=config.cluster,
            socket_timeout=SCRAPE_PEER_TIMEOUT * 2,
        )

    peers = [
        Peer(
            p,
            prefix=config.prefix,
            timeout=min(config.peer_timeout, SCRAPE_PEER_TIMEOUT),
            cluster=p.cluster,
        )
        for p in config.peers
    ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        RegionCollector(
            open_region,
            peers,
            keys=config.exporter_keys,
            max_keys=config.exporter_max_keys,
            map_fields=config.exporter_map_fields,
        )
    )
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def serve(config: RegionConfig) -> tuple[WSGIServer, threading.Thread]:
    """Start serving ``/metrics`` on the configured address; returns the server and thread."""
    registry = make_registry(config)
    server, thread = start_http_server(
        config.exporter_port, addr=config.exporter_bind, registry=registry
    )
    log.info("exporter for %s on %s:%s", config.region, config.exporter_bind, config.exporter_port)
    return server, thread
