"""A throwaway stored type, registered by the test suite only: a register that keeps its maximum.

It shows what adding a type takes: a pure CRDT, a :class:`StoredType` with
its handle and its Lua join (``max_register.lua``), and one ``register`` call
on a registry. Nothing in crdtredis itself is edited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_int, expect_state
from crdtredis.store.codec import check_slot
from crdtredis.store.handle import RedisObject
from crdtredis.store.types import BUILT_IN, Fields, StoredType, TypeRegistry


class MaxRegister:
    """An integer register whose merge keeps the larger value."""

    type_name = "maxregister"

    def __init__(self, replica: str, value: int = 0) -> None:
        self._replica = check_replica_id(replica)
        self.value = value

    @property
    def replica(self) -> str:
        return self._replica

    def raise_to(self, value: int) -> None:
        self.value = max(self.value, expect_int(value, "value"))

    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        self.value = max(self.value, other.value)
        return self

    def delete(self) -> None:
        """A max register has no delete (its join file has none either: ``NODELETE``)."""
        raise ValueError("a max register cannot be deleted")

    def compare(self, other: Self) -> bool:
        return self.value <= other.value

    def to_dict(self) -> StateDict:
        return {"type": self.type_name, "value": self.value}

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["value"])
        return cls(replica, expect_int(state["value"], "value"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaxRegister) and other.value == self.value


class MaxRegisterType(StoredType):
    name = MaxRegister.type_name
    code = "mx"
    family = "other"
    pure = MaxRegister
    join_lua = Path(__file__).with_name("max_register.lua").read_text()

    def open(self, region: Any, name: str) -> RedisMaxRegister:
        return RedisMaxRegister(region, name)

    def decode(self, body: Fields) -> StateDict:
        if [f for f, _ in body] != ["v"]:
            raise ValueError(f"a maxregister holds field 'v' alone, not {[f for f, _ in body]}")
        return {"type": self.name, "value": check_slot("v", body[0][1])}

    def encode(self, state: StateDict) -> Fields:
        return [("v", str(state["value"]))]

    def summary(self, state: StateDict) -> dict[str, Any]:
        return {"value": state["value"]}

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        return int(theirs["value"] > mine["value"])

    def value(self, state: StateDict) -> int:
        return int(state["value"])


MAX_REGISTER = MaxRegisterType()


class RedisMaxRegister(RedisObject[MaxRegister]):
    stored = MAX_REGISTER

    def raise_to(self, value: int) -> bool:
        """Raise the register to ``value`` (a merge: no write script of its own)."""
        return self.merge({"type": self.type_name, "value": value})

    def value(self) -> int:
        return int(self.to_dict()["value"]) if self.exists() else 0


def registry_with_max_register() -> TypeRegistry:
    """The built-in types plus the max register: the one line a new type adds."""
    types = TypeRegistry()
    for stored in BUILT_IN:
        types.register(stored)
    types.register(MAX_REGISTER)
    return types
