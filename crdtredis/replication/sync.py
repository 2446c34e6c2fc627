"""The sync pass: pull what each peer changed since the cursor and merge it in."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from crdtredis.config import SYNC_BATCH
from crdtredis.errors import (
    CERTIFICATE_ADVICE,
    CRDTRedisError,
    ReplicaIdConflict,
    certificate_problem,
)
from crdtredis.replication import frontier, probe, stats
from crdtredis.replication.collection import Collector
from crdtredis.replication.cursor import Cursor
from crdtredis.replication.leases import ALL_SHARDS, LeasesLost, ShardGroup, ShardLeases
from crdtredis.replication.peer import Changes, Peer, PeerHeads, PeerIncarnation
from crdtredis.replication.survey import PageStates, Survey, survey
from crdtredis.store.expiry import EXPIRY_FIELD
from crdtredis.store.region import RegionStore
from crdtredis.store.scripts import is_cluster

log = logging.getLogger(__name__)

#: Most rejected keys a report lists by name (all are counted).
REJECTED_LISTED = 20

#: Keys one round of a pass reads at most (over all due shards), and the
#: fewest it reads from any one shard: memory and call sizes stay bounded
#: whatever the shard count.
ROUND_BUDGET = 20_000
MIN_PER_SHARD = 50


#: Why a pass that holds none of its shards does nothing.
SKIPPED = "another pass holds this peer's shards"


class PassAborted(CRDTRedisError):
    """A pass stopped before moving its cursor past keys it could not merge."""


@dataclass
class PeerReport:
    """What one pass from one peer did."""

    peer: str
    keys_read: int = 0
    keys_changed: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    #: Peer shards whose head or index is corrupt (skipped) or inconsistent.
    shard_problems: dict[int, str] = field(default_factory=dict)
    #: Keys a local key of another kind kept out: tried again every pass.
    obstructed: dict[str, str] = field(default_factory=dict)
    full_resync: bool = False
    duration: float = 0.0
    error: str | None = None
    skipped: str | None = None
    #: What collection dropped after this pass (every peer had merged it):
    #: graves, tombstones, collected objects and change index entries.
    collected: int = 0
    peer_version: int = 0
    cursor_version: int = 0
    lag: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        if self.skipped:
            return f"{self.peer}: skipped ({self.skipped})"
        outcome = "ok" if self.ok else f"FAILED: {self.error}"
        extra = f", {len(self.rejected)} rejected" if self.rejected else ""
        extra += f", {len(self.obstructed)} obstructed" if self.obstructed else ""
        extra += f", {len(self.shard_problems)} bad shards" if self.shard_problems else ""
        resync = ", full resync" if self.full_resync else ""
        return (
            f"{self.peer}: {outcome}; {self.keys_read} keys read, {self.keys_changed} changed"
            f"{extra}{resync}, lag {self.lag}, {self.duration * 1000:.1f} ms"
        )


class Syncer:
    """Runs sync passes of one region from its peers.

    Args:
        region: the local region, merged into.
        peers: the peers to pull from.
        batch: keys read per peer shard per round (one round is a few round
            trips: index, states, merge, cursor).
    """

    def __init__(self, region: RegionStore, peers: Iterable[Peer], batch: int = SYNC_BATCH) -> None:
        self.region = region
        self.peers = {peer.name: peer for peer in peers}
        self.batch = batch
        self.collector = Collector(region, list(self.peers), relays=self.peers)
        #: The running pass's leases and deadline, per thread (a pass per peer at once).
        self._pass = threading.local()

    def sync(
        self,
        group: ShardGroup = ALL_SHARDS,
        peers: Iterable[str] | None = None,
        owner: str = "",
        budget: float | None = None,
    ) -> list[PeerReport]:
        """One pass over ``group``'s shards from each of ``peers`` (all by default), all
        at once (a thread each); reports in peer order.

        Peers far apart cost their round trips side by side, not one after
        the other; each pass holds leases on its shards, so passes over one
        shard never overlap, whichever worker runs them. With ``budget``
        (seconds), a pass takes no new page after that long, so a peer with
        much to catch up does not hold the passes from the others back.
        """
        names = list(self.peers if peers is None else peers)
        if len(names) <= 1:
            return [self.sync_peer(name, group, owner, budget) for name in names]
        with ThreadPoolExecutor(
            max_workers=len(names), thread_name_prefix=f"sync-{self.region.name}"
        ) as passes:
            return list(passes.map(lambda n: self.sync_peer(n, group, owner, budget), names))

    def sync_peer(
        self,
        name: str,
        group: ShardGroup = ALL_SHARDS,
        owner: str = "",
        budget: float | None = None,
    ) -> PeerReport:
        """One pass from one peer over the shards of ``group`` whose leases are free;
        errors are reported, never raised.

        A peer that is down, slow or hung costs at most its timeout per call
        and ends the pass with ``error`` set; local writes are never touched.
        ``owner`` names the pass's holder in its leases; ``budget`` is as for
        :meth:`sync`.
        """
        peer = self.peers[name]
        report = PeerReport(peer.name)
        start = time.monotonic()
        leases = ShardLeases(self.region, peer.name, owner=owner)
        self._pass.leases = leases
        self._pass.deadline = None if budget is None else start + budget
        try:
            try:
                self._pull(peer, report, group, leases)
            finally:
                leases.release()
        except LeasesLost as exc:
            report.skipped = str(exc)
            log.warning("sync %s <- %s: %s", self.region.name, peer.name, exc)
        except (redis.exceptions.RedisError, OSError, CRDTRedisError, ValueError) as exc:
            report.error = describe_error(exc, peer)
            log.warning("sync %s <- %s failed: %s", self.region.name, peer.name, report.error)
        except Exception as exc:  # noqa: BLE001 - a pass must end in a report, whatever it met
            report.error = describe_error(exc, peer)
            log.exception("sync %s <- %s failed unexpectedly", self.region.name, peer.name)
        if report.ok and not report.skipped:
            try:
                report.collected = self.collector.maybe_collect()
            except (redis.exceptions.RedisError, CRDTRedisError) as exc:
                log.warning("collection in %s failed: %s", self.region.name, exc)
        report.duration = time.monotonic() - start
        try:
            stats.record(self.region, report)
        except redis.exceptions.RedisError as exc:
            log.warning("could not record sync statistics for %s: %s", peer.name, exc)
        return report

    def _pull(self, peer: Peer, report: PeerReport, group: ShardGroup, leases: ShardLeases) -> None:
        local = self._local_incarnation()
        stored = Cursor.stored(self.region, peer.name)
        # The shard count the peer had at the last pass: the leases are taken
        # first, so a pass that finds its shards busy costs no round trip.
        guessed = group.shards(len(stored.versions)) if stored is not None else []
        if guessed and not leases.acquire(guessed):
            report.skipped = SKIPPED
            return
        first = self._survey(peer, stored, leases.held)
        source = first.source if first is not None else peer.open()
        if source is None:
            return
        ours = group.shards(source.identity.shards)
        if not ours:
            report.skipped = f"no shard of this peer is in shard group {group}"
            return
        mine = leases.acquire(ours) & set(ours)
        if not mine:
            report.skipped = SKIPPED
            return
        self._register_replicas(source)
        self._retry_obstructed(source, report, mine)
        cursor, report.full_resync = Cursor.load(
            self.region, peer.name, source.identity, local, stored
        )
        survey = first.heads if first is not None else source.heads(self.region.name)
        self._check_not_rolled_back(peer, survey.cursor_on_puller)
        frontier.remember(self.region, peer.name, survey, source.identity.incarnation)
        heads = survey.versions
        for shard, problem in survey.problems.items():
            report.shard_problems[shard] = problem
            log.warning("sync %s <- %s: %s", self.region.name, peer.name, problem)
        due = self._due(source, survey, cursor, mine, report)
        prefetched = None
        if first is not None and first.page is not None and set(due) <= set(first.page):
            if all(first.after[s] == v for s, v in due.items()):  # else a shard started over
                # Every shard, as the survey read it (its page size depends on that).
                page = {s: first.page[s] if s in due else [] for s in first.page}
                names = [name for entries in page.values() for name, _ in entries]
                prefetched = (page, first.trimmed & set(due), first.states(names))
        read_all = self._pages(source, cursor, due, prefetched, report)
        behind = any(h is not None and cursor.versions[s] < h for s, h in enumerate(heads))
        incomplete = bool(survey.problems) or report.full_resync or not read_all or behind
        report.peer_version = sum(h or 0 for h in heads)
        report.cursor_version = cursor.total
        # A pass that read every change its survey listed has no lag to ask for.
        report.lag = source.pending(cursor.versions) if incomplete else 0

    def _due(
        self,
        source: PeerIncarnation,
        survey: PeerHeads,
        cursor: Cursor,
        mine: set[int],
        report: PeerReport,
    ) -> dict[int, int]:
        """The shards of ``mine`` to pull from the change index, and from where.

        A shard gone back in time starts over; one whose index was trimmed
        past the cursor is resynced by scan first, up to the heads just read.
        """
        heads = [h if s in mine else None for s, h in enumerate(survey.versions)]
        for shard, head in enumerate(heads):
            if head is not None and head < cursor.versions[shard]:
                cursor.rewind(self.region, shard)
                report.full_resync = True
        behind = {
            shard: head
            for shard, (head, trim) in enumerate(zip(heads, survey.trims, strict=True))
            if head is not None and cursor.versions[shard] < trim
        }
        if behind:
            report.full_resync = True
            self._resync(source, behind, report)
            self._pass.leases.check()
            cursor.advance(self.region, behind)
        return {
            shard: cursor.versions[shard]
            for shard, head in enumerate(heads)
            if head is not None and head > cursor.versions[shard]
        }

    def _pages(
        self,
        source: PeerIncarnation,
        cursor: Cursor,
        due: dict[int, int],
        prefetched: tuple[dict[int, Changes], set[int], PageStates | None] | None,
        report: PeerReport,
    ) -> bool:
        """Pull the ``due`` shards page by page, the next page read while this one
        merges; True when every change listed was read (no shard trimmed under it)."""
        read_all = True
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pull-{report.peer}") as reader:
            if not due:
                fetch = None
            elif prefetched is not None:
                fetch = reader.submit(self._states, source, *prefetched)
            else:
                fetch = reader.submit(self._fetch, source, due)
            while fetch is not None:
                page, stored, registry, trimmed = fetch.result()
                limit = self._limit(len(page))
                due = {s: entries[-1][1] for s, entries in page.items() if len(entries) == limit}
                deadline = self._pass.deadline
                if due and deadline is not None and time.monotonic() > deadline:
                    due, read_all = {}, False  # the next pass goes on from the cursor
                fetch = reader.submit(self._fetch, source, due) if due else None
                if trimmed:
                    # Trimmed under this pass (by a pull the source was waiting for):
                    # the cursor stays, and the next pass resyncs these shards.
                    read_all = False
                    log.info(
                        "sync %s <- %s: shards %s trimmed past the cursor during the pass",
                        self.region.name,
                        report.peer,
                        sorted(trimmed),
                    )
                self._register_replicas(source, registry)
                self._merge_page(report, stored)
                report.keys_read += sum(len(entries) for entries in page.values())
                self._pass.leases.check()
                cursor.advance(
                    self.region, {s: entries[-1][1] for s, entries in page.items() if entries}
                )
        return read_all

    def _resync(self, source: PeerIncarnation, behind: dict[int, int], report: PeerReport) -> None:
        """Merge every object and grave of the ``behind`` shards, found by scanning the peer.

        The peer's index no longer names everything past this region's cursor
        there (it was trimmed: every configured peer had pulled it, this
        region was new or lost its cursor). Every key that exists while the
        scan runs is read at least once, and a key changed or created since
        the heads were read has a version past them, which the index still
        holds: so once the scan is merged the cursor may stand at those heads.
        """
        seen: set[str] = set()
        for names in source.scan(behind, self.batch):
            read, _, registry = source.read_page(names)
            stored = self._hashes(names, read)
            self._register_replicas(source, registry)
            seen.update(stored)
            report.keys_read += len(stored)
            self._merge_page(report, stored)
        graves = {n: g for n, g in source.all_graves(behind).items() if n not in seen}
        if graves:
            self._register_replicas(source, source.registry())
            self._merge_page(report, {n: {EXPIRY_FIELD: g} for n, g in graves.items()})

    def _register_replicas(
        self, source: PeerIncarnation, registry: dict[str, str] | None = None
    ) -> None:
        """Copy the peer's replica registry here (as opened, or as read with a page)
        before anything of it is merged.

        Raises:
            ReplicaIdConflict: an id stands for another incarnation here than
                at the peer; no object of the peer is merged while it does.
        """
        entries = source.identity.replicas if registry is None else registry
        conflicts = self.region.guard.register_replicas(entries)
        if conflicts:
            replica, (here, there) = next(iter(conflicts.items()))
            raise ReplicaIdConflict(
                f"replica id {replica!r} stands for {here} here but for {there} in peer "
                f"{source.peer.name}: two incarnations drew the same id, so nothing is merged "
                "from this peer (see 'Replica ids' in the README for what to do)"
            )

    def _local_incarnation(self) -> str:
        """This region's incarnation as its Redis holds it now (adopted if it changed)."""
        stored = self.region.guard.stored()
        if stored is None or stored.incarnation != self.region.incarnation:
            self.region.refresh_identity()
        return self.region.incarnation

    def _check_not_rolled_back(self, peer: Peer, theirs: Cursor | None) -> None:
        """Renew the incarnation when ``peer`` has pulled more of this region than it holds.

        The peer's cursor on this region counts, per shard, the versions it
        merged. In one incarnation versions only grow, so a cursor past the
        local head means the local Redis went back to an older copy of itself
        without a restart (a restore into a running server): its slots and
        log ids are held beyond it by the peer, and counting on in them would
        lose writes.

        Raises:
            PassAborted: the rollback was found; the next pass pulls ``peer``
                from the start into the new incarnation.
        """
        checked = self.region.incarnation
        if theirs is None or theirs.incarnation != checked:
            return
        ours = self.region.head_versions()
        if len(theirs.versions) != len(ours):
            return
        for shard, (pulled, held) in enumerate(zip(theirs.versions, ours, strict=True)):
            if pulled > held:
                reason = (
                    f"peer {peer.name} has merged shard {shard} of this region up to version "
                    f"{pulled}, past the {held} it holds: the Redis went back to an older copy"
                )
                self.region.guard.renew(reason, lost=checked)
                raise PassAborted(
                    f"{reason}; incarnation {self.region.incarnation} begins, and the next "
                    "pass pulls this peer from the start"
                )

    def _retry_obstructed(
        self, source: PeerIncarnation, report: PeerReport, mine: set[int]
    ) -> None:
        """Merge again the keys of the shards ``mine`` that a local obstacle kept out;
        forget those that got through.

        A name is added and removed only by passes that hold its shard, so a
        pass never forgets a name that another pass found obstructed again.
        """
        retry_key = self.region.layout.retry_key(source.peer.name)
        names = sorted(
            name
            for name in self.region.client.smembers(retry_key)
            if source.layout.shard_of(name) in mine
        )
        if not names:
            return
        read, _, registry = source.read_page(names)
        stored = self._hashes(names, read)
        self._register_replicas(source, registry)
        report.keys_read += len(stored)
        still = self._merge_page(report, stored)
        done = [name for name in names if name not in still]
        if done:
            self._pass.leases.check()  # else another pass may have found them obstructed again
            self.region.client.srem(retry_key, *done)

    def _merge_page(self, report: PeerReport, stored: dict[str, Any]) -> set[str]:
        """Merge one page's hashes; return the names still obstructed.

        Raises:
            PassAborted: the cursor must not move past this page.
        """
        self._pass.leases.check()
        before = self.region.incarnation
        for name, problem in [(n, f) for n, f in stored.items() if isinstance(f, str)]:
            self._reject(report, name, f"key {name!r} rejected: {problem}")
            del stored[name]
        merged = self.region.merge_peer_hashes(stored)
        if merged.failed:
            # Nothing is known of these keys: end the pass with the
            # cursor before them, so the next pass reads them again.
            name, error = next(iter(merged.failed.items()))
            raise PassAborted(
                f"merging into {self.region.name} failed for {len(merged.failed)} keys "
                f"(first {name!r}: {error}); the cursor stays, the next pass retries"
            )
        if self.region.incarnation != before:
            # The local Redis lost its data under the pass (a wipe, a restore):
            # what earlier pages merged is gone, so no cursor may count it.
            raise PassAborted(
                f"the Redis of {self.region.name} changed incarnation during the pass "
                f"({before} -> {self.region.incarnation}: wiped or restored?); "
                "the next pass pulls this peer from the start"
            )
        probe.observe(self.region, merged.changed)
        report.keys_changed += len(merged.changed)
        for key, error in merged.rejected.items():
            self._reject(report, key, str(error))
        if merged.obstructed:
            # A local obstacle, not bad peer data: keep the names to try
            # again at every pass, and let the cursor move on for the rest.
            self.region.client.sadd(self.region.layout.retry_key(report.peer), *merged.obstructed)
            for key, error in merged.obstructed.items():
                report.obstructed[key] = str(error)
                log.warning("sync %s <- %s: %s", self.region.name, report.peer, error)
        return set(merged.obstructed)

    def _survey(self, peer: Peer, stored: Cursor | None, shards: set[int]) -> Survey | None:
        """The peer's identity, heads, first page of ``shards`` and its objects in one
        round trip, when this region holds a cursor for it, ``stored`` (else None: the
        pass opens the peer and reads its heads)."""
        if stored is None or is_cluster(peer.client):
            return None  # a cluster's pipelines run on several nodes at once: no read first
        limit = self._limit(len(shards))
        return survey(peer, self.region.name, stored.versions, limit, shards)

    def _fetch(
        self, source: PeerIncarnation, after: dict[int, int]
    ) -> tuple[dict[int, Changes], dict[str, Any], dict[str, str], set[int]]:
        """One page: what changed past ``after`` in each shard, those objects' hashes,
        the peer's replica registry, and the shards trimmed past ``after``."""
        page, trimmed = source.changes(after, self._limit(len(after)))
        return self._states(source, page, trimmed)

    def _states(
        self,
        source: PeerIncarnation,
        page: dict[int, Changes],
        trimmed: set[int],
        states: PageStates | None = None,
    ) -> tuple[dict[int, Changes], dict[str, Any], dict[str, str], set[int]]:
        """The hashes (or graves) of a page's objects, and the registry read after them
        (``states`` when the survey read them with the page)."""
        names = [name for entries in page.values() for name, _ in entries]
        read, graves, registry = states if states is not None else source.read_page(names)
        stored = self._hashes(names, read)
        for name, grave in graves.items():
            if name not in stored:
                stored[name] = {EXPIRY_FIELD: grave}  # merged as the end of the name's life
        return page, stored, registry, trimmed

    @staticmethod
    def _hashes(names: list[str], read: list[Any]) -> dict[str, Any]:
        """The peer's hashes by name: missing ones left out, unreadable ones as a reason."""
        stored: dict[str, Any] = {}
        for name, fields in zip(names, read, strict=True):
            if isinstance(fields, redis.exceptions.ResponseError) and is_wrong_type(fields):
                stored[name] = f"the peer cannot read it as a hash: {fields}"
            elif isinstance(fields, Exception):
                # Not bad data (no permission, say): the pass fails, the cursor stays.
                raise fields
            elif fields:
                stored[name] = fields
        return stored

    def _limit(self, shards: int) -> int:
        """Keys read per shard in a round: ``batch``, less when many shards are due at once."""
        return min(self.batch, max(MIN_PER_SHARD, ROUND_BUDGET // max(shards, 1)))

    def _reject(self, report: PeerReport, name: str, reason: str) -> None:
        if len(report.rejected) < REJECTED_LISTED or name in report.rejected:
            report.rejected[name] = reason
        else:
            report.rejected.setdefault("...", "more keys rejected")
        log.warning("sync %s <- %s: %s", self.region.name, report.peer, reason)


def is_wrong_type(error: redis.exceptions.ResponseError) -> bool:
    """Whether ``error`` says the key holds another kind of value (bad data at the peer,
    rejected for that key alone), rather than that it could not be read at all."""
    return str(error).startswith("WRONGTYPE")


def describe_error(exc: BaseException, peer: Peer) -> str:
    """One line saying what went wrong and where, with no password in it."""
    if isinstance(exc, redis.exceptions.TimeoutError):
        return f"peer {peer.name} ({peer.where}) did not answer in time: {exc}"
    if isinstance(exc, redis.exceptions.ConnectionError | OSError):
        problem = certificate_problem(str(exc))
        if problem is not None:
            return (
                f"peer {peer.name} ({peer.where}) presented a TLS certificate that does not "
                f"verify ({problem}): {CERTIFICATE_ADVICE}"
            )
        return f"peer {peer.name} ({peer.where}) is unreachable: {exc}"
    return f"{type(exc).__name__}: {exc}".replace(peer.url, peer.where)
