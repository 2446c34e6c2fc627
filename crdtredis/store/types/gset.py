"""The grow-only set in Redis: field ``.<element>`` = ``1``, merged by union."""

from __future__ import annotations

from typing import Any

from crdtredis.crdt import GSet
from crdtredis.crdt.gset import check_element
from crdtredis.crdt.interface import StateDict
from crdtredis.store.scripts import lua_source
from crdtredis.store.types.contract import Fields, StoredType
from crdtredis.store.types.elements import RedisSet, set_summary


class GSetType(StoredType):
    name = GSet.type_name
    code = "gs"
    family = "set"
    pure = GSet
    join_lua = lua_source("joins/gset.lua")

    def open(self, region: Any, name: str) -> RedisGSet:
        return RedisGSet(region, name)

    def decode(self, body: Fields) -> StateDict:
        for f, v in body:
            if not f.startswith(".") or v != "1":
                raise ValueError(f"field {f!r} = {v!r} is not a GSet element")
        return {"type": self.name, "members": [f[1:] for f, _ in body]}

    def encode(self, state: StateDict) -> Fields:
        return [(f".{e}", "1") for e in state["members"]]

    def summary(self, state: StateDict) -> dict[str, Any]:
        return set_summary(state["members"], 0)

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        return len(set(theirs["members"]) - set(mine["members"]))


GSET = GSetType()


class RedisGSet(RedisSet[GSet]):
    """A grow-only set (:class:`~crdtredis.crdt.GSet`) in Redis."""

    stored = GSET

    def add(self, element: str) -> None:
        self._write("gset_add", self.name, self.code, check_element(element))

    def remove(self, element: str) -> None:
        """Always raises ``ValueError``: a grow-only set has no removal."""
        raise ValueError(f"key {self.name!r} is a gset, which only grows; use an orset to remove")
