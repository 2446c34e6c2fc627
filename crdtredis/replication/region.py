"""A region with its peers: the local store plus replication from the peers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crdtredis.config import PEER_TIMEOUT, SYNC_BATCH, PeerConfig, RegionConfig
from crdtredis.replication.leases import ALL_SHARDS, ShardGroup
from crdtredis.replication.peer import Peer
from crdtredis.replication.sync import PeerReport, Syncer
from crdtredis.store.region import RegionStore


class Region(RegionStore):
    """A region's Redis plus the peers it pulls from.

    ``Region("eu", url, peers={"us": us_url})``; ``region.sync()`` runs one
    pass from every peer and returns a report per peer. Everything else is
    the local store (:class:`crdtredis.store.RegionStore`).

    ``peers`` maps names to URLs, or lists :class:`PeerConfig` entries or
    ready :class:`Peer` objects (a peer with a client of the caller's own,
    such as a test's fakeredis).
    """

    def __init__(
        self,
        name: str,
        connection: Any,
        *,
        peers: Mapping[str, str] | Sequence[PeerConfig | Peer] = (),
        peer_timeout: float = PEER_TIMEOUT,
        sync_batch: int = SYNC_BATCH,
        **options: Any,
    ) -> None:
        super().__init__(name, connection, **options)
        given = (
            [PeerConfig(n, u) for n, u in peers.items()] if isinstance(peers, Mapping) else peers
        )
        self.peers = [
            p
            if isinstance(p, Peer)
            else Peer(p, prefix=self.layout.prefix, timeout=peer_timeout, cluster=p.cluster)
            for p in given
        ]
        self.syncer = Syncer(self, self.peers, batch=sync_batch)

    @classmethod
    def from_config(cls, config: RegionConfig) -> Region:
        return cls(
            config.region,
            config.redis_url,
            peers=config.peers,
            peer_timeout=config.peer_timeout,
            sync_batch=config.sync_batch,
            prefix=config.prefix,
            cluster=config.cluster,
        )

    def sync(self, group: ShardGroup = ALL_SHARDS, budget: float | None = None) -> list[PeerReport]:
        """One sync pass from every peer, over ``group``'s shards (all by default); a
        failing peer is reported, not raised. See :meth:`Syncer.sync`."""
        return self.syncer.sync(group, budget=budget)

    def sync_peer(
        self, name: str, group: ShardGroup = ALL_SHARDS, budget: float | None = None
    ) -> PeerReport:
        """One sync pass from peer ``name``. See :meth:`Syncer.sync_peer`."""
        return self.syncer.sync_peer(name, group, budget=budget)

    def retire_peer(self, name: str) -> int:
        """Forget a region retired for good: its cursor, statistics, lease and probes here.

        Its replica slots stay in every counter (values do not change) and
        its elements in every set and log; only this region's bookkeeping
        about pulling from it goes. Returns how many keys were removed.

        Raises:
            ValueError: ``name`` is still one of this region's peers (remove
                it from the configuration first, in every region).
        """
        if any(peer.name == name for peer in self.peers):
            raise ValueError(
                f"{name} is still a peer of region {self.name}: remove it from the "
                "configuration of every region first, then retire it"
            )
        layout = self.layout
        keys = [
            layout.cursor_key(name),
            layout.merged_key(name),
            layout.sync_stats_key(name),
            layout.retry_key(name),
            layout.lock_key(name),
            layout.convergence_key(name),
        ]
        removed = int(self.client.delete(*keys))
        self.client.srem(layout.convergence_origins_key, name)
        return removed
