"""Grow-only counter: one non-negative slot per replica, merged by per-slot max.

A delete is an observed reset: it records, per replica, the slot it saw as
that slot's floor, and the value counts only what each slot holds above its
floor. Floors merge by per-slot max like the slots, so an increment made
concurrently elsewhere (a slot above the floor the delete saw) survives.
"""

from __future__ import annotations

from typing import Self

from crdtredis.crdt.interface import SLOT_MAX, StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_floors, expect_slots, expect_state


class GCounter:
    """A counter that only grows.

    Each replica increments only its own slot, so concurrent increments never
    conflict; the value is the sum of all slots. Slots are keyed by replica id,
    not by position, so replicas may join at any time.
    """

    type_name = "gcounter"
    __slots__ = ("_replica", "slots", "floors")

    def __init__(
        self,
        replica: str,
        slots: dict[str, int] | None = None,
        floors: dict[str, int] | None = None,
    ) -> None:
        self._replica = check_replica_id(replica)
        self.slots: dict[str, int] = {r: n for r, n in (slots or {}).items() if n}
        #: Per replica, the slot a delete observed: only what lies above counts.
        self.floors: dict[str, int] = {r: n for r, n in (floors or {}).items() if n}

    @property
    def replica(self) -> str:
        return self._replica

    def value(self) -> int:
        return sum(self.live().values())

    def live(self) -> dict[str, int]:
        """Each replica's count since the last delete it was observed in (non-zero ones)."""
        floors = self.floors
        live = {r: n - min(n, floors.get(r, 0)) for r, n in self.slots.items()}
        return {r: n for r, n in live.items() if n}

    def delete(self) -> None:
        """Reset to zero what this replica has observed; concurrent increments elsewhere stay."""
        for replica, count in self.slots.items():
            if count > self.floors.get(replica, 0):
                self.floors[replica] = count

    def incr(self, n: int = 1) -> int:
        """Add ``n >= 0`` to this replica's slot; return the new value.

        Raises:
            ValueError: ``n`` is negative, not an integer, or the slot would
                pass 2**63-1 (the width of a Redis integer).
        """
        check_amount(n)
        current = self.slots.get(self._replica, 0)
        if current + n > SLOT_MAX:
            raise ValueError(
                f"increment by {n} would overflow replica {self._replica!r}'s slot "
                f"({current} + {n} > 2**63-1)"
            )
        if n:
            self.slots[self._replica] = current + n
        return self.value()

    def decr(self, n: int = 1) -> int:
        """Always raises ``ValueError``: a grow-only counter cannot go down."""
        raise ValueError("a GCounter only grows; use a PNCounter to count down")

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        for mine, theirs in ((self.slots, other.slots), (self.floors, other.floors)):
            for replica, count in theirs.items():
                if count > mine.get(replica, 0):
                    mine[replica] = count
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        return all(
            count <= theirs.get(replica, 0)
            for mine, theirs in ((self.slots, other.slots), (self.floors, other.floors))
            for replica, count in mine.items()
        )

    def to_dict(self) -> StateDict:
        state: StateDict = {"type": self.type_name, "slots": dict(sorted(self.slots.items()))}
        if self.floors:
            state["deleted"] = {"slots": dict(sorted(self.floors.items()))}
        return state

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["slots"], optional=["deleted"])
        floors = expect_floors(state.get("deleted", {}), ["slots"])
        return cls(replica, expect_slots(state["slots"], "slots"), floors["slots"])

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self) and self.slots == other.slots and self.floors == other.floors
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"GCounter(replica={self._replica!r}, value={self.value()}, slots={self.slots}, "
            f"floors={self.floors})"
        )


def check_amount(n: object) -> int:
    """An increment or decrement amount: an integer ``>= 0``."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"amount must be an integer, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"amount must be >= 0, got {n}; use decr() on a PNCounter to count down")
    return n
