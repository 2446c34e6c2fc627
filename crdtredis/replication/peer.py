"""Read access to a peer region's Redis, with every call bounded by a timeout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from crdtredis.config import PEER_TIMEOUT, PeerConfig, redact
from crdtredis.store.identity import RegionIdentity
from crdtredis.store.layout import DEFAULT_PREFIX, KeyLayout

#: (name, version) pairs from a peer's change index.
Changes = list[tuple[str, int]]


class Peer:
    """A peer region as seen from here: read-only, never waiting longer than ``timeout``.

    Retries are off: a peer that does not answer within the timeout fails the
    call at once, and the sync pass reports it rather than waiting longer.
    """

    def __init__(
        self,
        config: PeerConfig,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = PEER_TIMEOUT,
        cluster: bool = False,
    ) -> None:
        self.name = config.name
        self.url = config.url
        self.prefix = prefix
        factory = redis.RedisCluster if cluster else redis.Redis
        options: dict[str, Any] = {
            "decode_responses": True,
            # A peer's bytes that are not UTF-8 become lone surrogates, which
            # validation rejects for that key instead of failing the page.
            "encoding_errors": "surrogateescape",
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
        if not cluster:
            options["retry"] = Retry(NoBackoff(), 0)
        self.client: Any = factory.from_url(config.url, **options)

    @property
    def where(self) -> str:
        return redact(self.url)

    def identity(self) -> RegionIdentity | None:
        """The peer's identity, or None when it holds none yet (nothing to pull)."""
        fields = self.client.hgetall(KeyLayout(self.prefix).identity_key)
        if not fields:
            return None
        return RegionIdentity.from_fields(fields, f"peer {self.name} ({self.where})")

    def layout(self, identity: RegionIdentity) -> KeyLayout:
        return KeyLayout(self.prefix, identity.shards)

    def heads(self, layout: KeyLayout) -> list[int]:
        """Each shard's latest version (0 for a shard never written)."""
        pipe = self.client.pipeline(transaction=False)
        for shard in range(layout.shards):
            pipe.hget(layout.head_key(shard), "v")
        return [int(v or 0) for v in pipe.execute()]

    def changes(
        self, layout: KeyLayout, after: Mapping[int, int], limit: int
    ) -> dict[int, Changes]:
        """For each shard, up to ``limit`` (name, version) past ``after[shard]``, oldest first."""
        pipe = self.client.pipeline(transaction=False)
        shards = list(after)
        for shard in shards:
            pipe.zrangebyscore(
                layout.changes_key(shard),
                f"({after[shard]}",
                "+inf",
                start=0,
                num=limit,
                withscores=True,
                score_cast_func=int,
            )
        return {
            shard: [(name, int(version)) for name, version in found]
            for shard, found in zip(shards, pipe.execute(), strict=True)
        }

    def pending(self, layout: KeyLayout, after: Sequence[int]) -> int:
        """How many changes the peer has indexed past ``after`` (one version per shard)."""
        pipe = self.client.pipeline(transaction=False)
        for shard in range(layout.shards):
            pipe.zcount(layout.changes_key(shard), f"({after[shard]}", "+inf")
        return sum(int(n) for n in pipe.execute())

    def read(self, layout: KeyLayout, names: Sequence[str]) -> list[dict[str, str] | Exception]:
        """The stored hashes of ``names``, in order (one pipeline).

        A key the peer cannot read as a hash (another kind of key) comes back
        as its error, so that one bad key does not fail the page.
        """
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(layout.data_key(name))
        return list(pipe.execute(raise_on_error=False))

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (redis.exceptions.RedisError, OSError):
            return False

    def __repr__(self) -> str:
        return f"Peer({self.name!r}, {self.where})"
