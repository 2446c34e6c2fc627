"""Prometheus metrics for a region, collected from Redis at each scrape."""

from crdtredis.metrics.collector import RegionCollector
from crdtredis.metrics.exporter import make_registry, serve

__all__ = ["RegionCollector", "make_registry", "serve"]
