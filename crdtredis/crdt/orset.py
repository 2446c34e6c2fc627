"""Observed-remove set: adds carry unique tags, a remove tombstones the tags it saw."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

from crdtredis.crdt.gset import check_element
from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_list, expect_state, expect_str, expect_tag

#: A tag names one add: the replica that made it and that replica's add number.
Tag = tuple[str, int]
TagsByElement = dict[str, set[Tag]]


class ORSet:
    """A set where elements can be removed and added again (add wins).

    Every ``add`` creates a fresh tag; ``remove`` tombstones only the tags it
    has observed. An add concurrent with a remove therefore survives it, and an
    element removed earlier can be re-added. Tombstones are kept per element,
    forever, so ``tombstones()`` grows with the number of removed adds; keeping
    them beside their element lets the Redis layer merge one element at a time.
    """

    type_name = "orset"
    __slots__ = ("_replica", "entries", "removed", "_seq")

    def __init__(
        self,
        replica: str,
        entries: TagsByElement | None = None,
        removed: TagsByElement | None = None,
    ) -> None:
        self._replica = check_replica_id(replica)
        self.entries: TagsByElement = {e: set(t) for e, t in (entries or {}).items() if t}
        self.removed: TagsByElement = {e: set(t) for e, t in (removed or {}).items() if t}
        self._seq = 0
        self._observe(self.entries)
        self._observe(self.removed)

    def _observe(self, tags_by_element: TagsByElement) -> None:
        """Keep this replica's add number past every tag of its own it has seen."""
        own = [n for tags in tags_by_element.values() for r, n in tags if r == self._replica]
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
        self.removed.setdefault(element, set()).update(tags)

    def delete(self) -> None:
        """Remove every element as observed here; adds made concurrently elsewhere survive."""
        for element in list(self.entries):
            self.remove(element)

    def members(self) -> set[str]:
        return set(self.entries)

    def tombstones(self) -> int:
        return sum(len(tags) for tags in self.removed.values())

    def __contains__(self, element: object) -> bool:
        return element in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        check_no_tag_conflict(self, other)
        for element, tags in other.removed.items():
            self.removed.setdefault(element, set()).update(tags)
        for element in set(other.entries) | set(other.removed):
            live = self.entries.get(element, set()) | other.entries.get(element, set())
            live -= self.removed.get(element, set())
            if live:
                self.entries[element] = live
            else:
                self.entries.pop(element, None)
        self._observe(other.entries)
        self._observe(other.removed)
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        for element, tags in self.removed.items():
            if not tags <= other.removed.get(element, set()):
                return False
        for element, tags in self.entries.items():
            seen = other.entries.get(element, set()) | other.removed.get(element, set())
            if not tags <= seen:
                return False
        return True

    def tag_owners(self) -> dict[Tag, str]:
        """Every tag this replica knows, live or removed, with its element."""
        owners = {t: e for e, tags in self.entries.items() for t in tags}
        owners.update((t, e) for e, tags in self.removed.items() for t in tags)
        return owners

    def to_dict(self) -> StateDict:
        return {
            "type": self.type_name,
            "entries": _tags_to_json(self.entries),
            "removed": _tags_to_json(self.removed),
        }

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["entries", "removed"])
        seen: set[Tag] = set()
        entries = _tags_from_json(state["entries"], "entries", seen)
        removed = _tags_from_json(state["removed"], "removed", seen)
        return cls(replica, entries, removed)

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
            f"tombstones={self.tombstones()})"
        )


def _tags_to_json(tags_by_element: TagsByElement) -> dict[str, list[list[str | int]]]:
    return {e: sorted([r, n] for r, n in tags) for e, tags in sorted(tags_by_element.items())}


def _tags_from_json(raw: object, what: str, seen: set[Tag]) -> TagsByElement:
    """Parse ``{element: [[replica, n], ...]}``; a tag may appear once in all of ``seen``."""
    if not isinstance(raw, dict):
        raise ValueError(f"{what} must be an object of element to tag list")
    result: TagsByElement = {}
    for element, raw_tags in raw.items():
        expect_str(element, "an element")
        tags = [expect_tag(t, f"a tag of {element!r}") for t in expect_list(raw_tags, element)]
        if not tags:
            raise ValueError(f"element {element!r} has no tags in {what}")
        if seen.intersection(tags) or len(set(tags)) != len(tags):
            raise ValueError(f"a tag of {element!r} in {what} is used twice")
        seen.update(tags)
        result[element] = set(tags)
    return result


def check_no_tag_conflict(mine: ORSet, theirs: ORSet) -> None:
    """Refuse a merge where one tag names two different elements.

    Tags are unique per add, so this only happens when two replicas share an
    id; merging would make the result depend on merge order.
    """
    owners = mine.tag_owners()
    for tag, element in theirs.tag_owners().items():
        found = owners.get(tag)
        if found is not None and found != element:
            raise ValueError(
                f"tag {list(tag)} names {found!r} here and {element!r} in the other "
                "replica: two replicas share an id"
            )
