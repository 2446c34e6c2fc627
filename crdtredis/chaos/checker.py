"""What must hold once the system is healed and quiet, given what was acknowledged.

An operation counts as *safe* when it was acknowledged and its region was not
wiped after it: it must be in the final state, exactly once. One acknowledged
by a region that was wiped later is *at risk*: it survives only if a peer had
merged it before the wipe, so it may be missing, and is counted apart, never
silently. One whose outcome is unknown (a timeout, a connection cut mid-reply)
may or may not be there. A failed one must not be.

Deletes are observed removes, so what a delete took depends on what its
region had merged when it ran, which no writer sees. The checker bounds it
instead: an increment acknowledged by the deleting region before the delete
began is surely reset by it; one begun after every delete of its key ended
surely survives; any other may or may not have been reset, and widens the
range the final count must fall in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from crdtredis.chaos.history import FAILED, OK, UNKNOWN, History, Op
from crdtredis.chaos.schedule import FAULTS

#: A region's final values: counter -> int, counter map -> {field: count},
#: expiring key -> int or None (gone), set -> sorted members, log -> list.
Finals = dict[str, dict[str, Any]]


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    #: Acknowledged operations a wipe may have taken, and how many it did take.
    at_risk: int = 0
    lost_with_wipes: int = 0
    uncertain: int = 0
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check(history: History, finals: Finals) -> Verdict:
    """Every region equal, and every safe operation in the state exactly once."""
    verdict = Verdict()
    regions = sorted(finals)
    keys = sorted({op.key for op in history.ops})
    for key in keys:
        values = {r: finals[r].get(key) for r in regions}
        if len({repr(v) for v in values.values()}) > 1:
            verdict.problems.append(f"{key}: regions disagree: {values}")
    ops_by_key: dict[str, list[Op]] = defaultdict(list)
    for op in history.ops:
        ops_by_key[op.key].append(op)
    final = finals[regions[0]]
    for key, ops in ops_by_key.items():
        if key.startswith("c"):
            _counter(key, ops, final.get(key), history, verdict)
        elif key.startswith("m"):
            _counter_map(key, ops, final.get(key) or {}, history, verdict)
        elif key.startswith("x"):
            _expiring(key, ops, final.get(key), history, verdict)
        else:
            _elements(key, ops, final.get(key) or [], history, verdict)
    return verdict


def _at_risk(op: Op, history: History) -> bool:
    """Acknowledged by a region that was wiped after (or while) it was written: an
    operation sent before the wipe returned may have run before the flush."""
    return any(region == op.region and ended >= op.began for region, _, ended in history.wipes)


#: How long after its call returned an operation of unknown outcome may still take
#: effect: a command sent to a frozen Redis runs when it is thawed.
LATE = FAULTS["pause-redis"]


def _latest(op: Op) -> float:
    """The last moment ``op`` may have taken effect."""
    return op.ended + (LATE if op.outcome == UNKNOWN else 0.0)


def _surely_reset(op: Op, delete: Op, history: History) -> bool:
    """``op`` was acknowledged by the region of ``delete`` before the delete began, and
    that region lost nothing in between: the delete saw it."""
    return (
        op.outcome == OK
        and delete.outcome == OK
        and not _at_risk(op, history)
        and not _at_risk(delete, history)
        and delete.region == op.region
        and op.ended < delete.began
    )


def _counter(
    key: str, ops: list[Op], value: Any, history: History, verdict: Verdict, field: str = ""
) -> None:
    """The final count against increments and decrements, bounded around deletes."""
    deletes = [op for op in ops if op.kind == "delete" and op.outcome != FAILED]
    safe, low, high, risked = 0, 0, 0, 0
    for op in ops:
        if op.kind not in ("incr", "decr"):
            continue
        amount = int(op.value) if op.kind == "incr" else -int(op.value)
        verdict.checked += 1
        if op.outcome == FAILED or any(_surely_reset(op, d, history) for d in deletes):
            continue
        survives = all(op.began > _latest(d) for d in deletes)
        if op.outcome == OK and not _at_risk(op, history) and survives:
            safe += amount
            continue
        if op.outcome == OK and survives:
            verdict.at_risk += 1
            risked += amount
        else:
            verdict.uncertain += 1
        low, high = low + min(amount, 0), high + max(amount, 0)
    actual = int(value or 0)
    where = f"{key}[{field}]" if field else key
    if not safe + low <= actual <= safe + high:
        verdict.problems.append(
            f"{where}: value {actual}, but the acknowledged operations give {safe} "
            f"(at most {low:+d}/{high:+d} from unknown, at-risk or maybe-deleted ones)"
        )
    elif risked and not deletes and actual != safe + risked:
        verdict.lost_with_wipes += 1


def _counter_map(
    key: str, ops: list[Op], counts: dict[str, int], history: History, verdict: Verdict
) -> None:
    """Each field as a counter; a delete of the whole map deletes every field."""
    for name in sorted({op.field for op in ops if op.field} | set(counts)):
        mine = [op for op in ops if op.field == name or (op.kind == "delete" and not op.field)]
        _counter(key, mine, counts.get(name, 0), history, verdict, name)


def _expiring(key: str, ops: list[Op], value: Any, history: History, verdict: Verdict) -> None:
    """A key counted up, then given an expiry that has passed by now: gone everywhere,
    unless the expiry surely failed (then a counter like any other)."""
    expiries = [op for op in ops if op.kind == "expire"]
    counted = [op for op in ops if op.kind != "expire"]
    gone_surely = any(e.outcome == OK and not _at_risk(e, history) for e in expiries)
    if gone_surely:
        verdict.checked += 1
        if value is not None:
            verdict.problems.append(f"{key}: still there ({value}) after its expiry passed")
    elif value is not None or not any(e.outcome != FAILED for e in expiries):
        _counter(key, counted, value, history, verdict)


def _elements(
    key: str, ops: list[Op], found: list[Any], history: History, verdict: Verdict
) -> None:
    """Set members or log entries: unique values, each added once and removed at most once."""
    counts: dict[str, int] = defaultdict(int)
    for value in found:
        counts[str(value)] += 1
    added = {str(op.value): op for op in ops if op.kind in ("add", "append")}
    removed = {str(op.value): op for op in ops if op.kind == "remove"}
    for value, times in counts.items():
        if value not in added:
            verdict.problems.append(f"{key}: {value!r} was never written")
        elif times > 1:
            verdict.problems.append(f"{key}: {value!r} is there {times} times")
    for value, op in added.items():
        verdict.checked += 1
        there = counts.get(value, 0) > 0
        gone = removed.get(value)
        safe_add = op.outcome == OK and not _at_risk(op, history)
        safe_remove = gone is not None and gone.outcome == OK and not _at_risk(gone, history)
        if op.outcome == FAILED and there:
            verdict.problems.append(f"{key}: {value!r} is there though its write failed")
        elif safe_add and safe_remove and there:
            verdict.problems.append(f"{key}: {value!r} is there though it was removed")
        elif safe_add and (gone is None or gone.outcome == FAILED) and not there:
            verdict.problems.append(f"{key}: acknowledged {value!r} is missing")
        elif op.outcome == OK and not safe_add:
            verdict.at_risk += 1
            verdict.lost_with_wipes += int(not there and gone is None)
        elif op.outcome != OK or (gone is not None and not safe_remove):
            verdict.uncertain += 1
