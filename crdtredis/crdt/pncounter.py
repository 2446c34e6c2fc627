"""Positive-negative counter: two grow-only counters, value = P - N."""

from __future__ import annotations

from typing import Self

from crdtredis.crdt.gcounter import GCounter
from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_floors, expect_slots, expect_state


class PNCounter:
    """A counter that goes up and down.

    Increments and decrements are kept as two grow-only counters, so each
    stays monotonic and merges by per-slot max; the value is their difference.
    """

    type_name = "pncounter"
    __slots__ = ("_replica", "p", "n")

    def __init__(
        self,
        replica: str,
        p: dict[str, int] | None = None,
        n: dict[str, int] | None = None,
        deleted: dict[str, dict[str, int]] | None = None,
    ) -> None:
        self._replica = check_replica_id(replica)
        floors = deleted or {}
        self.p = GCounter(replica, p, floors.get("p"))
        self.n = GCounter(replica, n, floors.get("n"))

    @property
    def replica(self) -> str:
        return self._replica

    def value(self) -> int:
        return self.p.value() - self.n.value()

    def incr(self, n: int = 1) -> int:
        """Add ``n >= 0``; return the new value. Raises ``ValueError`` as GCounter does."""
        self.p.incr(n)
        return self.value()

    def decr(self, n: int = 1) -> int:
        """Subtract ``n >= 0``; return the new value. Raises ``ValueError`` as GCounter does."""
        self.n.incr(n)
        return self.value()

    def delete(self) -> None:
        """Reset to zero what this replica has observed (see :meth:`GCounter.delete`)."""
        self.p.delete()
        self.n.delete()

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        self.p.merge(other.p)
        self.n.merge(other.n)
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        return self.p.compare(other.p) and self.n.compare(other.n)

    def to_dict(self) -> StateDict:
        state: StateDict = {
            "type": self.type_name,
            "p": dict(sorted(self.p.slots.items())),
            "n": dict(sorted(self.n.slots.items())),
        }
        if self.p.floors or self.n.floors:
            state["deleted"] = {
                "p": dict(sorted(self.p.floors.items())),
                "n": dict(sorted(self.n.floors.items())),
            }
        return state

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["p", "n"], optional=["deleted"])
        floors = expect_floors(state.get("deleted", {}), ["p", "n"])
        return cls(replica, expect_slots(state["p"], "p"), expect_slots(state["n"], "n"), floors)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.p == other.p and self.n == other.n

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"PNCounter(replica={self._replica!r}, value={self.value()}, "
            f"p={self.p.slots}, n={self.n.slots})"
        )
