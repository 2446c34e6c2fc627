"""Many objects in one round trip: batched increments, batched merges, listings.

Work is grouped by shard, because one script may only touch one shard (one
Redis Cluster hash slot); each group is one script call, atomic on its own,
and all groups go out in one pipeline.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crdtredis.crdt.gcounter import check_amount
from crdtredis.crdt.interface import SLOT_MAX, StateDict
from crdtredis.errors import (
    BatchError,
    CRDTRedisError,
    IdentityError,
    InvalidStateError,
)
from crdtredis.store.expiry import LIFE_FIELDS, now_ms
from crdtredis.store.guard import GuardRefusal, is_refusal
from crdtredis.store.layout import check_name, name_matcher
from crdtredis.store.refusal import refusal_error
from crdtredis.store.scripts import LuaScript, ScriptError, script
from crdtredis.store.types import Fields
from crdtredis.store.types.countermap import check_amounts

if TYPE_CHECKING:
    from crdtredis.store.region import RegionStore

#: Most objects one script call carries.
#: SCAN's COUNT hint when listing names.
SCAN_PAGE = 1000
CHUNK = 256
#: Most fields one merge script call carries: a few milliseconds of Lua, so a
#: merge never holds the local Redis long. A larger object is merged in
#: pieces of this size, one call (and one round trip) each, in the order its
#: type gives (see :meth:`StoredType.pieces`).
FIELD_BUDGET = 2_000

Build = Callable[[], tuple[list[str], list[str]]]


def run_guarded(region: RegionStore, calls: Sequence[tuple[int, LuaScript, Build]]) -> list[Any]:
    """Run ``(shard, script, build)`` calls in one pipeline, healing guard refusals.

    ``build`` gives keys and arguments (after the incarnation) and is called
    again for calls retried after an identity change. Results are in order;
    a failed call has its exception in place of a result.
    """
    results: list[Any] = [None] * len(calls)
    pending = list(range(len(calls)))

    def attempt() -> list[Any]:
        nonlocal pending
        built = []
        for i in pending:
            _shard, lua, build = calls[i]
            keys, args = build()
            built.append((lua, keys, [region.incarnation, *args]))
        refused = []
        for i, outcome in zip(pending, region.scripts.call_many(built), strict=True):
            if is_refusal(outcome):
                refused.append((i, outcome))
            else:
                results[i] = outcome
        pending = [i for i, _ in refused]
        if refused:
            raise GuardRefusal([(calls[i][0], outcome) for i, outcome in refused])
        return results

    try:
        return region.guard.call(attempt, f"{len(calls)} script calls")
    except IdentityError as exc:
        for i in pending:
            results[i] = exc
        return results


def _by_shard(
    region: RegionStore, names: Sequence[str], size: Callable[[str], int] = lambda _: 1
) -> list[tuple[int, list[str]]]:
    """Names grouped by shard, in calls of at most ``CHUNK`` names and ``FIELD_BUDGET`` size."""
    groups: dict[int, list[str]] = defaultdict(list)
    for name in names:
        groups[region.layout.shard_of(name)].append(name)
    calls: list[tuple[int, list[str]]] = []
    for shard, members in sorted(groups.items()):
        current: list[str] = []
        weight = 0
        for name in members:
            if current and (len(current) == CHUNK or weight + size(name) > FIELD_BUDGET):
                calls.append((shard, current))
                current, weight = [], 0
            current.append(name)
            weight += size(name)
        calls.append((shard, current))
    return calls


def _data_keys(region: RegionStore, shard: int, names: list[str]) -> list[str]:
    layout = region.layout
    return [*layout.shard_keys(shard), *(layout.data_key(n, shard) for n in names)]


def incr_many(
    region: RegionStore, amounts: Mapping[str, int], type_name: str, sign: str = ""
) -> None:
    counters = region.types.names("counter")
    if type_name not in counters:
        raise ValueError(f"incr_many counts keys of type {', '.join(counters)}, not {type_name!r}")
    checked: dict[str, str] = {}
    for name, amount in amounts.items():
        try:
            if check_amount(amount) > SLOT_MAX:
                raise ValueError(f"amount {amount} is larger than a 64-bit slot")
        except ValueError as exc:
            raise ValueError(f"key {name!r}: {exc}; nothing was written") from None
        checked[check_name(name)] = str(amount)
    code = region.types.by_name(type_name).code

    def builder(shard: int, names: list[str]) -> Build:
        def build() -> tuple[list[str], list[str]]:
            args = [code, sign + region.replica, "0"]
            for name in names:
                args += [name, checked[name]]
            return _data_keys(region, shard, names), args

        return build

    groups = _by_shard(region, list(checked))
    results = run_guarded(
        region, [(shard, script("counter_add"), builder(shard, names)) for shard, names in groups]
    )
    raise_refusals(region, groups, results, type_name)


def raise_refusals(
    region: RegionStore,
    groups: list[tuple[int, list[str]]],
    results: list[Any],
    type_name: str,
) -> None:
    """Raise :class:`BatchError` naming each refused object and those refused with it."""
    failures: dict[str, Exception] = {}
    applied: list[str] = []
    for (_shard, names), outcome in zip(groups, results, strict=True):
        if not isinstance(outcome, Exception):
            applied += names
            continue
        culprit, error = _counter_refusal(region, outcome, type_name)
        for name in names:
            failures[name] = (
                error
                if name == culprit
                else CRDTRedisError(f"not applied: {culprit!r} in the same shard was refused")
            )
    if failures:
        raise BatchError(failures, applied)


#: A planned batch: each script call's shard and names, and the calls themselves.
Plan = tuple[list[tuple[int, list[str]]], list[tuple[int, LuaScript, Build]]]


def plan_fields(region: RegionStore, maps: Mapping[str, Mapping[str, int]], sign: str = "") -> Plan:
    """The script calls that add to fields of counter maps, every input checked first.

    Raises:
        ValueError: a name, field or amount is bad; nothing was sent.
    """
    stored = region.types.by_name("countermap")
    flat = {check_name(n): check_amounts(fields, f"key {n!r}") for n, fields in maps.items()}
    flat = {name: fields for name, fields in flat.items() if fields}

    def builder(shard: int, names: list[str]) -> Build:
        payload = json.dumps([[name, flat[name]] for name in names])

        def build() -> tuple[list[str], list[str]]:
            return _data_keys(region, shard, names), [stored.code, sign + region.replica, payload]

        return build

    groups = _by_shard(region, list(flat), lambda name: len(flat[name]) // 2)
    return groups, [(shard, script("map_add"), builder(shard, names)) for shard, names in groups]


def incr_fields(region: RegionStore, maps: Mapping[str, Mapping[str, int]], sign: str = "") -> None:
    """Add to fields of many counter maps: one script call per shard batch, one round trip.

    Every name, field and amount is checked before anything is sent. Each
    shard's maps are written atomically; a refusal (another type, overflow)
    leaves that shard's maps as they were and :class:`BatchError` lists them.
    """
    groups, calls = plan_fields(region, maps, sign)
    raise_refusals(region, groups, run_guarded(region, calls), "countermap")


def _counter_refusal(
    region: RegionStore, outcome: Exception, type_name: str
) -> tuple[str | None, Exception]:
    """The refused counter (named after a tab in the detail) and its error."""
    if not isinstance(outcome, ScriptError) or outcome.code not in (
        "WRONGTYPE",
        "OVERFLOW",
        "CORRUPT",
    ):
        return None, outcome
    detail, _, name = outcome.detail.partition("\t")
    return name, refusal_error(outcome.code, detail, name, type_name, region.types)


@dataclass
class MergeReport:
    """What a batched merge did to each object."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Objects refused for what they are (malformed, another type): final.
    rejected: dict[str, Exception] = field(default_factory=dict)
    #: Objects not merged because their whole script call failed (out of
    #: memory, a failover, ...): nothing is known about them; try again.
    failed: dict[str, Exception] = field(default_factory=dict)
    #: Objects not merged because a local Redis key of another kind is in
    #: the way: nothing was written; they merge once the obstacle is gone.
    obstructed: dict[str, Exception] = field(default_factory=dict)

    def record(self, region: RegionStore, name: str, result: Any, code: str) -> None:
        """Note the merge script's result for object ``name`` (stored as type ``code``)."""
        if result == 1:
            self.changed.append(name)
        elif result == 0:
            self.unchanged.append(name)
        elif str(result).startswith("FAILED "):
            self.failed[name] = CRDTRedisError(
                f"Redis failed merging key {name!r}: {str(result)[7:]}"
            )
        else:
            kind, _, detail = str(result).partition(" ")
            wanted = region.types.name_of_code(code)
            error = refusal_error(kind, detail, name, wanted, region.types)
            (self.obstructed if kind == "OBSTRUCTED" else self.rejected)[name] = error

    def problem_of(self, name: str) -> tuple[str, Exception] | None:
        """Which problem bucket holds ``name``, and its error; None when it merged."""
        for bucket in ("rejected", "obstructed", "failed"):
            problems: dict[str, Exception] = getattr(self, bucket)
            if name in problems:
                return bucket, problems[name]
        return None

    def raise_for(self, name: str) -> None:
        found = self.problem_of(name)
        if found is not None:
            raise found[1]


def merge_many(region: RegionStore, states: Mapping[str, StateDict]) -> MergeReport:
    """Join pure states (``to_dict`` form) in."""
    return _merge(region, states, region.types.validate)


def merge_peer_hashes(region: RegionStore, hashes: Mapping[str, Mapping[str, str]]) -> MergeReport:
    """Join objects' hashes as another region stores them (what a sync reads)."""
    return _merge(region, hashes, region.types.validate_hash)


def _merge(
    region: RegionStore, inputs: Mapping[str, Any], check: Callable[..., tuple[str, Fields]]
) -> MergeReport:
    report = MergeReport()
    encoded: dict[str, tuple[str, Fields]] = {}
    for name, value in inputs.items():
        try:
            encoded[check_name(name)] = check(name, value)
        except (InvalidStateError, ValueError) as exc:
            report.rejected[name] = exc
        except (UnicodeError, RecursionError, TypeError) as exc:
            report.rejected[name] = InvalidStateError(name, f"{type(exc).__name__}: {exc}")
    large = [n for n, (_, fields) in encoded.items() if len(fields) > FIELD_BUDGET]
    for name in large:
        _merge_in_pieces(region, name, encoded.pop(name), report)
    groups = _by_shard(region, list(encoded), lambda n: len(encoded[n][1]))
    merge = region.types.merge_script()
    results = run_guarded(
        region,
        [(shard, merge, _merge_call(region, shard, names, encoded)) for shard, names in groups],
    )
    for (_shard, names), outcome in zip(groups, results, strict=True):
        if isinstance(outcome, Exception):
            report.failed.update(dict.fromkeys(names, outcome))
            continue
        for name, result in zip(names, outcome, strict=True):
            report.record(region, name, result, encoded[name][0])
    return report


def _merge_in_pieces(
    region: RegionStore, name: str, encoded: tuple[str, Fields], report: MergeReport
) -> None:
    """Merge one large object piece by piece, one call each, stopping at the first problem.

    Each piece is a valid part of the state in the type's order (an
    operation after what it refers to, an element's tags together), so the
    object is a valid state between pieces too.
    """
    code, fields = encoded
    shard = region.layout.shard_of(name)
    merge = region.types.merge_script()
    pieces = MergeReport()
    life = [(f, v) for f, v in fields if f in LIFE_FIELDS]  # in every piece: see _merge.lua
    body = [(f, v) for f, v in fields if f not in LIFE_FIELDS]
    for part in region.types.by_code(code).pieces(body, FIELD_BUDGET):
        piece = [*part, *life]
        (outcome,) = run_guarded(
            region, [(shard, merge, _merge_call(region, shard, [name], {name: (code, piece)}))]
        )
        if isinstance(outcome, Exception):
            pieces.failed[name] = outcome
        else:
            pieces.record(region, name, outcome[0], code)
        found = pieces.problem_of(name)
        if found is not None:  # a problem ends the object: no later piece is sent
            bucket, error = found
            getattr(report, bucket)[name] = error
            return
    (report.changed if name in pieces.changed else report.unchanged).append(name)


def _merge_call(
    region: RegionStore, shard: int, names: list[str], encoded: Mapping[str, tuple[str, Fields]]
) -> Build:
    """The keys and arguments of one merge script call (the payload is built once)."""
    payload = json.dumps(
        [
            [name, encoded[name][0], [x for pair in encoded[name][1] for x in pair]]
            for name in names
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )

    def build() -> tuple[list[str], list[str]]:
        return _data_keys(region, shard, names), [payload, str(now_ms(region.clock))]

    return build


def names(region: RegionStore, pattern: str = "*") -> Iterator[str]:
    """Names matching the glob ``pattern`` (Redis's glob, as in ``KEYS``) of the
    objects the region holds, by SCAN.

    Not from the change indexes: those are trimmed once every peer has
    pulled a change. SCAN names a key that exists throughout at least once,
    so a name may come twice while keys are written; each is yielded once.
    """
    layout = region.layout
    seen: set[str] = set()
    matches = name_matcher(pattern)
    match = f"{layout.data_pattern[:-1]}{{*}}:{pattern}"
    for key in region.client.scan_iter(match=match, count=SCAN_PAGE):
        try:
            name = layout.name_of(key)
        except ValueError:
            continue
        if name not in seen and matches(name) and key == layout.data_key(name):
            seen.add(name)
            yield name


__all__ = ["MergeReport", "incr_many", "merge_many", "merge_peer_hashes", "names"]
