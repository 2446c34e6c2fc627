"""The 2P-Set in Redis: field ``.<element>`` = ``a`` (added) or ``r`` (removed for good)."""

from __future__ import annotations

from typing import Any

from crdtredis.crdt import TwoPhaseSet
from crdtredis.crdt.gset import check_element
from crdtredis.crdt.interface import StateDict
from crdtredis.store.scripts import lua_source
from crdtredis.store.types.contract import Fields, StoredType
from crdtredis.store.types.elements import RedisSet, set_summary


class TwoPhaseSetType(StoredType):
    name = TwoPhaseSet.type_name
    code = "2p"
    family = "set"
    pure = TwoPhaseSet
    join_lua = lua_source("joins/twophase_set.lua")

    def open(self, region: Any, name: str) -> RedisTwoPhaseSet:
        return RedisTwoPhaseSet(region, name)

    def decode(self, body: Fields) -> StateDict:
        for f, v in body:
            if not f.startswith(".") or v not in ("a", "r"):
                raise ValueError(f"field {f!r} = {v!r} is not a 2P-Set element")
        added = [f[1:] for f, _ in body]
        return {"type": self.name, "added": added, "removed": [f[1:] for f, v in body if v == "r"]}

    def encode(self, state: StateDict) -> Fields:
        removed = set(state["removed"])
        return [(f".{e}", "r" if e in removed else "a") for e in state["added"]]

    def summary(self, state: StateDict) -> dict[str, Any]:
        removed = set(state["removed"])
        return set_summary([e for e in state["added"] if e not in removed], len(removed))

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        return len(set(theirs["added"]) - set(mine["added"])) + len(
            set(theirs["removed"]) - set(mine["removed"])
        )


TWOPHASE_SET = TwoPhaseSetType()


class RedisTwoPhaseSet(RedisSet[TwoPhaseSet]):
    """A remove-once set (:class:`~crdtredis.crdt.TwoPhaseSet`) in Redis."""

    stored = TWOPHASE_SET

    def add(self, element: str) -> None:
        self._write("twophase_update", self.name, self.code, "add", check_element(element))

    def remove(self, element: str) -> None:
        """Remove ``element`` for good; ``KeyError`` if it is not a member."""
        check_element(element)
        self._remove("twophase_update", element, self.name, self.code, "remove", element)
