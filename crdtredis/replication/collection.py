"""Collection: drop what only peers could still need, once every peer has merged it.

Graves (see :mod:`crdtredis.store.expiry`) go with the change index
entries of their names: an expired key leaves nothing behind once every
configured peer has pulled its last change. Tombstones inside objects go
where the type says it is safe (an OR-Set's removed tags, see
``lua/_collect.lua``) once every peer has merged the object's last change. The frontier
(:mod:`crdtredis.replication.frontier`) says what every peer has merged; a
peer that is down holds collection back. Each round scans a bounded number
of graves per shard, so its cost does not grow with the key count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crdtredis.replication import relay, stats
from crdtredis.replication.frontier import frontier, merged_by_each
from crdtredis.replication.peer import Peer
from crdtredis.store.expiry import now_ms
from crdtredis.store.layout import GRAVE_PREFIX
from crdtredis.store.region import RegionStore
from crdtredis.store.scripts import Call, script

log = logging.getLogger(__name__)

#: Seconds between collection rounds of one process.
COLLECT_EVERY = 5.0
#: Graves looked at per shard per round (HSCAN's COUNT hint).
SCAN_COUNT = 200
#: Objects one collect call looks at per shard (a few microseconds each).
SWEEP_COUNT = 500
#: Seconds a round may sweep for: a backlog is worked off over several rounds.
SWEEP_SECONDS = 0.5
#: Seconds a grave stays past its expiry time at least (see collect_graves.lua):
#: longer than a grave takes to reach every region, plus the clocks' skew.
GRAVE_HORIZON = 3600.0
#: Seconds without a successful pass from a peer after which collection looks
#: for proof of what it merged through the other peers (see relay.py).
RELAY_AFTER = 30.0
#: Most graves status and metrics look at (the count says "at least" past it).
WAITING_LIMIT = 10_000


class Collector:
    """Collects graves of one region, in rounds at most every ``every`` seconds."""

    def __init__(
        self,
        region: RegionStore,
        peers: Sequence[str],
        every: float = COLLECT_EVERY,
        horizon: float = GRAVE_HORIZON,
        relays: Mapping[str, Peer] | None = None,
    ) -> None:
        self.region = region
        self.peers = list(peers)
        #: Peers to read relayed proof from (see :mod:`crdtredis.replication.relay`).
        self.relays = dict(relays or {})
        #: Per shard, the version up to which relayed proof was found for every object.
        self._relayed: dict[int, int] = {}
        self.every = every
        self.horizon = horizon
        self._last = float("-inf")
        self._round = threading.Lock()
        #: A pass ended and asked for a round (see :meth:`maybe_collect`).
        self._again = False
        self._cursors: dict[int, int] = {}
        #: Per shard, the version up to which objects were swept.
        self._swept: dict[int, int] = {}
        self._incarnation = region.incarnation

    def maybe_collect(self) -> int:
        """A round if the last one is ``every`` seconds old; how much went.

        Passes from several peers end at once, and one round runs at a time.
        A pass that ends during a round never waits for it: it asks for
        another, which the running round's thread does next if one is due
        by then (with rounds due at every pass, the copies the later pass
        just covered, see :mod:`~crdtredis.replication.frontier`, are not left
        for a round after the next pass).
        """
        done = 0
        self._again = True
        while self._again and self._due():
            if not self._round.acquire(blocking=False):
                return done  # the holder sees the request after its round
            try:
                while self._again and self._due():
                    self._again = False
                    self._last = time.monotonic()
                    done += self.collect()
            finally:
                self._round.release()
        return done

    def _due(self) -> bool:
        return time.monotonic() - self._last >= self.every

    def collect(self) -> int:
        """One round over every shard; how much went (0 while any peer is unknown)."""
        if self.region.incarnation != self._incarnation:
            # A new incarnation's versions start afresh: so does every sweep.
            self._incarnation = self.region.incarnation
            self._cursors.clear()
            self._swept.clear()
            self._relayed.clear()
        merged = merged_by_each(self.region, self.peers)
        floor = frontier(merged)
        done = 0 if floor is None else self._graves(floor) + self._tombstones(floor)
        return done + self._through_relays(floor, merged)

    def _graves(self, floor: list[int]) -> int:
        """Drop graves (and index entries) of expired names every peer has merged."""
        region, layout = self.region, self.region.layout
        pipe = region.client.pipeline(transaction=False)
        for shard in range(layout.shards):
            pipe.hscan(
                layout.head_key(shard),
                self._cursors.get(shard, 0),
                match=GRAVE_PREFIX + "*",
                count=SCAN_COUNT,
            )
        calls: list[Call] = []
        before = str(now_ms(region.clock) - int(self.horizon * 1000))
        for shard, (cursor, found) in enumerate(pipe.execute()):
            self._cursors[shard] = int(cursor)
            graves = {f[len(GRAVE_PREFIX) :]: v for f, v in found.items()}
            if not graves:
                continue
            args = [region.incarnation, str(floor[shard]), before]
            for name, grave in graves.items():
                args += [name, grave]
            keys = [*layout.shard_keys(shard), *(layout.data_key(n) for n in graves)]
            calls.append((script("collect_graves"), keys, args))
        return sum(n or 0 for n in self._run(calls))

    def _tombstones(self, floor: list[int]) -> int:
        """Collect objects every peer has merged, and trim their change index entries.

        Objects are taken in the order of their last change, from where the
        last sweep of the shard ended up to the frontier, ``SWEEP_COUNT`` per
        shard per call, in calls repeated until the shards are swept or
        ``SWEEP_SECONDS`` have passed (the sweep keeps up with writes that
        fast). Each object looked at leaves the index (``_collect.lua``; a
        log's entry stays); one changed again later is back in it at a higher
        version, and is looked at again once that change is merged.
        """
        region, layout = self.region, self.region.layout
        collect = region.types.collect_script()
        shards = [s for s in range(layout.shards) if floor[s] > self._swept.get(s, 0)]
        deadline = time.monotonic() + SWEEP_SECONDS
        dropped = 0
        while shards:
            pipe = region.client.pipeline(transaction=False)
            for shard in shards:
                low = f"({self._swept.get(shard, 0)}"
                pipe.zrangebyscore(
                    layout.changes_key(shard), low, floor[shard], 0, SWEEP_COUNT, withscores=True
                )
            calls: list[Call] = []
            reached: list[tuple[int, int, bool]] = []
            for shard, found in zip(shards, pipe.execute(), strict=True):
                full = len(found) == SWEEP_COUNT
                swept = int(found[-1][1]) if full else floor[shard]
                if not found:
                    self._swept[shard] = swept
                    continue
                names = [name for name, _ in found]
                keys = [*layout.shard_keys(shard), *(layout.data_key(n) for n in names)]
                args = [region.incarnation, str(floor[shard]), region.replica, "trim", *names]
                calls.append((collect, keys, args))
                reached.append((shard, swept, full))
            shards = []
            for (shard, swept, full), count in zip(reached, self._run(calls), strict=True):
                if count is not None:
                    self._swept[shard] = swept  # looked at: the next call goes on from there
                    dropped += count
                    if full:
                        shards.append(shard)
            if time.monotonic() > deadline:
                break
        return dropped

    def _through_relays(self, floor: list[int] | None, merged: dict[str, list[int] | None]) -> int:
        """Collect (without trimming) objects past the frontier that every peer behind
        them has merged through a middle region (:mod:`crdtredis.replication.relay`)."""
        region, layout = self.region, self.region.layout
        far = {p for p in self.peers if self._cut_off(p)}
        known = [v for v in merged.values() if v is not None]
        if not self.relays or not known or not far:
            return 0
        low = [max(floor[s] if floor else 0, self._relayed.get(s, 0)) for s in range(layout.shards)]
        reach = [max(v[s] for v in known) for s in range(layout.shards)]
        shards = [s for s in range(layout.shards) if reach[s] > low[s]]
        pipe = region.client.pipeline(transaction=False)
        for shard in shards:
            pipe.zrangebyscore(
                layout.changes_key(shard),
                f"({low[shard]}",
                reach[shard],
                0,
                SWEEP_COUNT,
                withscores=True,
                score_cast_func=int,
            )
        held = [
            relay.held_back(shard, [(n, int(v)) for n, v in found], merged)
            for shard, found in zip(shards, pipe.execute() if shards else [], strict=True)
            if found
        ]
        asking = relay.Puller(region.name, region.incarnation)
        shown = relay.proven(held, merged, self.relays, asking, far)
        collect = region.types.collect_script()
        calls: list[Call] = []
        for h in held:
            for name, version in h.candidates:
                if name in shown:
                    keys = [*layout.shard_keys(h.shard), layout.data_key(name)]
                    args = [region.incarnation, str(version), region.replica, "keep", name]
                    calls.append((collect, keys, args))
            # Past every proven object up to the first one still waiting.
            for name, version in h.candidates:
                if name not in shown:
                    break
                self._relayed[h.shard] = version
        return sum(n or 0 for n in self._run(calls))

    def _cut_off(self, peer: str) -> bool:
        """No pass from ``peer`` has succeeded for ``RELAY_AFTER`` seconds (or ever).
        Proof is sought through middle regions only while some peer is cut off:
        in a healthy mesh every peer soon pulls for itself, and the relays are
        not asked at every round."""
        seen = stats.read(self.region, peer).last_success
        return seen is None or time.time() - seen > RELAY_AFTER

    def _run(self, calls: list[Call]) -> list[int | None]:
        """Each call's count of what it dropped (a list of counts is summed); None if it failed."""
        counts: list[int | None] = []
        for outcome in self.region.scripts.call_many(calls) if calls else []:
            if isinstance(outcome, Exception):
                log.warning("collection in %s failed: %s", self.region.name, outcome)
                counts.append(None)
            else:
                counts.append(sum(outcome) if isinstance(outcome, list) else int(outcome))
        return counts


@dataclass
class Waiting:
    """What waits for collection, and which peer holds it back."""

    #: Graves of expired keys not collected yet.
    graves: int
    #: Per peer, how many of those graves it has not merged.
    held_back_by: dict[str, int]
    #: Per peer, this region's changed objects it has not merged: their
    #: tombstones, and deleted objects, wait for it.
    unmerged: dict[str, int]


def waiting(region: RegionStore, peers: Sequence[str], limit: int = WAITING_LIMIT) -> Waiting:
    """Count graves waiting for collection (up to ``limit`` looked at), for status and metrics."""
    layout = region.layout
    merged = merged_by_each(region, peers)
    held = dict.fromkeys(peers, 0)
    total = 0
    for shard in range(layout.shards):
        names = [
            field[len(GRAVE_PREFIX) :]
            for field, _ in region.client.hscan_iter(
                layout.head_key(shard), match=GRAVE_PREFIX + "*", count=SCAN_COUNT
            )
        ][: max(0, limit - total)]
        if not names:
            continue
        total += len(names)
        pipe = region.client.pipeline(transaction=False)
        for name in names:
            pipe.zscore(layout.changes_key(shard), name)
        for version in pipe.execute():
            for peer, versions in merged.items():
                if versions is None or (version is not None and version > versions[shard]):
                    held[peer] += 1
    return Waiting(total, held, _unmerged(region, merged_by_each(region, peers, covered=False)))


def _unmerged(region: RegionStore, merged: dict[str, list[int] | None]) -> dict[str, int]:
    """Per peer, the entries of this region's change indexes past what the peer merged."""
    layout = region.layout
    pipe = region.client.pipeline(transaction=False)
    for versions in merged.values():
        for shard in range(layout.shards):
            low = f"({versions[shard]}" if versions is not None else "-inf"
            pipe.zcount(layout.changes_key(shard), low, "+inf")
    counts = pipe.execute()
    return {
        peer: sum(counts[i * layout.shards : (i + 1) * layout.shards])
        for i, peer in enumerate(merged)
    }
