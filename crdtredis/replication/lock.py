"""One sync pass per (region, peer) at a time, across every worker of the region."""

from __future__ import annotations

import logging
import threading
import uuid

import redis

from crdtredis.store.region import RegionStore
from crdtredis.store.scripts import script

log = logging.getLogger(__name__)

#: Seconds a pass's lease lives without a heartbeat: a pass whose process
#: died (SIGKILL, a lost machine) stops holding its peer after this long.
LEASE_SECONDS = 3.0
#: Heartbeats per lease lifetime.
BEATS_PER_LEASE = 3


class PassLock:
    """A lease in the local Redis: ``SET NX PX``, kept alive by a heartbeat while the pass runs.

    Merges are idempotent and cursors only move forward, so two passes at
    once would do no harm to the data; the lease keeps them from doing the
    same work twice. The heartbeat thread refreshes it every
    ``ttl / BEATS_PER_LEASE`` seconds, so a long page never loses it, while a
    dead process stops refreshing and its lease ends ``ttl`` seconds later.
    """

    def __init__(self, region: RegionStore, peer: str, ttl: float = LEASE_SECONDS) -> None:
        self.region = region
        self.key = region.layout.lock_key(peer)
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lease if it is free and start the heartbeat; False when it is held."""
        taken = bool(self.region.client.set(self.key, self.token, nx=True, px=self._ttl_ms))
        if taken:
            self._beat = threading.Thread(
                target=self._heartbeat, name=f"lease-{self.key}", daemon=True
            )
            self._beat.start()
        return taken

    def release(self) -> bool:
        """Stop the heartbeat and give the lease up; False when it had been lost."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        return self._call("release")

    @property
    def _ttl_ms(self) -> int:
        return int(self.ttl * 1000)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / BEATS_PER_LEASE):
            try:
                if not self._call("refresh"):
                    log.warning("sync lease %s was lost (held too long?)", self.key)
                    return
            except redis.exceptions.RedisError as exc:
                log.warning("could not refresh sync lease %s: %s", self.key, exc)

    def _call(self, op: str) -> bool:
        held = self.region.scripts.call(
            script("pass_lock"), [self.key], [op, self.token, str(self._ttl_ms)]
        )
        return bool(held)
