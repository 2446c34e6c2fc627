"""One sync pass per (region, peer) at a time, across every worker of the region."""

from __future__ import annotations

import uuid

from crdtredis.store.region import RegionStore
from crdtredis.store.scripts import script


class PassLock:
    """A lease in the local Redis: ``SET NX PX``, refreshed while the pass runs.

    Merges are idempotent, so two passes at once would do no harm to the
    data; the lock keeps them from doing the same work twice.
    """

    def __init__(self, region: RegionStore, peer: str, ttl: float = 60.0) -> None:
        self.region = region
        self.key = region.layout.lock_key(peer)
        self.ttl_ms = int(ttl * 1000)
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        return bool(self.region.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def refresh(self) -> bool:
        return self._call("refresh")

    def release(self) -> bool:
        return self._call("release")

    def _call(self, op: str) -> bool:
        held = self.region.scripts.call(
            script("pass_lock"), [self.key], [op, self.token, str(self.ttl_ms)]
        )
        return bool(held)
