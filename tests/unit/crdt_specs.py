"""Per-type descriptions used by the property tests of the pure CRDTs.

A spec says how to draw operations for a type, how to perform one on a
replica, and what a *model* of the type says the value is, computed from the
bare list of operations a replica knows about (never from the CRDT's own
data structures). Replicas learn each other's operations only by merging.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from crdtredis.crdt import CounterMap, GCounter, GSet, ORSet, PNCounter, TwoPhaseSet
from crdtredis.crdt import Sequence as SequenceCRDT

Event = tuple[Any, ...]
Op = tuple[Any, ...]

ELEMENTS = st.sampled_from(["a", "b", "c", "d", "é", ""])


@dataclass(frozen=True)
class Spec:
    cls: type[Any]
    ops: st.SearchStrategy[Op]
    #: Perform ``op`` on a replica that knows ``view``; return the event to
    #: record, or None where the op does not apply in that view.
    perform: Callable[[Any, Op, Sequence[Event], int], Event | None]
    #: The value a replica knowing exactly ``events`` must show.
    model: Callable[[Sequence[Event]], Any]
    observe: Callable[[Any], Any]

    def __str__(self) -> str:
        return self.cls.__name__


# -- counters ---------------------------------------------------------------
def _perform_counter(crdt: Any, op: Op, view: Sequence[Event], eid: int) -> Event:
    kind, amount = op
    getattr(crdt, kind)(amount)
    return (kind, amount if kind == "incr" else -amount)


def _counter_model(events: Sequence[Event]) -> int:
    return sum(amount for _, amount in events)


AMOUNTS = st.integers(min_value=0, max_value=10**6)

GCOUNTER = Spec(
    GCounter,
    st.tuples(st.just("incr"), AMOUNTS),
    _perform_counter,
    _counter_model,
    lambda c: c.value(),
)
PNCOUNTER = Spec(
    PNCounter,
    st.tuples(st.sampled_from(["incr", "decr"]), AMOUNTS),
    _perform_counter,
    _counter_model,
    lambda c: c.value(),
)


def _map_perform(crdt: Any, op: Op, view: Sequence[Event], eid: int) -> Event:
    kind, field, amount = op
    if kind == "delete_field":
        crdt.delete_field(field)
        return ("delete", field, frozenset(e[3] for e in view if e[0] == "add" and e[1] == field))
    getattr(crdt, kind)(field, amount)
    return ("add", field, amount if kind == "incr" else -amount, eid)


def _map_model(events: Sequence[Event]) -> dict[str, int]:
    """Each field's increments minus decrements, except those a field delete observed."""
    observed: set[int] = set()
    for e in events:
        if e[0] == "delete":
            observed |= e[2]
    counts: dict[str, int] = {}
    for e in events:
        if e[0] == "add" and e[3] not in observed:
            counts[e[1]] = counts.get(e[1], 0) + e[2]
    return {f: n for f, n in sorted(counts.items()) if n}


COUNTERMAP = Spec(
    CounterMap,
    st.tuples(
        st.sampled_from(["incr", "incr", "decr", "delete_field"]),
        st.sampled_from(["/", "/a", "/b", "é"]),
        st.integers(min_value=0, max_value=5),
    ),
    _map_perform,
    _map_model,
    lambda m: m.items(),
)


# -- sets -------------------------------------------------------------------
def _gset_perform(crdt: Any, op: Op, view: Sequence[Event], eid: int) -> Event:
    crdt.add(op[1])
    return op


GSET = Spec(
    GSet,
    st.tuples(st.just("add"), ELEMENTS),
    _gset_perform,
    lambda events: {e[1] for e in events},
    lambda s: s.members(),
)


def _twophase_model(events: Sequence[Event]) -> set[str]:
    return {e[1] for e in events if e[0] == "add"} - {e[1] for e in events if e[0] == "remove"}


def _twophase_perform(crdt: Any, op: Op, view: Sequence[Event], eid: int) -> Event | None:
    kind, element = op
    removed_here = any(e == ("remove", element) for e in view)
    if kind == "add":
        if removed_here:
            return None
        crdt.add(element)
    else:
        if element not in _twophase_model(view):
            return None
        crdt.remove(element)
    return op


TWOPHASE = Spec(
    TwoPhaseSet,
    st.tuples(st.sampled_from(["add", "remove"]), ELEMENTS),
    _twophase_perform,
    _twophase_model,
    lambda s: s.members(),
)


def _orset_model(events: Sequence[Event]) -> set[str]:
    """Add wins: an add survives unless some remove observed that very add."""
    observed: set[int] = set()
    for e in events:
        if e[0] == "remove":
            observed |= e[2]
    return {e[1] for e in events if e[0] == "add" and e[2] not in observed}


def _orset_perform(crdt: Any, op: Op, view: Sequence[Event], eid: int) -> Event | None:
    kind, element = op
    if kind == "add":
        crdt.add(element)
        return ("add", element, eid)
    if element not in _orset_model(view):
        return None
    crdt.remove(element)
    seen = frozenset(e[2] for e in view if e[0] == "add" and e[1] == element)
    return ("remove", element, seen)


ORSET = Spec(
    ORSet,
    st.tuples(st.sampled_from(["add", "add", "remove"]), ELEMENTS),
    _orset_perform,
    _orset_model,
    lambda s: s.members(),
)


# -- sequence ---------------------------------------------------------------
def _sequence_perform(crdt: Any, op: Op, view: Sequence[Event], eid: int) -> Event | None:
    kind, fraction = op
    length = len(crdt)
    if kind == "insert":
        value = f"v{eid}"
        crdt.insert(int(fraction * (length + 1)) if fraction < 1 else length, value)
        return ("insert", value)
    if length == 0:
        return None
    return ("remove", crdt.remove(min(int(fraction * length), length - 1)))


def _sequence_model(events: Sequence[Event]) -> list[str]:
    """Which values are visible (sorted): the order itself is checked elsewhere."""
    removed = {e[1] for e in events if e[0] == "remove"}
    return sorted(e[1] for e in events if e[0] == "insert" and e[1] not in removed)


SEQUENCE = Spec(
    SequenceCRDT,
    st.tuples(
        st.sampled_from(["insert", "insert", "remove"]),
        st.floats(min_value=0, max_value=1, allow_nan=False),
    ),
    _sequence_perform,
    _sequence_model,
    lambda s: sorted(s.to_list()),
)

SPECS = [GCOUNTER, PNCOUNTER, COUNTERMAP, GSET, TWOPHASE, ORSET, SEQUENCE]


# -- histories --------------------------------------------------------------
Step = tuple[Any, ...]


def steps(spec: Spec, replicas: int, max_size: int = 40) -> st.SearchStrategy[list[Step]]:
    """Operations on random replicas, interleaved with one-way merges."""
    index = st.integers(min_value=0, max_value=replicas - 1)
    op_step = st.tuples(st.just("op"), index, spec.ops)
    sync_step = st.tuples(st.just("sync"), index, index)
    return st.lists(st.one_of(op_step, op_step, sync_step), max_size=max_size)


@dataclass
class History:
    """Replicas and, beside them, the operations each one knows about."""

    spec: Spec
    replicas: list[Any]
    events: list[Event]
    known: list[set[int]]

    @classmethod
    def start(cls, spec: Spec, count: int) -> History:
        return cls(
            spec, [spec.cls(f"r{i}") for i in range(count)], [], [set() for _ in range(count)]
        )

    def view(self, i: int) -> list[Event]:
        return [self.events[k] for k in sorted(self.known[i])]

    def step(self, step: Step) -> None:
        if step[0] == "sync":
            _, i, j = step
            self.replicas[i].merge(self.replicas[j])
            self.known[i] |= self.known[j]
        else:
            _, i, op = step
            event = self.spec.perform(self.replicas[i], op, self.view(i), len(self.events))
            if event is not None:
                self.events.append(event)
                self.known[i].add(len(self.events) - 1)

    def expected(self, i: int) -> Any:
        return self.spec.model(self.view(i))


@st.composite
def replica_states(draw: st.DrawFn, spec: Spec, count: int = 3) -> list[Any]:
    """``count`` replicas of ``spec`` after a random history with partial merges."""
    history = History.start(spec, count)
    for step in draw(steps(spec, count, max_size=25)):
        history.step(step)
    return history.replicas


def clone(crdt: Any) -> Any:
    """An independent copy through the serialised state (also exercises it)."""
    return type(crdt).from_dict(crdt.to_dict(), crdt.replica)
