"""The region collector: every series is read from Redis when Prometheus scrapes.

No background thread and no state between scrapes (the custom-collector
pattern of prometheus_client). The local Redis being down is reported as
``crdtredis_up 0``; a peer being down as ``crdtredis_peer_up{peer} 0``; the
scrape itself always succeeds, and peers are asked in parallel with a short
timeout, so a hung peer costs at most that timeout.

The region an exporter serves is a target label from the scrape
configuration, not an exporter label (Prometheus' guide on writing
exporters); ``crdtredis_region_info`` carries the identity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from crdtredis.config import EXPORTER_MAP_FIELDS, EXPORTER_MAX_KEYS
from crdtredis.errors import CRDTRedisError
from crdtredis.replication import Peer, probe, stats
from crdtredis.replication.collection import waiting
from crdtredis.replication.cursor import Cursor
from crdtredis.replication.stats import Histogram
from crdtredis.store.region import RegionStore

log = logging.getLogger(__name__)


#: Counters served from the sync statistics: (metric, statistic, help).
SYNC_TOTALS = (
    (
        "crdtredis_sync_merged_keys",
        "keys_merged_total",
        "Keys changed here by syncs from the peer.",
    ),
    ("crdtredis_sync_read_keys", "keys_read_total", "Keys read from the peer by sync passes."),
    (
        "crdtredis_sync_errors",
        "errors_total",
        "Failed sync passes and rejected keys from the peer.",
    ),
    (
        "crdtredis_sync_rejected_keys",
        "keys_rejected_total",
        "Peer keys rejected as malformed (never merged).",
    ),
)


@dataclass
class PeerView:
    """What one scrape learnt from one peer."""

    up: bool = False
    lag: int | None = None
    states: dict[str, Any] = field(default_factory=dict)


class RegionCollector:
    """Collects a region's metrics from its Redis and its peers' at each scrape.

    Args:
        region: the local region.
        peers: its peers (their clients should have a short timeout).
        keys: names or glob patterns of the keys to report.
        max_keys: most keys reported; the others are counted in
            ``crdtredis_exporter_keys_dropped``.
        map_fields: the largest fields of each counter map reported in
            ``crdtredis_map_field_value`` (at most ``max_keys * map_fields``
            series; 0 for none).
    """

    def __init__(
        self,
        region: RegionStore | Callable[[], RegionStore],
        peers: Sequence[Peer],
        keys: Sequence[str] = ("*",),
        max_keys: int = EXPORTER_MAX_KEYS,
        map_fields: int = EXPORTER_MAP_FIELDS,
    ) -> None:
        self._region = region if isinstance(region, RegionStore) else None
        self._open_region = region
        self.peers = list(peers)
        self.patterns = list(keys)
        self.max_keys = max_keys
        self.map_fields = map_fields

    @property
    def region(self) -> RegionStore:
        """The local region, opened at the first scrape that reaches its Redis."""
        if self._region is None:
            opener = self._open_region
            self._region = opener if isinstance(opener, RegionStore) else opener()
        return self._region

    def describe(self) -> list[Metric]:
        # Registering must not scrape (Redis may be down at start-up).
        return []

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        up_help = "1 when the local Redis answered this scrape."
        try:
            families = list(self._collect_region())
        except (redis.exceptions.RedisError, OSError, CRDTRedisError) as exc:
            # Down, or not this region's Redis at all (another region's identity):
            # the scrape still succeeds and says so.
            log.warning("scrape: local Redis unavailable: %s", exc)
            yield _gauge("crdtredis_up", up_help, 0)
        else:
            yield _gauge("crdtredis_up", up_help, 1)
            yield from families
        yield _gauge(
            "crdtredis_scrape_duration_seconds",
            "Time this exporter took to collect.",
            time.monotonic() - started,
        )

    # -- the parts ---------------------------------------------------------
    def selected_keys(self) -> tuple[list[str], int]:
        """The reported keys (sorted, at most ``max_keys``) and how many were dropped."""
        chosen: set[str] = set()
        for pattern in self.patterns:
            if any(c in pattern for c in "*?["):
                chosen.update(n for n in self.region.names(pattern) if not probe.is_probe(n))
            elif self.region.type_of(pattern) is not None:
                chosen.add(pattern)
        ordered = sorted(chosen)
        return ordered[: self.max_keys], max(0, len(ordered) - self.max_keys)

    def _local_states(self, names: list[str]) -> dict[str, Any]:
        pipe = self.region.client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.region.layout.data_key(name))
        states = {}
        for name, fields in zip(names, pipe.execute(), strict=True):
            try:
                state = self.region.types.decode_hash(fields)
            except ValueError as exc:
                log.warning("scrape: local key %r is corrupt: %s", name, exc)
                continue
            if state is not None:
                states[name] = state
        return states

    def _peer_view(self, peer: Peer, names: list[str], local: str) -> PeerView:
        view = PeerView()
        try:
            source = peer.open()
            view.up = True
            if source is None:
                return view
            cursor, _ = Cursor.load(self.region, peer.name, source.identity, local)
            view.lag = source.pending(cursor.versions)
            for name, fields in zip(names, source.read(names), strict=True):
                if isinstance(fields, Exception):
                    continue  # not a hash at the peer: sync reports it, divergence skips it
                try:
                    state = self.region.types.decode_hash(fields)
                except ValueError:
                    continue  # a corrupt peer key: the same
                if state is not None:
                    view.states[name] = state
        except (redis.exceptions.RedisError, OSError, ValueError, CRDTRedisError) as exc:
            # A peer of another layout answers but is never read: sync counts
            # its refused passes in crdtredis_sync_errors_total.
            log.info("scrape: peer %s unavailable: %s", peer.name, exc)
            view.up = bool(view.up and not isinstance(exc, redis.exceptions.ConnectionError))
        return view

    def _collect_region(self) -> Iterator[Metric]:
        region = self.region
        # Read, never created: a scrape must not mint an incarnation for a wiped Redis.
        identity = region.guard.stored()
        info = GaugeMetricFamily(
            "crdtredis_region_info",
            "The identity of the region this exporter serves (value 1).",
            labels=["region", "replica", "incarnation"],
        )
        if identity is not None:
            info.add_metric([identity.region, identity.replica, identity.incarnation], 1)
        yield info

        names, dropped = self.selected_keys()
        local = self._local_states(names)
        views = self._peer_views(names, identity.incarnation if identity else "")
        yield from self._key_families(names, local, views)
        yield _gauge("crdtredis_exporter_keys", "Keys reported by this exporter.", len(names))
        yield _gauge(
            "crdtredis_exporter_keys_dropped",
            "Keys matching the exporter's patterns but not reported (over max_keys).",
            dropped,
        )
        yield from self._peer_families(views)
        yield from self._collection_families()

    def _collection_families(self) -> Iterator[Metric]:
        found = waiting(self.region, [p.name for p in self.peers])
        yield _gauge(
            "crdtredis_graves",
            "Graves of expired keys waiting until every peer has merged them.",
            found.graves,
        )
        held = GaugeMetricFamily(
            "crdtredis_collection_held_back",
            "Graves waiting for collection whose last change the peer has not merged, or "
            "whose merge there this region has not pulled back yet.",
            labels=["peer"],
        )
        for peer, count in found.held_back_by.items():
            held.add_metric([peer], count)
        yield held
        unmerged = GaugeMetricFamily(
            "crdtredis_unmerged_changes",
            "Objects changed here that the peer has not merged yet: their tombstones, and "
            "deleted objects, wait for it.",
            labels=["peer"],
        )
        for peer, count in found.unmerged.items():
            unmerged.add_metric([peer], count)
        yield unmerged

    def _peer_views(self, names: list[str], local: str) -> dict[str, PeerView]:
        """What each peer holds of ``names``, asked in parallel (lag: from cursors of ``local``)."""
        if not self.peers:
            return {}
        with ThreadPoolExecutor(max_workers=len(self.peers)) as pool:
            found = pool.map(lambda p: self._peer_view(p, names, local), self.peers)
            return dict(zip([p.name for p in self.peers], found, strict=True))

    def _key_families(
        self, names: list[str], local: dict[str, Any], views: dict[str, PeerView]
    ) -> Iterator[Metric]:
        value = GaugeMetricFamily(
            "crdtredis_counter_value", "The counter's value as this region sees it.", labels=["key"]
        )
        divergence = GaugeMetricFamily(
            "crdtredis_replica_divergence",
            "Updates to the key that some reachable peer has and this region lacks (from slots).",
            labels=["key"],
        )
        fields = GaugeMetricFamily(
            "crdtredis_map_field_value",
            "A counter map's field, among its largest counts, as this region sees it.",
            labels=["key", "field"],
        )
        types = self.region.types
        for name in names:
            state = local.get(name)
            if state is not None:
                stored = types.by_name(state["type"])
                number = stored.value(state)
                if number is not None:
                    value.add_metric([name], number)
                for field, count in stored.top(state, self.map_fields):
                    fields.add_metric([name, field], count)
            theirs = [v.states[name] for v in views.values() if name in v.states]
            try:
                divergence.add_metric([name], types.missing(state, theirs))
            except ValueError as exc:
                log.info("scrape: no divergence for %r: %s", name, exc)
        yield value
        yield fields
        yield divergence

    def _peer_families(self, views: dict[str, PeerView]) -> Iterator[Metric]:
        peer_up = GaugeMetricFamily(
            "crdtredis_peer_up", "1 when the peer's Redis answered this scrape.", labels=["peer"]
        )
        lag = GaugeMetricFamily(
            "crdtredis_sync_lag_changes",
            "Changes the peer has indexed past this region's cursor for it.",
            labels=["peer"],
        )
        last_success = GaugeMetricFamily(
            "crdtredis_sync_last_success_timestamp_seconds",
            "When a sync pass from the peer last succeeded (Unix time).",
            labels=["peer"],
        )
        totals = {
            total: CounterMetricFamily(name, help_text, labels=["peer"])
            for name, total, help_text in SYNC_TOTALS
        }
        durations = HistogramMetricFamily(
            "crdtredis_sync_duration_seconds",
            "Duration of sync passes from the peer.",
            labels=["peer"],
        )
        converge = HistogramMetricFamily(
            "crdtredis_convergence_seconds",
            "Time from a probe write in the origin region to its arrival here.",
            labels=["origin"],
        )
        for peer in self.peers:
            view = views.get(peer.name, PeerView())
            peer_up.add_metric([peer.name], 1 if view.up else 0)
            if view.lag is not None:
                lag.add_metric([peer.name], view.lag)
            seen = stats.read(self.region, peer.name)
            if seen.last_success is not None:
                last_success.add_metric([peer.name], seen.last_success)
            for total, family in totals.items():
                family.add_metric([peer.name], seen.totals[total])
            _add_histogram(durations, peer.name, seen.durations)
        for origin in sorted({p.name for p in self.peers} | set(probe.origins(self.region))):
            _add_histogram(converge, origin, probe.convergence(self.region, origin))
        yield from (peer_up, lag, last_success, *totals.values(), durations, converge)


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    """A gauge family with one unlabelled sample."""
    return GaugeMetricFamily(name, help_text, value=value)


def _add_histogram(family: HistogramMetricFamily, label: str, histogram: Histogram) -> None:
    buckets = [(_bound(b), float(n)) for b, n in histogram.buckets]
    buckets.append(("+Inf", float(histogram.count)))
    family.add_metric([label], buckets, histogram.total)


def _bound(value: float) -> str:
    return f"{value:g}" if value != int(value) else f"{value:.1f}"
