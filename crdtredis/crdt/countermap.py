"""Counter map: named up-and-down counters in one object, merged field by field.

``views:2026-11-23`` -> ``/pricing`` -> 1234: each field is a
:class:`~crdtredis.crdt.pncounter.PNCounter` of its own (per-replica slots
and the floors deletes observed), so the map's join is the join of each
field's counter, and the laws hold because they hold per field.

A field counts 0 until written, and a field whose count is 0 is not listed:
a map is a function from field to count where absent means 0, so
:meth:`items`, :meth:`top`, :meth:`total` and ``len`` depend on the counts
alone, whatever sequence of writes and merges produced them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.pncounter import PNCounter
from crdtredis.crdt.schema import expect_state

#: Longest field name: fields are stored in every replica's slot names.
FIELD_MAX_LEN = 1024


def check_field(field: object) -> str:
    """A usable field name: non-empty text (no lone surrogates) of at most
    :data:`FIELD_MAX_LEN` characters."""
    if not isinstance(field, str):
        raise ValueError(f"a counter map field must be a string, got {type(field).__name__}")
    if not field:
        raise ValueError("a counter map field must not be empty")
    if len(field) > FIELD_MAX_LEN:
        raise ValueError(
            f"counter map field {field[:40]!r}... is longer than {FIELD_MAX_LEN} characters"
        )
    try:
        field.encode()
    except UnicodeEncodeError:
        raise ValueError(f"counter map field {field[:40]!r} is not valid text") from None
    return field


def check_count(n: object) -> int:
    """How many fields ``top()`` gives: an integer >= 0."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"top() takes a count >= 0, got {n!r}")
    return n


class CounterMap:
    """Named PN-counters under one key (Akka's ``PNCounterMap``, Redis's hash of counts)."""

    type_name = "countermap"
    __slots__ = ("_replica", "fields")

    def __init__(self, replica: str, fields: dict[str, PNCounter] | None = None) -> None:
        self._replica = check_replica_id(replica)
        #: Every field ever written or merged, deleted ones (all at their floors) too.
        self.fields: dict[str, PNCounter] = dict(fields or {})

    @property
    def replica(self) -> str:
        return self._replica

    def _counter(self, field: str) -> PNCounter:
        found = self.fields.get(check_field(field))
        if found is None:
            found = self.fields[field] = PNCounter(self._replica)
        return found

    def incr(self, field: str, n: int = 1) -> int:
        """Add ``n >= 0`` to ``field``; return its new count (``ValueError`` as PNCounter)."""
        return self._counter(field).incr(n)

    def decr(self, field: str, n: int = 1) -> int:
        """Subtract ``n >= 0`` from ``field``; return its new count."""
        return self._counter(field).decr(n)

    def get(self, field: str) -> int:
        """The count of ``field``; 0 for a field never written."""
        found = self.fields.get(check_field(field))
        return 0 if found is None else found.value()

    def items(self) -> dict[str, int]:
        """Every field with a count other than 0, by field name."""
        counts = {f: c.value() for f, c in sorted(self.fields.items())}
        return {f: n for f, n in counts.items() if n}

    def top(self, n: int) -> list[tuple[str, int]]:
        """The ``n`` largest counts, largest first; equal counts in field-name order."""
        return sorted(self.items().items(), key=lambda item: (-item[1], item[0]))[: check_count(n)]

    def total(self) -> int:
        """The sum of every field's count."""
        return sum(self.items().values())

    def __len__(self) -> int:
        return len(self.items())

    def __iter__(self) -> Iterator[str]:
        return iter(self.items())

    def delete_field(self, field: str) -> None:
        """Reset ``field`` as observed here; concurrent increments elsewhere survive."""
        found = self.fields.get(check_field(field))
        if found is not None:
            found.delete()

    def delete(self) -> None:
        """Reset every field as observed here (see :meth:`PNCounter.delete`)."""
        for counter in self.fields.values():
            counter.delete()

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        for field, theirs in other.fields.items():
            mine = self.fields.get(field)
            if mine is None:
                mine = self.fields[field] = PNCounter(self._replica)
            mine.merge(theirs)
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        empty = PNCounter(self._replica)
        return all(c.compare(other.fields.get(f, empty)) for f, c in self.fields.items())

    def to_dict(self) -> StateDict:
        """``{"type": "countermap", "fields": {field: PNCounter state without "type"}}``.

        Fields whose counter holds no slot at all are left out (they carry
        nothing), so equal maps serialise equally.
        """
        fields: StateDict = {}
        for field, counter in sorted(self.fields.items()):
            state = counter.to_dict()
            del state["type"]
            if state["p"] or state["n"] or state.get("deleted"):
                fields[field] = state
        return {"type": self.type_name, "fields": fields}

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["fields"])
        if not isinstance(state["fields"], dict):
            raise ValueError("countermap fields must be an object of field -> counter state")
        fields: dict[str, PNCounter] = {}
        for field, counter in state["fields"].items():
            try:
                check_field(field)
                if not isinstance(counter, dict):
                    raise ValueError(f"must be an object, got {type(counter).__name__}")
                pure = PNCounter.from_dict({**counter, "type": PNCounter.type_name}, replica)
            except ValueError as exc:
                raise ValueError(f"countermap field {field!r}: {exc}") from None
            fields[field] = pure
        return cls(replica, fields)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CounterMap(replica={self._replica!r}, items={self.items()})"
