"""Two-phase set: an added set and a removed set (tombstones), both grow-only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

from crdtredis.crdt.gset import check_element
from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_state, expect_str_set


class TwoPhaseSet:
    """A set whose elements can be removed once and never re-added.

    Removal wins over any add, concurrent or later: a removed element is
    remembered as a tombstone forever. Use :class:`~crdtredis.crdt.ORSet` when
    elements must come back.
    """

    type_name = "2pset"
    __slots__ = ("_replica", "added", "removed")

    def __init__(
        self,
        replica: str,
        added: set[str] | None = None,
        removed: set[str] | None = None,
    ) -> None:
        self._replica = check_replica_id(replica)
        self.added: set[str] = set(added or ())
        self.removed: set[str] = set(removed or ())

    @property
    def replica(self) -> str:
        return self._replica

    def add(self, element: str) -> None:
        """Add ``element``.

        Raises:
            ValueError: the element was removed before; a two-phase set cannot
                take it back.
        """
        if check_element(element) in self.removed:
            raise ValueError(
                f"{element!r} was removed from this two-phase set and cannot be re-added; "
                "use an OR-Set for elements that come back"
            )
        self.added.add(element)

    def remove(self, element: str) -> None:
        """Remove ``element`` for good.

        Raises:
            KeyError: ``element`` is not a member.
        """
        if element not in self:
            raise KeyError(f"{element!r} is not a member of this set")
        self.removed.add(element)

    def delete(self) -> None:
        """Remove every member observed here, for good (two-phase: none can come back)."""
        self.removed |= self.added

    def members(self) -> set[str]:
        return self.added - self.removed

    def __contains__(self, element: object) -> bool:
        return element in self.added and element not in self.removed

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.members()))

    def __len__(self) -> int:
        return len(self.added) - len(self.removed)

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        self.added |= other.added
        self.removed |= other.removed
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        return self.added <= other.added and self.removed <= other.removed

    def to_dict(self) -> StateDict:
        return {
            "type": self.type_name,
            "added": sorted(self.added),
            "removed": sorted(self.removed),
        }

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["added", "removed"])
        added = expect_str_set(state["added"], "added")
        removed = expect_str_set(state["removed"], "removed")
        if not removed <= added:
            stray = sorted(removed - added)[:3]
            raise ValueError(f"removed lists elements that were never added: {stray}")
        return cls(replica, added, removed)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.added == other.added
            and self.removed == other.removed
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TwoPhaseSet(replica={self._replica!r}, members={sorted(self.members())})"
