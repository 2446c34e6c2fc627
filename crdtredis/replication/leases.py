"""Which pass pulls which shards of a peer: shard groups, and leases per shard.

Several workers of a region pull one peer at once by taking disjoint shard
groups (shard ``s`` is in group ``s % count``). A pass pulls only the shards
it holds a lease on, so two passes never pull the same shard at once, even
when workers disagree for a moment on how many groups there are. Merges are
idempotent and cursors only move forward, so an overlap would do no harm to
the data; the leases keep passes from doing the same work twice and from
moving one shard's cursor in two places.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from crdtredis.errors import CRDTRedisError
from crdtredis.store.region import RegionStore
from crdtredis.store.scripts import script

log = logging.getLogger(__name__)

#: Seconds a lease lives without a heartbeat: a pass whose process died
#: (SIGKILL, a lost machine) stops holding its shards after this long.
LEASE_SECONDS = 3.0
#: Heartbeats per lease lifetime.
BEATS_PER_LEASE = 3


class LeasesLost(CRDTRedisError):
    """A pass's leases may be another pass's now: it stops before its next write."""


@dataclass(frozen=True)
class ShardGroup:
    """Group ``index`` of ``count``: the shards ``s`` of a peer with ``s % count == index``."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard group {self.index} of {self.count} does not exist")

    def shards(self, total: int) -> list[int]:
        return list(range(self.index, total, self.count))

    def __str__(self) -> str:
        return f"{self.index}of{self.count}"


#: Every shard: what a pass pulls when one worker (or the CLI) does it all.
ALL_SHARDS = ShardGroup()


class ShardLeases:
    """A pass's leases on shards of one peer, kept alive by a heartbeat while it runs.

    The leases live in one hash of the local Redis, with the server's clock
    (``shard_leases.lua``). The heartbeat thread renews them every
    ``ttl / BEATS_PER_LEASE`` seconds, so a long page never loses them, while
    a dead process stops renewing and its shards are free ``ttl`` seconds
    later.

    Args:
        owner: names the holder in the lease (an RQ job id, say), so that a
            job whose leases are gone can be told from one still working.
    """

    def __init__(
        self, region: RegionStore, peer: str, ttl: float = LEASE_SECONDS, owner: str = ""
    ) -> None:
        self.region = region
        self.key = region.layout.lock_key(peer)
        self.ttl = ttl
        self.token = f"{owner}/{uuid.uuid4().hex}"
        self.held: set[int] = set()
        #: Set once a renewal found a lease taken over: the pass must stop.
        self.lost = False
        #: When the leases were last known held (monotonic; it runs on through SIGSTOP).
        self._confirmed = time.monotonic()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self, shards: Iterable[int]) -> set[int]:
        """Take the leases of ``shards`` that are free (or this holder's); return all held.

        The heartbeat starts with the first lease taken.
        """
        wanted = [str(s) for s in shards]
        if wanted:
            asked = time.monotonic()
            taken = self._call("take", *wanted)
            self.held.update(int(s) for s in taken)
            if not self._beat:
                self._confirmed = asked
        if self.held and self._beat is None:
            self._beat = threading.Thread(
                target=self._heartbeat, name=f"lease-{self.key}", daemon=True
            )
            self._beat.start()
        return set(self.held)

    def check(self) -> None:
        """Raise :class:`LeasesLost` unless the leases are surely still held.

        Called before a pass writes anything that another pass of the same
        shards could contradict. Held means renewed less than two thirds of
        a lifetime ago by this process's own clock, which keeps running
        while the process is stopped: a pass that was paused past its
        leases (SIGSTOP, swapping) stops on its next step, even before its
        heartbeat has run again.
        """
        if self.lost or time.monotonic() - self._confirmed > self.ttl * 2 / 3:
            raise LeasesLost(
                f"this pass lost its leases on {self.key} (paused for over "
                f"{self.ttl * 2 / 3:.0f} s?); it stops here, and another pass goes on"
            )

    def release(self) -> None:
        """Stop the heartbeat and give every lease up."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self.held:
            self._call("release")
            self.held.clear()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / BEATS_PER_LEASE):
            try:
                asked, expected = time.monotonic(), len(self.held)
                if int(self._call("refresh")) < expected:
                    self.lost = True
                    log.warning("sync leases in %s were lost (held too long?)", self.key)
                    return
                self._confirmed = asked
            except redis.exceptions.RedisError as exc:
                log.warning("could not renew sync leases in %s: %s", self.key, exc)

    def _call(self, op: str, *shards: str) -> Any:
        return self.region.scripts.call(
            script("shard_leases"), [self.key], [op, self.token, str(int(self.ttl * 1000)), *shards]
        )


def live_leases(region: RegionStore, peer: str) -> dict[int, str]:
    """The shards of ``peer`` leased now, with their holders' tokens, by the local
    Redis's clock (the one the leases are written with)."""
    pipe = region.client.pipeline(transaction=False)
    pipe.time()
    pipe.hgetall(region.layout.lock_key(peer))
    (seconds, micros), leases = pipe.execute()
    now_ms = seconds * 1000 + micros // 1000
    live = {}
    for shard, value in leases.items():
        expiry, _, token = str(value).partition("|")
        if expiry.isdigit() and int(expiry) > now_ms:
            live[int(shard)] = token
    return live


def held_by(region: RegionStore, peers: Iterable[str], owner: str) -> bool:
    """Whether a pass of ``owner`` holds a live lease on a shard of any of ``peers``."""
    return any(
        token.startswith(f"{owner}/")
        for peer in peers
        for token in live_leases(region, peer).values()
    )
