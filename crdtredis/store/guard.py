"""The incarnation guard: a region's identity kept current, and shard heads healed.

Every write script refuses to run for a process whose idea of the region's
identity is out of date (``NOSHARD``, ``STALE``). This module holds what
those refusals call for: finding or creating the identity, renewing it after a
partial data loss, and giving shards heads or handing heads to a newer
incarnation (never back to an older one: heads carry the identity's epoch).

It also renews the identity when the Redis server restarted (its run id
changed): a restarted server may hold an older copy of the data, whose slots
peers hold beyond it. The guard confirms the server before a region loads
its scripts and whenever a server answers ``NOSCRIPT`` (the script cache is
lost at every restart), and hands every shard head to the renewed
incarnation before any script is loaded again: a process that still writes
in the old incarnation is refused (``STALE``), never counted in old slots.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from crdtredis.errors import IdentityError
from crdtredis.store.identity import (
    LAYOUT_VERSION,
    RegionIdentity,
    new_incarnation,
    new_replica_ids,
)
from crdtredis.store.layout import KeyLayout
from crdtredis.store.scripts import (
    Client,
    ScriptError,
    ScriptRunner,
    before_retry,
    is_cluster,
    script,
)

log = logging.getLogger(__name__)

#: Refusals of the guard, which :meth:`Guard.heal` repairs.
GUARD_CODES = ("NOSHARD", "STALE")

T = TypeVar("T")


class GuardRefusal(Exception):
    """Write scripts the guard refused: ``(shard, refusal)`` pairs, healed before a retry."""

    def __init__(self, refusals: Sequence[tuple[int, ScriptError]]) -> None:
        super().__init__(", ".join(f"shard {shard}: {e}" for shard, e in refusals))
        self.refusals = list(refusals)


def is_refusal(outcome: object) -> bool:
    """True when ``outcome`` (a script's result or error) is a guard refusal."""
    return isinstance(outcome, ScriptError) and outcome.code in GUARD_CODES


#: The one retry policy of guarded writes: three attempts, healing in between.
GUARDED = Retry(NoBackoff(), 2, (GuardRefusal,))


class Guard:
    """One region's identity in one Redis, and the healing of guard refusals."""

    def __init__(
        self,
        name: str,
        client: Client,
        scripts: ScriptRunner,
        layout: KeyLayout,
        wanted_shards: int | None,
        where: str,
    ) -> None:
        self.name = name
        self.client = client
        self.scripts = scripts
        self.layout = layout
        self._wanted_shards = wanted_shards
        self._where = where
        self._between_tries = before_retry(GUARDED, self._heal_all)
        self.identity = self._find_or_create_identity()
        scripts.on_lost = self.refresh
        self._watch_connections()

    def _watch_connections(self) -> None:
        """Check the server on every new connection from now on (a single server's client).

        Connections made before are dropped, so every one is checked. A
        cluster client keeps its own connect hook; there, restarts are seen
        by NOSCRIPT (Redis 7 keeps no scripts across a restart) and by passes.
        """
        if is_cluster(self.client):
            return
        pool = self.client.connection_pool
        before = pool.connection_kwargs.get("redis_connect_func")

        def connected(connection: Any) -> None:
            if before is None:
                connection.on_connect()
            else:
                before(connection)
            self._check_server(connection)

        pool.connection_kwargs["redis_connect_func"] = connected
        pool.disconnect()
        pool.reset()

    def _check_server(self, connection: Any) -> None:
        """On a new connection: renew the identity if the server restarted.

        See ``identity_restart.lua``. A server that refuses the check (an ACL
        without INFO or EVAL) is let through: restarts then show by NOSCRIPT
        and by passes alone.
        """
        try:
            connection.send_command("INFO", "server")
            info = connection.read_response()
            text = info.decode() if isinstance(info, bytes) else str(info)
            found = [line for line in text.splitlines() if line.startswith("run_id:")]
            server = found[0].split(":", 1)[1].strip() if found else "unknown"
        except ResponseError:
            server = "unknown"
        lua = script("identity_restart")
        heads = [self.layout.head_key(s) for s in range(self.layout.shards)]
        fresh = new_incarnation()
        candidates = ",".join(new_replica_ids())
        connection.send_command(
            "EVAL",
            lua.text,
            1 + len(heads),
            self.layout.identity_key,
            *heads,
            server,
            fresh,
            candidates,
            str(LAYOUT_VERSION),
        )
        try:
            renewed = connection.read_response()
        except ResponseError as exc:
            log.warning("region %s: cannot check the server on connect: %s", self.name, exc)
            return
        if renewed == 1:
            log.warning(
                "region %s: the Redis server restarted (%s): it may hold an older copy of the "
                "data, so incarnation %s begins",
                self.name,
                self._where,
                fresh,
            )

    def _parse(self, reply: list[str]) -> RegionIdentity:
        """An identity from a script's HGETALL reply."""
        return RegionIdentity.from_fields(
            dict(zip(reply[::2], reply[1::2], strict=True)), self._where
        ).check_layout(self._where)

    @property
    def incarnation(self) -> str:
        return self.identity.incarnation

    @property
    def replica(self) -> str:
        return self.identity.replica

    def _find_or_create_identity(self) -> RegionIdentity:
        """The identity, created or renewed as the server calls for; its heads handed to it."""
        epoch = 1
        if not self.client.exists(self.layout.identity_key):
            # A new identity outranks any shard head left from before (the
            # identity alone may have been lost), so that it can take them over.
            epoch = self._highest_head_epoch() + 1
        server = self._server()
        fresh = RegionIdentity.fresh(self.name, self.layout.shards, epoch, server)
        renewed, raw = self.scripts.call(
            script("identity"),
            [self.layout.identity_key],
            [
                server,
                fresh.incarnation,
                str(LAYOUT_VERSION),
                ",".join(new_replica_ids()),
                *fresh.to_args(),
            ],
        )
        found = self._parse(raw)
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
        if renewed:
            log.warning(
                "region %s: the Redis server restarted (%s): it may hold an older copy of the "
                "data, so incarnation %s begins; new writes count as replica %s",
                self.name,
                self._where,
                found.incarnation,
                found.replica,
            )
        elif found.incarnation == fresh.incarnation:
            log.info(
                "region %s: new incarnation %s in %s", self.name, found.incarnation, self._where
            )
        self.layout = KeyLayout(self.layout.prefix, found.shards)
        self._take_over_all(found)
        return found

    def _server(self) -> str:
        """The running server: its run id (a cluster's primaries' run ids, hashed).

        A run id changes at every restart and failover. A server that does
        not let this user run INFO is 'unknown', and restarts go unnoticed.
        """
        try:
            if not is_cluster(self.client):
                return str(self.client.info("server").get("run_id", "unknown"))
            ids = sorted(
                str(self.client.get_redis_connection(node).info("server").get("run_id"))
                for node in self.client.get_primaries()
            )
        except RedisError as exc:
            log.warning(
                "region %s: cannot read the server's run id from %s (%s); a restart from an "
                "older copy of the data will not be noticed until the next pass",
                self.name,
                self._where,
                exc,
            )
            return "unknown"
        return hashlib.sha1(",".join(ids).encode()).hexdigest()

    def _take_over_all(self, identity: RegionIdentity) -> None:
        """Hand every existing shard head to ``identity`` (a no-op for heads already its own).

        Done whenever the identity is confirmed, before scripts are loaded:
        another process may have renewed it a moment ago and not yet moved
        every head, and a head left behind would let an out-of-date process
        write in the old incarnation.
        """
        args = [identity.incarnation, str(identity.epoch)]
        held = self.scripts.call_many(
            [
                (script("shard_takeover"), [self.layout.head_key(shard)], args)
                for shard in range(self.layout.shards)
            ]
        )
        for outcome in held:
            if isinstance(outcome, Exception):
                raise outcome
        marks = {f"shard:{s}": 1 for s, inc in enumerate(held) if inc == identity.incarnation}
        if marks:
            self.client.hset(self.layout.identity_key, mapping=marks)

    def register_replicas(self, entries: dict[str, str]) -> dict[str, tuple[str, str]]:
        """Add replica ids (id -> ``<region>.<incarnation>``) to the registry; the ones
        registered here to another owner come back as id -> (here, given), and then
        nothing is added."""
        known = self.identity.replicas
        new = {r: owner for r, owner in entries.items() if known.get(r) != owner}
        if not new:
            return {}
        args = [x for pair in new.items() for x in pair]
        reply = self.scripts.call(script("replicas_register"), [self.layout.identity_key], args)
        conflicts = {r: (held, new[r]) for r, held in zip(reply[::2], reply[1::2], strict=True)}
        if not conflicts:
            known.update(new)
        return conflicts

    def _highest_head_epoch(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        for shard in range(self.layout.shards):
            pipe.hget(self.layout.head_key(shard), "epoch")
        return max((int(e) for e in pipe.execute() if e is not None), default=0)

    def stored(self) -> RegionIdentity | None:
        """The identity as stored now, or None; never creates one (for observers: the exporter)."""
        fields = self.client.hgetall(self.layout.identity_key)
        if not fields:
            return None
        return RegionIdentity.from_fields(fields, self._where).check_layout(self._where)

    def refresh(self) -> RegionIdentity:
        """Re-read the identity (creating a new incarnation if it is gone) and adopt it."""
        before = self.identity.incarnation
        self.identity = self._find_or_create_identity()
        if self.identity.incarnation != before:
            log.warning(
                "region %s: identity changed from incarnation %s to %s (the Redis was wiped, "
                "restored or restarted); new writes count as replica %s",
                self.name,
                before,
                self.identity.incarnation,
                self.replica,
            )
        return self.identity

    def call(self, do: Callable[[], T], what: str) -> T:
        """Run ``do``, which raises :class:`GuardRefusal`, healing what it refused between tries.

        Single writes, batches and merges all go through here. ``do`` must
        build its arguments anew each time (the incarnation, the replica id),
        and retry only what was refused.

        Raises:
            IdentityError: refused three times: the identity keeps changing.
        """
        try:
            return GUARDED.call_with_retry(do, self._between_tries, with_failure_count=True)
        except GuardRefusal:
            raise IdentityError(
                f"could not write {what}: the region's identity keeps changing; nothing written"
            ) from None

    def _heal_all(self, error: Exception) -> None:
        # Several calls of one shard are refused alike: heal each shard once.
        for shard in dict.fromkeys(shard for shard, _ in getattr(error, "refusals", ())):
            self.heal(shard)

    def heal(self, shard: int) -> None:
        """Fix what a guard refusal (``STALE`` or ``NOSHARD``) of ``shard`` says is out of date.

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
        self.refresh()
        mark = f"shard:{shard}"
        # The mark first, then the head: a shard is marked only once its head
        # exists, so a mark read before a missing head means the data was lost,
        # while a writer that gives the shard a head meanwhile is seen below.
        seen, marked = self.client.hmget(self.layout.identity_key, "incarnation", mark)
        held = self.client.hget(head, "inc")
        if held is not None:
            # STALE, or given a head since the refusal (by this process for
            # another call of the same batch, or by another process).
            if held != self.incarnation:
                self.take_over(shard)
            return
        if marked:
            self.renew(f"shard {shard} lost its data", lost=seen)
        owner = self.scripts.call(
            script("init_shard"), [head], [self.incarnation, str(self.identity.epoch)]
        )
        if owner != self.incarnation:
            self.take_over(shard)
        # Marked only once the head exists: a process that finds the mark
        # and no head can trust that the shard's data was lost.
        self.client.hset(self.layout.identity_key, mark, 1)

    def take_over(self, shard: int) -> None:
        """Hand a shard head of an older incarnation to this one (never backwards)."""
        self.scripts.call(
            script("shard_takeover"),
            [self.layout.head_key(shard)],
            [self.incarnation, str(self.identity.epoch)],
        )
        self.client.hset(self.layout.identity_key, f"shard:{shard}", 1)

    def renew(self, reason: str, lost: str | None = None) -> None:
        """Replace the incarnation found lost, ``lost`` (the current one when not
        given), unless another process or thread already did."""
        lost = lost or self.identity.incarnation
        raw = self.scripts.call(
            script("identity_renew"),
            [self.layout.identity_key],
            [
                lost,
                self.identity.server,
                new_incarnation(),
                ",".join(new_replica_ids()),
                f"{time.time():.6f}",
            ],
        )
        self.identity = self._parse(raw)
        self._take_over_all(self.identity)
        log.warning(
            "region %s: %s; incarnation %s replaced by %s, new writes count as replica %s",
            self.name,
            reason,
            lost,
            self.identity.incarnation,
            self.replica,
        )
