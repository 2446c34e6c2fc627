"""Observed-remove set: adds carry unique tags, a remove tombstones the tags it saw."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Self

from crdtredis.crdt.gset import check_element
from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_list, expect_state, expect_str, expect_tag

#: A tag names one add: the replica that made it and that replica's add number.
Tag = tuple[str, int]


class ORSet:
    """A set where elements can be removed and added again (add wins).

    Every ``add`` creates a fresh tag; ``remove`` tombstones only the tags it
    has observed. An add concurrent with a remove therefore survives it, and an
    element removed earlier can be re-added. Tombstones are kept forever, so
    ``tombstones()`` grows with the number of removed adds.
    """

    type_name = "orset"
    __slots__ = ("_replica", "entries", "removed", "_seq")

    def __init__(
        self,
        replica: str,
        entries: dict[str, set[Tag]] | None = None,
        removed: set[Tag] | None = None,
    ) -> None:
        self._replica = check_replica_id(replica)
        self.entries: dict[str, set[Tag]] = {e: set(t) for e, t in (entries or {}).items() if t}
        self.removed: set[Tag] = set(removed or ())
        self._seq = 0
        self._observe(t for tags in self.entries.values() for t in tags)
        self._observe(self.removed)

    def _observe(self, tags: Iterable[Tag]) -> None:
        """Keep this replica's add number past every tag of its own it has seen."""
        own = [n for r, n in tags if r == self._replica]
        if own:
            self._seq = max(self._seq, *own)

    @property
    def replica(self) -> str:
        return self._replica

    def add(self, element: str) -> Tag:
        """Add ``element`` under a fresh tag, which is returned."""
        check_element(element)
        self._seq += 1
        tag = (self._replica, self._seq)
        self.entries.setdefault(element, set()).add(tag)
        return tag

    def remove(self, element: str) -> None:
        """Remove ``element`` as observed here; concurrent adds elsewhere survive.

        Raises:
            KeyError: ``element`` is not a member.
        """
        tags = self.entries.pop(element, None)
        if tags is None:
            raise KeyError(f"{element!r} is not a member of this set")
        self.removed |= tags

    def members(self) -> set[str]:
        return set(self.entries)

    def tombstones(self) -> int:
        return len(self.removed)

    def __contains__(self, element: object) -> bool:
        return element in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        check_no_tag_conflict(self.entries, other.entries)
        new_removals = other.removed - self.removed
        self.removed |= new_removals
        for element, tags in other.entries.items():
            live = tags - self.removed
            if live:
                self.entries.setdefault(element, set()).update(live)
        if new_removals:
            for element in list(self.entries):
                tags = self.entries[element]
                tags -= new_removals
                if not tags:
                    del self.entries[element]
        self._observe(t for tags in other.entries.values() for t in tags)
        self._observe(new_removals)
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        if not self.removed <= other.removed:
            return False
        for element, tags in self.entries.items():
            theirs = other.entries.get(element, set())
            if not all(t in theirs or t in other.removed for t in tags):
                return False
        return True

    def to_dict(self) -> StateDict:
        return {
            "type": self.type_name,
            "entries": {
                e: sorted([r, n] for r, n in tags) for e, tags in sorted(self.entries.items())
            },
            "removed": sorted([r, n] for r, n in self.removed),
        }

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["entries", "removed"])
        raw_entries = state["entries"]
        if not isinstance(raw_entries, dict):
            raise ValueError("entries must be an object of element to tag list")
        seen: set[Tag] = set()
        entries: dict[str, set[Tag]] = {}
        for element, raw_tags in raw_entries.items():
            expect_str(element, "an element")
            tags = [expect_tag(t, f"a tag of {element!r}") for t in expect_list(raw_tags, element)]
            if not tags:
                raise ValueError(f"element {element!r} has no tags")
            if seen.intersection(tags) or len(set(tags)) != len(tags):
                raise ValueError(f"a tag of {element!r} is used twice")
            seen.update(tags)
            entries[element] = set(tags)
        removed = [expect_tag(t, "a removed tag") for t in expect_list(state["removed"], "removed")]
        if len(set(removed)) != len(removed):
            raise ValueError("removed lists a tag twice")
        if seen.intersection(removed):
            raise ValueError("a tag is both live and removed")
        return cls(replica, entries, set(removed))

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.entries == other.entries
            and self.removed == other.removed
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ORSet(replica={self._replica!r}, members={sorted(self.entries)}, "
            f"tombstones={len(self.removed)})"
        )


def check_no_tag_conflict(mine: dict[str, set[Tag]], theirs: dict[str, set[Tag]]) -> None:
    """Refuse a merge where one tag names two different elements.

    Tags are unique per add, so this only happens when two replicas share an
    id; merging would make the result depend on merge order.
    """
    owner = {t: e for e, tags in mine.items() for t in tags}
    for element, tags in theirs.items():
        for tag in tags:
            found = owner.get(tag)
            if found is not None and found != element:
                raise ValueError(
                    f"tag {list(tag)} names {found!r} here and {element!r} in the other "
                    "replica: two replicas share an id"
                )
