"""The OR-Set in Redis: live tags ``.<e>``, removed tags ``~<e>``, add counters ``#<replica>``."""

from __future__ import annotations

import re
from typing import Any

from crdtredis.crdt import ORSet
from crdtredis.crdt.gset import check_element
from crdtredis.crdt.interface import StateDict
from crdtredis.crdt.orset import Tag
from crdtredis.store.codec import format_id, parse_id
from crdtredis.store.handle import WriteCall
from crdtredis.store.scripts import lua_source, script
from crdtredis.store.types.contract import Fields, StoredType
from crdtredis.store.types.elements import RedisSet, set_summary

_COUNTER = re.compile(r"0|[1-9][0-9]*")


def _tags(csv: str, where: str) -> list[list[Any]]:
    if not csv:
        raise ValueError(f"{where} holds no tags")
    return [[replica, n] for n, replica in (parse_id(t) for t in csv.split(","))]


def _csv(tags: list[list[Any]]) -> str:
    return ",".join(format_id(n, r) for r, n in tags)


def _known_tags(*maps: dict[str, list[Any]]) -> set[tuple[Any, ...]]:
    return {tuple(t) for tags_by_element in maps for tags in tags_by_element.values() for t in tags}


class ORSetType(StoredType):
    name = ORSet.type_name
    code = "or"
    family = "set"
    pure = ORSet
    join_lua = lua_source("joins/orset.lua")

    def open(self, region: Any, name: str) -> RedisORSet:
        return RedisORSet(region, name)

    def decode(self, body: Fields) -> StateDict:
        entries: dict[str, Any] = {}
        removed: dict[str, Any] = {}
        for f, v in body:
            kind, element = f[:1], f[1:]
            if kind == ".":
                entries[element] = _tags(v, f)
            elif kind == "~":
                removed[element] = _tags(v, f)
            elif kind != "#" or not _COUNTER.fullmatch(v):
                raise ValueError(f"field {f!r} = {v!r} is not part of an OR-Set")
        return {"type": self.name, "entries": entries, "removed": removed}

    def encode(self, state: StateDict) -> Fields:
        fields = [(f".{e}", _csv(tags)) for e, tags in state["entries"].items()]
        return fields + [(f"~{e}", _csv(tags)) for e, tags in state["removed"].items()]

    def pieces(self, fields: Fields, size: int) -> list[Fields]:
        """Pieces that keep each element's live and removed tags together (one join)."""
        by_element: dict[str, Fields] = {}
        for f, v in fields:
            by_element.setdefault(f[1:], []).append((f, v))
        result: list[Fields] = [[]]
        for element_fields in by_element.values():
            if len(result[-1]) >= size:
                result.append([])
            result[-1].extend(element_fields)
        return result

    def summary(self, state: StateDict) -> dict[str, Any]:
        tombstones = sum(len(tags) for tags in state["removed"].values())
        return set_summary(list(state["entries"]), tombstones)

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        known = _known_tags(mine["entries"], mine["removed"])
        their_live = _known_tags(theirs["entries"]) - known
        their_removed = _known_tags(theirs["removed"]) - _known_tags(mine["removed"])
        return len(their_live) + len(their_removed)


ORSET = ORSetType()


def tag_of(reply: str) -> Tag:
    """The tag an add was given, from ``orset_update.lua``'s ``n@replica`` reply."""
    counter, replica = parse_id(reply)
    return replica, counter


class RedisORSet(RedisSet[ORSet]):
    """An observed-remove set (:class:`~crdtredis.crdt.ORSet`) in Redis."""

    stored = ORSET

    def add(self, element: str) -> Tag:
        """Add ``element`` under a fresh tag, which is returned."""
        return tag_of(self._write_with(*self.add_call(element)))

    def add_call(self, element: str) -> WriteCall:
        """The write adding ``element`` under a fresh tag (:func:`tag_of` reads its reply)."""
        check_element(element)
        return script("orset_update"), lambda: [
            self.name,
            self.code,
            "add",
            element,
            self.region.replica,
        ]

    def remove(self, element: str) -> None:
        """Remove ``element`` as observed here; ``KeyError`` if it is not a member."""
        with self.not_a_member(element):
            self._write_with(*self.remove_call(element))

    def remove_call(self, element: str) -> WriteCall:
        """The write removing ``element`` as observed here (refused: not a member)."""
        check_element(element)
        return script("orset_update"), lambda: [self.name, self.code, "remove", element, ""]

    def tombstones(self) -> int:
        return sum(len(v.split(",")) for f, v in self._fields().items() if f[:1] == "~")
