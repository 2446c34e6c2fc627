"""A region's handle on its local Redis: identity, typed objects, guarded writes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import redis

from crdtredis.crdt.interface import StateDict
from crdtredis.store import batch
from crdtredis.store.expiry import (
    EXPIRY_FIELD,
    Clock,
    ExpirySetting,
    check_expire_at,
    expire_ms_after,
    now_ms,
)
from crdtredis.store.guard import Guard, GuardRefusal, is_refusal
from crdtredis.store.handle import RedisObject
from crdtredis.store.identity import RegionIdentity, check_region_name
from crdtredis.store.layout import DEFAULT_PREFIX, DEFAULT_SHARDS, KeyLayout, check_name
from crdtredis.store.scripts import Client, LuaScript, ScriptError, ScriptRunner
from crdtredis.store.types import (
    REGISTRY,
    RedisCounterMap,
    RedisGCounter,
    RedisGSet,
    RedisORSet,
    RedisPNCounter,
    RedisSequence,
    RedisTwoPhaseSet,
    SequenceCache,
    TypeRegistry,
)

log = logging.getLogger(__name__)

#: Default socket timeouts (seconds) for clients crdtredis creates itself.
SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0


def connect(
    target: str | Client,
    *,
    cluster: bool = False,
    socket_timeout: float = SOCKET_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Client:
    """A client for ``target`` (a URL or a client made with ``decode_responses=True``)."""
    if not isinstance(target, str):
        if not target.get_encoder().decode_responses:
            raise ValueError(
                "crdtredis needs a Redis client created with decode_responses=True "
                "(or pass a redis:// URL)"
            )
        return target
    factory = redis.RedisCluster if cluster else redis.Redis
    return factory.from_url(
        target,
        decode_responses=True,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        health_check_interval=30,
    )


class RegionStore:
    """One region's view of its own Redis.

    ``Region("eu", "redis://localhost:6379/0")`` finds the region's identity
    in that Redis, or creates it with a fresh incarnation when there is none
    (first start, or the data was lost). Objects are handed out by type::

        likes = region.counter("counter:likes")
        likes.incr()

    Args:
        name: the region's name (letters, digits, ``_`` or ``-``).
        connection: a ``redis://`` URL or a client with ``decode_responses=True``.
        prefix: the key prefix; regions sharing one Redis need different ones.
        shards: change-index shards, fixed when the identity is created
            (default 16; more spread a Redis Cluster wider); an existing
            identity's count always wins.
        cluster: connect to a Redis Cluster (when ``connection`` is a URL).
        types: the stored types this region knows (default: the built-in ones).
        clock: the region's clock, for expiry (a test's skewed clock, say).
    """

    def __init__(
        self,
        name: str,
        connection: str | Client,
        *,
        prefix: str = DEFAULT_PREFIX,
        shards: int | None = None,
        cluster: bool = False,
        socket_timeout: float = SOCKET_TIMEOUT,
        types: TypeRegistry = REGISTRY,
        clock: Clock = time.time,
    ) -> None:
        self.name = check_region_name(name)
        self.types = types
        #: This region's clock (Unix seconds): expiry settings and merges read it.
        self.clock = clock
        self.client = connect(connection, cluster=cluster, socket_timeout=socket_timeout)
        self.scripts = ScriptRunner(self.client, types.scripts)
        #: Rebuilt sequences, so that appends to long logs stay one round trip.
        self.sequences = SequenceCache()
        # The guard looks at the server (renewing the identity if it
        # restarted) before any write script is loaded.
        self.guard = Guard(
            self.name,
            self.client,
            self.scripts,
            KeyLayout(prefix, shards or DEFAULT_SHARDS),
            shards,
            f"the Redis at {describe_client(self.client)} (prefix {prefix!r})",
        )
        self.scripts.load_all()

    # -- identity ----------------------------------------------------------
    @property
    def identity(self) -> RegionIdentity:
        return self.guard.identity

    @property
    def layout(self) -> KeyLayout:
        """Key names; the shard count is the identity's."""
        return self.guard.layout

    @property
    def replica(self) -> str:
        """The replica id this region's own updates are counted under."""
        return self.guard.replica

    @property
    def incarnation(self) -> str:
        return self.guard.incarnation

    def head_versions(self) -> list[int]:
        """Each shard's latest version as peers read it: the larger of its head and index."""
        pipe = self.client.pipeline(transaction=False)
        for shard in range(self.layout.shards):
            pipe.hget(self.layout.head_key(shard), "v")
            pipe.zrevrange(self.layout.changes_key(shard), 0, 0, withscores=True)
        replies = pipe.execute(raise_on_error=False)
        versions = []
        for head, newest in zip(replies[::2], replies[1::2], strict=True):
            held = int(head) if isinstance(head, str) and head.isdigit() else 0
            indexed = int(newest[0][1]) if isinstance(newest, list) and newest else 0
            versions.append(max(held, indexed))
        return versions

    def refresh_identity(self) -> RegionIdentity:
        """Re-read the identity (creating a new incarnation if it is gone) and adopt it."""
        return self.guard.refresh()

    # -- guarded writes ----------------------------------------------------
    def write(
        self,
        shard: int,
        keys: Sequence[str],
        lua: LuaScript,
        build_args: Callable[[], Sequence[str]],
    ) -> Any:
        """Run a write script on ``keys`` of ``shard`` with this region's incarnation.

        ``build_args`` is called again after an identity change, so that the
        arguments (the replica id above all) follow the current identity.
        """

        def attempt() -> Any:
            try:
                return self.scripts.call(lua, keys, [self.incarnation, *build_args()])
            except ScriptError as exc:
                if is_refusal(exc):
                    raise GuardRefusal([(shard, exc)]) from None
                raise

        return self.guard.call(attempt, repr(keys[-1]))

    # -- objects -------------------------------------------------------------
    def counter(self, name: str) -> RedisPNCounter:
        """The up-and-down counter ``name`` (a PNCounter)."""
        return RedisPNCounter(self, name)

    def counter_map(self, name: str) -> RedisCounterMap:
        """The counter map ``name``: named up-and-down counters in one key."""
        return RedisCounterMap(self, name)

    def gcounter(self, name: str) -> RedisGCounter:
        return RedisGCounter(self, name)

    def gset(self, name: str) -> RedisGSet:
        return RedisGSet(self, name)

    def twophase_set(self, name: str) -> RedisTwoPhaseSet:
        return RedisTwoPhaseSet(self, name)

    def orset(self, name: str) -> RedisORSet:
        return RedisORSet(self, name)

    def sequence(self, name: str) -> RedisSequence:
        return RedisSequence(self, name)

    def object(self, name: str) -> RedisObject[Any] | None:
        """The object ``name`` as whatever type it is stored as, or None if missing."""
        type_name = self.type_of(name)
        return None if type_name is None else self.handle(type_name, name)

    def handle(self, type_name: str, name: str) -> RedisObject[Any]:
        """The object ``name`` as a ``type_name`` (a registered type's name)."""
        return self.types.by_name(type_name).open(self, name)

    def type_of(self, name: str) -> str | None:
        """The type ``name`` is stored as (a pure type name), or None if it does not exist."""
        code = self.client.hget(self.layout.data_key(check_name(name)), "")
        return None if code is None else self.types.by_code(code).name

    def delete(self, *names: str) -> int:
        """Delete each of ``names`` as this region has observed it; return how many held anything.

        Missing and already deleted names count as 0 and write nothing. See
        :meth:`RedisObject.delete` for what survives a concurrent write.
        """
        deleted = 0
        for name in names:
            handle = self.object(name)
            if handle is not None and handle.delete():
                deleted += 1
        return deleted

    # -- expiry ----------------------------------------------------------------
    def expire(self, name: str, seconds: float, *, only_new: bool = False) -> bool:
        """Make ``name`` expire ``seconds`` from now, in every region; False if it is missing.

        ``only_new``: set it only when the key has no expiry yet (a daily
        bucket's TTL, given at every increment). See :mod:`crdtredis.store.expiry`
        for the rule that makes regions agree.
        """
        return self._set_expiry(name, expire_ms_after(seconds, self.clock), only_new)

    def expire_at(self, name: str, unix_time: float) -> bool:
        """Make ``name`` expire at ``unix_time`` (seconds), in every region; False if missing."""
        return self._set_expiry(name, check_expire_at(unix_time), False)

    def persist(self, name: str) -> bool:
        """Take away ``name``'s expiry, in every region; False if it is missing."""
        return self._set_expiry(name, 0, False)

    def ttl(self, name: str) -> float:
        """Seconds until ``name`` expires: -1 when it has no expiry, -2 when it is missing."""
        expiry = self.client.hget(self.layout.data_key(check_name(name)), EXPIRY_FIELD)
        if expiry is None:
            return -2.0 if self.type_of(name) is None else -1.0
        expire_ms = ExpirySetting.parse(expiry).expire_ms
        if expire_ms == 0:
            return -1.0
        return max(0.0, (expire_ms - now_ms(self.clock)) / 1000)

    def _set_expiry(self, name: str, expire_ms: int, only_new: bool) -> bool:
        handle = self.object(name)
        if handle is None:
            return False
        return handle.set_expiry(expire_ms, only_new)

    def export(self, name: str) -> StateDict | None:
        """The replicated state of ``name`` (pure ``to_dict`` form), or None if missing."""
        handle = self.object(name)
        return None if handle is None else handle.to_dict()

    def names(self, pattern: str = "*") -> Iterator[str]:
        """Names of the objects this region holds that match a glob ``pattern``."""
        yield from batch.names(self, pattern)

    # -- batches -------------------------------------------------------------
    def incr_many(self, amounts: Mapping[str, int], *, type_name: str = "pncounter") -> None:
        """Add to many counters in one round trip.

        Amounts are checked first (nothing is sent if one is bad). Each shard's
        counters are then written by one script, atomically: on a server-side
        refusal (wrong type, overflow) that shard's counters are left as they
        were and :class:`~crdtredis.errors.BatchError` lists them, while other
        shards are applied.
        """
        batch.incr_many(self, amounts, type_name)

    def decr_many(self, amounts: Mapping[str, int]) -> None:
        """Subtract from many PN counters in one round trip (as :meth:`incr_many`)."""
        batch.incr_many(self, amounts, "pncounter", sign="-")

    def incr_fields(self, maps: Mapping[str, Mapping[str, int]]) -> None:
        """Add to fields of many counter maps in one round trip: ``{name: {field: n}}``.

        Everything is checked first (nothing is sent if a name, field or
        amount is bad); then each shard's maps are written atomically, as
        :meth:`incr_many` does for counters.
        """
        batch.incr_fields(self, maps)

    def decr_fields(self, maps: Mapping[str, Mapping[str, int]]) -> None:
        """Subtract from fields of many counter maps in one round trip (as :meth:`incr_fields`)."""
        batch.incr_fields(self, maps, sign="-")

    def merge_many(self, states: Mapping[str, StateDict]) -> batch.MergeReport:
        """Join many objects' states in (validated first), one script call per shard batch."""
        return batch.merge_many(self, states)

    def merge_peer_hashes(self, hashes: Mapping[str, Mapping[str, str]]) -> batch.MergeReport:
        """Join objects' hashes as a peer stores them (validated first); what sync uses."""
        return batch.merge_peer_hashes(self, hashes)

    def __repr__(self) -> str:
        return (
            f"RegionStore({self.name!r}, replica={self.replica!r}, {describe_client(self.client)})"
        )


def describe_client(client: Client) -> str:
    """Where a client points, without any password."""
    try:
        kwargs = client.connection_pool.connection_kwargs
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
    except AttributeError:
        nodes = getattr(client, "startup_nodes", None) or []
        return "cluster " + ",".join(getattr(n, "name", str(n)) for n in nodes[:3])


__all__ = ["RegionStore", "connect"]
