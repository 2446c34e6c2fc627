"""A region's handle on its local Redis: identity, typed objects, guarded writes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import redis

from crdtredis.crdt.interface import StateDict
from crdtredis.errors import IdentityError
from crdtredis.store import batch, codec
from crdtredis.store.counters import RedisGCounter, RedisPNCounter
from crdtredis.store.handle import RedisObject
from crdtredis.store.identity import RegionIdentity, check_region_name
from crdtredis.store.layout import DEFAULT_PREFIX, DEFAULT_SHARDS, KeyLayout, check_name
from crdtredis.store.scripts import Client, LuaScript, ScriptError, ScriptRunner, script
from crdtredis.store.sequence import RedisSequence, SequenceCache
from crdtredis.store.sets import RedisGSet, RedisORSet, RedisTwoPhaseSet

log = logging.getLogger(__name__)

#: Default socket timeouts (seconds) for clients crdtredis creates itself.
SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0

HANDLES: dict[str, type[RedisObject[Any]]] = {
    cls.pure_type.type_name: cls
    for cls in (
        RedisGCounter,
        RedisPNCounter,
        RedisGSet,
        RedisTwoPhaseSet,
        RedisORSet,
        RedisSequence,
    )
}


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


class Region:
    """One region's view of its own Redis.

    ``Region("eu", "redis://localhost:6379/0")`` finds the region's identity
    in that Redis, or creates it with a fresh incarnation when there is none
    (first start, or the data was lost). Objects are handed out by type::

        likes = region.counter("counter:likes")
        likes.incr()

    Args:
        name: the region's name (letters, digits, ``_`` or ``-``).
        redis: a ``redis://`` URL or a client with ``decode_responses=True``.
        prefix: the key prefix; regions sharing one Redis need different ones.
        shards: change-index shards, fixed when the identity is created
            (default 16; more spread a Redis Cluster wider); an existing
            identity's count always wins.
        cluster: connect to a Redis Cluster (when ``redis`` is a URL).
    """

    def __init__(
        self,
        name: str,
        redis: str | Client,
        *,
        prefix: str = DEFAULT_PREFIX,
        shards: int | None = None,
        cluster: bool = False,
        socket_timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        self.name = check_region_name(name)
        self.client = connect(redis, cluster=cluster, socket_timeout=socket_timeout)
        self.scripts = ScriptRunner(self.client)
        self.scripts.load_all()
        #: Rebuilt sequences, so that appends to long logs stay one round trip.
        self.sequences = SequenceCache()
        self._wanted_shards = shards
        self.layout = KeyLayout(prefix, shards or DEFAULT_SHARDS)
        self.identity = self._find_or_create_identity()

    # -- identity ----------------------------------------------------------
    @property
    def replica(self) -> str:
        """The replica id this region's own updates are counted under."""
        return self.identity.replica

    @property
    def incarnation(self) -> str:
        return self.identity.incarnation

    def _find_or_create_identity(self) -> RegionIdentity:
        epoch = 1
        if not self.client.exists(self.layout.identity_key):
            # A new identity outranks any shard head left from before (the
            # identity alone may have been lost), so that it can take them over.
            epoch = self._highest_head_epoch() + 1
        fresh = RegionIdentity.fresh(self.name, self.layout.shards, epoch)
        raw = self.scripts.call(
            script("identity"),
            [self.layout.identity_key],
            [x for pair in fresh.to_fields().items() for x in pair],
        )
        found = RegionIdentity.from_fields(dict(zip(raw[::2], raw[1::2], strict=True)), self._where)
        if found.region != self.name:
            raise IdentityError(
                f"{self._where} belongs to region {found.region!r}, not {self.name!r}: "
                "give each region its own Redis, or another key prefix"
            )
        if self._wanted_shards and found.shards != self._wanted_shards:
            raise IdentityError(
                f"{self._where} was created with {found.shards} shards, not "
                f"{self._wanted_shards}: leave shards unset to use the stored count"
            )
        if found.incarnation == fresh.incarnation:
            log.info(
                "region %s: new incarnation %s in %s", self.name, found.incarnation, self._where
            )
        self.layout = KeyLayout(self.layout.prefix, found.shards)
        return found

    def _highest_head_epoch(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        for shard in range(self.layout.shards):
            pipe.hget(self.layout.head_key(shard), "epoch")
        return max((int(e) for e in pipe.execute() if e is not None), default=0)

    def refresh_identity(self) -> RegionIdentity:
        """Re-read the identity (creating a new incarnation if it is gone) and adopt it."""
        before = self.identity.incarnation
        self.identity = self._find_or_create_identity()
        if self.identity.incarnation != before:
            log.warning(
                "region %s: identity changed from incarnation %s to %s (was the Redis wiped?); "
                "new writes count as replica %s",
                self.name,
                before,
                self.identity.incarnation,
                self.replica,
            )
        return self.identity

    @property
    def _where(self) -> str:
        return f"the Redis at {describe_client(self.client)} (prefix {self.layout.prefix!r})"

    # -- guarded writes ----------------------------------------------------
    def heal(self, error: ScriptError, shard: int) -> bool:
        """Fix what a guard refusal says is out of date; False if it was no guard refusal.

        ``STALE``: the shard's head names another incarnation. Re-read the
        identity (this process may be the stale one); if the head still names
        an older incarnation, move it to the current one.

        ``NOSHARD``: the shard has no head. Re-read the identity (after a full
        wipe it is gone, and a fresh one is made). If the identity says this
        shard had a head in this incarnation, its data was lost while the
        identity survived (a cluster node lost, a partial restore): counting
        on in the same slots could reuse values peers still hold, so the
        region takes a new incarnation first. Then the shard gets a head.
        """
        head = self.layout.head_key(shard)
        if error.code not in ("STALE", "NOSHARD"):
            return False
        self.refresh_identity()
        held = self.client.hget(head, "inc")
        if held is not None:
            # STALE, or given a head since the refusal (by this process for
            # another call of the same batch, or by another process).
            if held != self.incarnation:
                self._take_over(shard)
            return True
        mark = f"shard:{shard}"
        if self.client.hget(self.layout.identity_key, mark):
            self._renew_identity(f"shard {shard} lost its data")
        owner = self.scripts.call(
            script("init_shard"), [head], [self.incarnation, str(self.identity.epoch)]
        )
        if owner != self.incarnation:
            self._take_over(shard)
        # Marked only once the head exists: a process that finds the mark
        # and no head can trust that the shard's data was lost.
        self.client.hset(self.layout.identity_key, mark, 1)
        return True

    def _take_over(self, shard: int) -> None:
        """Hand a shard head of an older incarnation to this one (never backwards)."""
        self.scripts.call(
            script("shard_takeover"),
            [self.layout.head_key(shard)],
            [self.incarnation, str(self.identity.epoch)],
        )
        self.client.hset(self.layout.identity_key, f"shard:{shard}", 1)

    def _renew_identity(self, reason: str) -> None:
        lost = self.identity.incarnation
        fresh = RegionIdentity.fresh(self.name, self.layout.shards, self.identity.epoch + 1)
        raw = self.scripts.call(
            script("identity_renew"),
            [self.layout.identity_key],
            [lost, *(x for pair in fresh.to_fields().items() for x in pair)],
        )
        fields = dict(zip(raw[::2], raw[1::2], strict=True))
        self.identity = RegionIdentity.from_fields(fields, self._where)
        log.warning(
            "region %s: %s; incarnation %s replaced by %s, new writes count as replica %s",
            self.name,
            reason,
            lost,
            self.identity.incarnation,
            self.replica,
        )

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
        for _ in range(3):
            try:
                return self.scripts.call(lua, keys, [self.incarnation, *build_args()])
            except ScriptError as exc:
                if not self.heal(exc, shard):
                    raise
        raise IdentityError(f"could not write {keys[-1]!r}: the region's identity keeps changing")

    # -- objects -------------------------------------------------------------
    def counter(self, name: str) -> RedisPNCounter:
        """The up-and-down counter ``name`` (a PNCounter)."""
        return RedisPNCounter(self, name)

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
        return None if type_name is None else HANDLES[type_name](self, name)

    def type_of(self, name: str) -> str | None:
        """The type ``name`` is stored as (a pure type name), or None if it does not exist."""
        code = self.client.hget(self.layout.data_key(check_name(name)), "")
        return codec.type_name_of({"": code}) if code is not None else None

    def export(self, name: str) -> StateDict | None:
        """The replicated state of ``name`` (pure ``to_dict`` form), or None if missing."""
        handle = self.object(name)
        return None if handle is None else handle.to_dict()

    def names(self, pattern: str = "*") -> Iterator[str]:
        """Names of the objects this region holds that match a glob ``pattern``."""
        yield from batch.names(self, pattern)

    # -- batches -------------------------------------------------------------
    def incr_many(self, amounts: Mapping[str, int], *, type: str = "pncounter") -> None:
        """Add to many counters in one round trip.

        Amounts are checked first (nothing is sent if one is bad). Each shard's
        counters are then written by one script, atomically: on a server-side
        refusal (wrong type, overflow) that shard's counters are left as they
        were and :class:`~crdtredis.errors.BatchError` lists them, while other
        shards are applied.
        """
        batch.incr_many(self, amounts, type)

    def decr_many(self, amounts: Mapping[str, int]) -> None:
        """Subtract from many PN counters in one round trip (as :meth:`incr_many`)."""
        batch.incr_many(self, amounts, "pncounter", sign="-")

    def merge_many(self, states: Mapping[str, StateDict]) -> batch.MergeReport:
        """Join many objects' states in (validated first), one script call per shard batch."""
        return batch.merge_many(self, states)

    def merge_stored(self, stored: Mapping[str, Mapping[str, str]]) -> batch.MergeReport:
        """Join objects' hashes as a peer stores them (validated first); what sync uses."""
        return batch.merge_stored(self, stored)

    def __repr__(self) -> str:
        return f"Region({self.name!r}, replica={self.replica!r}, {describe_client(self.client)})"


def describe_client(client: Client) -> str:
    """Where a client points, without any password."""
    try:
        kwargs = client.connection_pool.connection_kwargs
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
    except AttributeError:
        nodes = getattr(client, "startup_nodes", None) or []
        return "cluster " + ",".join(getattr(n, "name", str(n)) for n in nodes[:3])


__all__ = ["Region", "connect"]
