"""Read access to a peer region's Redis, with every call bounded by a timeout.

A :class:`Peer` is where a peer's Redis is; :meth:`Peer.open` reads its
identity and gives a :class:`PeerIncarnation`, through which sync, the
exporter and inspect read its heads, changes and objects. Opening is the one
place a peer's identity and key layout are read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from crdtredis.config import PEER_TIMEOUT, PeerConfig, redact
from crdtredis.replication.cursor import Cursor
from crdtredis.store.identity import RegionIdentity, registry_of
from crdtredis.store.layout import DEFAULT_PREFIX, GRAVE_PREFIX, KeyLayout
from crdtredis.store.scripts import is_cluster

#: (name, version) pairs from a peer's change index.
Changes = list[tuple[str, int]]


def peer_client(url: str, *, timeout: float, cluster: bool) -> Any:
    """A client for a peer's Redis that never retries and never waits past ``timeout``.

    A peer's bytes that are not UTF-8 become lone surrogates, which validation
    rejects for that key alone instead of failing the page.
    """
    factory = redis.RedisCluster if cluster else redis.Redis
    return factory.from_url(
        url,
        decode_responses=True,
        encoding_errors="surrogateescape",
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class Peer:
    """A peer region as seen from here: read-only, never waiting longer than ``timeout``.

    Retries are off (for cluster peers too): a peer that does not answer
    within the timeout fails the call at once, and the sync pass reports it
    rather than waiting longer.

    Args:
        config: the peer's name and URL.
        prefix: the key prefix of crdtredis keys in the peer's Redis.
        timeout: seconds any call may take.
        cluster: the peer is a Redis Cluster.
        client: a client to use instead of one made from the URL (with
            ``decode_responses=True``; a test's fakeredis, say).
    """

    def __init__(
        self,
        config: PeerConfig,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = PEER_TIMEOUT,
        cluster: bool = False,
        client: Any = None,
    ) -> None:
        self.name = config.name
        self.url = config.url
        self.prefix = prefix
        self.client: Any = client or peer_client(config.url, timeout=timeout, cluster=cluster)
        #: Whether the peer's Redis runs the survey script (false once it refused).
        self.scripted = not cluster

    @property
    def where(self) -> str:
        return redact(self.url)

    def open(self) -> PeerIncarnation | None:
        """The peer in its current incarnation; None when it holds no identity yet."""
        fields = self.client.hgetall(KeyLayout(self.prefix).identity_key)
        if not fields:
            return None
        where = f"peer {self.name} ({self.where})"
        identity = RegionIdentity.from_fields(fields, where).check_layout(where)
        return PeerIncarnation(self, identity, KeyLayout(self.prefix, identity.shards))

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (redis.exceptions.RedisError, OSError):
            return False

    def __repr__(self) -> str:
        return f"Peer({self.name!r}, {self.where})"


def _version(text: str) -> int:
    """A shard version as stored: a canonical non-negative decimal."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"head version {text[:40]!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class PeerHeads:
    """What a pass reads from a peer first, in one round trip."""

    #: Each shard's latest version (None: the shard is corrupt and skipped).
    versions: list[int | None]
    #: What is wrong with the shards that are corrupt or inconsistent.
    problems: dict[int, str]
    #: The peer's cursor on the region pulling now: what the peer has merged of it.
    #: Read with the heads or before them, never after: every change the peer
    #: made while merging up to it is at or below ``versions``.
    cursor_on_puller: Cursor | None
    #: Each shard's trim mark: the highest version dropped from its change
    #: index (every configured peer had pulled it). A puller whose cursor is
    #: below it resyncs the shard by scanning its keys.
    trims: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PeerIncarnation:
    """A peer with the identity it had when opened, and its key layout; reads go through it."""

    peer: Peer
    identity: RegionIdentity
    layout: KeyLayout

    def _pipeline(self) -> Any:
        return self.peer.client.pipeline(transaction=False)

    def heads(self, puller: str) -> PeerHeads:
        """Each shard's latest version, what is wrong with corrupt shards, and the peer's
        cursor on ``puller`` (how far the peer has pulled from the region pulling now).

        A shard's version is the larger of its head's and its change index's
        newest entry (a head found below its index would otherwise send the
        shard into a full resync at every pass). A shard whose head or index
        holds something that is not a version is reported and given as None
        (skipped), so the other shards still sync. One round trip.
        """
        ahead = self.cursor_ahead(puller)
        pipe = self._pipeline()
        self.queue_heads(pipe, puller)
        return self.parse_heads([*ahead, *pipe.execute(raise_on_error=False)], puller)

    def cursor_ahead(self, puller: str) -> list[Any]:
        """The peer's cursor on ``puller`` in a round trip of its own, before the heads,
        for a cluster (whose pipelines run their parts on several nodes at once, in no
        order); nothing elsewhere, where :meth:`queue_heads` reads it first."""
        if not is_cluster(self.peer.client):
            return []
        pipe = self._pipeline()
        pipe.hgetall(self.layout.cursor_key(puller))
        return list(pipe.execute(raise_on_error=False))  # an error reads as no cursor

    def queue_heads(self, pipe: Any, puller: str) -> None:
        """The peer's cursor on ``puller`` (but on a cluster: :meth:`cursor_ahead`),
        then every shard's head: read in that order, the heads cover every change
        the peer made while merging up to the cursor (see
        :mod:`crdtredis.replication.frontier`)."""
        if not is_cluster(self.peer.client):
            pipe.hgetall(self.layout.cursor_key(puller))
        for shard in range(self.layout.shards):
            pipe.hmget(self.layout.head_key(shard), "v", "trim")
            pipe.zrevrange(self.layout.changes_key(shard), 0, 0, withscores=True)

    def parse_heads(self, replies: list[Any], puller: str) -> PeerHeads:
        """The replies of :meth:`cursor_ahead` and :meth:`queue_heads`, in that order."""
        replies = list(replies)
        theirs = replies.pop(0)
        cursor = Cursor.parse(puller, theirs) if isinstance(theirs, dict) else None
        trims = [0] * self.layout.shards
        for shard in range(self.layout.shards):
            head = replies[2 * shard]
            if isinstance(head, list):
                replies[2 * shard] = head[0]
                trims[shard] = int(head[1]) if head[1] and head[1].isdigit() else 0
        versions, problems = self._versions(replies)
        return PeerHeads(versions, problems, cursor, trims)

    def _versions(self, replies: list[Any]) -> tuple[list[int | None], dict[int, str]]:
        heads: list[int | None] = []
        problems: dict[int, str] = {}
        for shard in range(self.layout.shards):
            head, newest = replies[2 * shard], replies[2 * shard + 1]
            try:
                if isinstance(head, Exception) or isinstance(newest, Exception):
                    raise ValueError(f"{head if isinstance(head, Exception) else newest}")
                version = _version(head or "0")
                indexed = int(newest[0][1]) if newest else 0
            except (ValueError, TypeError, IndexError) as exc:
                problems[shard] = (
                    f"shard {shard} of peer {self.peer.name} is corrupt ({exc}); skipped"
                )
                heads.append(None)
                continue
            if indexed > version:
                problems[shard] = (
                    f"shard {shard} of peer {self.peer.name}: head version {version} is below "
                    f"its change index ({indexed}); synced up to the index"
                )
            heads.append(max(version, indexed))
        return heads, problems

    def changes(self, after: Mapping[int, int], limit: int) -> tuple[dict[int, Changes], set[int]]:
        """For each shard, up to ``limit`` (name, version) past ``after[shard]``, oldest
        first; and the shards whose index was trimmed past ``after`` (their pages are
        empty: the index no longer names everything there, so they need a resync).

        Each shard's trim mark is read after its page: a trim below it at or
        before the read would show in the mark, since marks only grow.
        """
        pipe = self._pipeline()
        self.queue_changes(pipe, after, limit)
        for shard in after:
            pipe.hget(self.layout.head_key(shard), "trim")
        replies = pipe.execute()
        trims = [0] * self.layout.shards
        for shard, trim in zip(after, replies[len(after) :], strict=True):
            trims[shard] = int(trim) if trim is not None and trim.isdigit() else 0
        return self.parse_changes(after, replies[: len(after)], trims)

    def queue_changes(self, pipe: Any, after: Mapping[int, int], limit: int) -> None:
        for shard in after:
            pipe.zrangebyscore(
                self.layout.changes_key(shard),
                f"({after[shard]}",
                "+inf",
                start=0,
                num=limit,
                withscores=True,
                score_cast_func=int,
            )

    @staticmethod
    def parse_changes(
        after: Mapping[int, int], found: list[Any], trims: list[int]
    ) -> tuple[dict[int, Changes], set[int]]:
        pages: dict[int, Changes] = {}
        trimmed: set[int] = set()
        for shard, entries in zip(after, found, strict=True):
            if isinstance(entries, Exception):
                pages[shard] = []  # a corrupt index: its heads report it, and it is skipped
                continue
            if trims[shard] > after[shard]:
                trimmed.add(shard)
                pages[shard] = []
            else:
                pages[shard] = [(name, int(version)) for name, version in entries]
        return pages, trimmed

    def pending(self, after: Sequence[int]) -> int:
        """How many changes the peer has indexed past ``after`` (corrupt shards left out)."""
        pipe = self._pipeline()
        for shard in range(self.layout.shards):
            pipe.zcount(self.layout.changes_key(shard), f"({after[shard]}", "+inf")
        return sum(int(n) for n in pipe.execute(raise_on_error=False) if isinstance(n, int))

    def scan(self, shards: Collection[int], count: int) -> Iterator[list[str]]:
        """Pages of the names of every object in ``shards`` (SCAN, on every primary of a cluster).

        SCAN names every key that exists from its start to its end at least
        once (some twice): what a full resync of a trimmed shard needs.
        """
        page: list[str] = []
        for key in self.peer.client.scan_iter(match=self.layout.data_pattern, count=count):
            try:
                name = self.layout.name_of(key)
            except ValueError:
                continue
            if self.layout.shard_of(name) in shards and key == self.layout.data_key(name):
                page.append(name)
                if len(page) >= count:
                    yield page
                    page = []
        if page:
            yield page

    def all_graves(self, shards: Collection[int]) -> dict[str, str]:
        """Every grave in the heads of ``shards``: name -> the expiry that ended its life."""
        found: dict[str, str] = {}
        for shard in shards:
            for name, grave in self.peer.client.hscan_iter(
                self.layout.head_key(shard), match=GRAVE_PREFIX + "*", count=1000
            ):
                found[name[len(GRAVE_PREFIX) :]] = grave
        return found

    def read_page(
        self, names: Sequence[str]
    ) -> tuple[list[dict[str, str] | Exception], dict[str, str], dict[str, str]]:
        """:meth:`read`, the graves of the names whose hash is gone (where found), and
        then the peer's replica registry.

        An object or grave holds only replica ids its region registered
        before it merged or wrote them, so a registry read after them names
        them all. A cluster runs a pipeline's parts on several nodes at once,
        so there the registry is read in a round trip of its own; so it is
        after graves, which only names gone since they were listed need.
        """
        pipe = self._pipeline()
        for name in names:
            pipe.hgetall(self.layout.data_key(name))
        cluster = is_cluster(self.peer.client)
        if not cluster:
            pipe.hgetall(self.layout.identity_key)
        replies = list(pipe.execute(raise_on_error=False))
        identity = None if cluster else replies.pop()
        gone = [n for n, fields in zip(names, replies, strict=True) if fields == {}]
        graves = self._graves(gone) if gone else {}
        if cluster or graves:
            return replies, graves, self.registry()
        return replies, graves, registry_of(identity) if isinstance(identity, dict) else {}

    def _graves(self, names: Sequence[str]) -> dict[str, str]:
        """The graves of ``names`` (the expiry that ended each one's life there), where found."""
        pipe = self._pipeline()
        for name in names:
            pipe.hget(self.layout.head_key(self.layout.shard_of(name)), GRAVE_PREFIX + name)
        found = pipe.execute(raise_on_error=False)
        return {n: g for n, g in zip(names, found, strict=True) if isinstance(g, str)}

    def registry(self) -> dict[str, str]:
        """The peer's replica registry as it stands now."""
        return registry_of(self.peer.client.hgetall(self.layout.identity_key))

    def read(self, names: Sequence[str]) -> list[dict[str, str] | Exception]:
        """The stored hashes of ``names``, in order (one pipeline).

        A key the peer cannot read as a hash (another kind of key) comes back
        as its error, so that one bad key does not fail the page.
        """
        pipe = self._pipeline()
        for name in names:
            pipe.hgetall(self.layout.data_key(name))
        return list(pipe.execute(raise_on_error=False))
