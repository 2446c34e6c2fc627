"""Grow-only set: elements are added, never removed; merge is union."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_state, expect_str_set


def check_element(element: object) -> str:
    """Set elements are strings, as they are in Redis."""
    if not isinstance(element, str):
        raise ValueError(f"set elements must be strings, got {type(element).__name__}")
    return element


class GSet:
    """A set that only grows."""

    type_name = "gset"
    __slots__ = ("_replica", "items")

    def __init__(self, replica: str, items: set[str] | None = None) -> None:
        self._replica = check_replica_id(replica)
        self.items: set[str] = set(items or ())

    @property
    def replica(self) -> str:
        return self._replica

    def add(self, element: str) -> None:
        self.items.add(check_element(element))

    def delete(self) -> None:
        """Always raises ``ValueError``: removal is not part of a grow-only set's meaning."""
        raise ValueError("a GSet only grows and cannot be deleted; use an OR-Set for that")

    def members(self) -> set[str]:
        return set(self.items)

    def __contains__(self, element: object) -> bool:
        return element in self.items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        self.items |= other.items
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        return self.items <= other.items

    def to_dict(self) -> StateDict:
        return {"type": self.type_name, "members": sorted(self.items)}

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["members"])
        return cls(replica, expect_str_set(state["members"], "members"))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.items == other.items

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GSet(replica={self._replica!r}, members={sorted(self.items)})"
