"""What both counters share: per-replica slots, their checks, their Lua join, their handle.

A counter's hash holds one field per replica slot (see
:mod:`crdtredis.store.layout`). Counters are most of what a sync moves, so
their states are checked field by field with the pure core's own rules
(replica ids, canonical 64-bit integers) instead of building pure objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from crdtredis.crdt import GCounter, PNCounter
from crdtredis.crdt.gcounter import check_amount
from crdtredis.crdt.interface import StateDict, check_replica_id
from crdtredis.crdt.schema import expect_floors, expect_slots, expect_state
from crdtredis.store.codec import check_slot
from crdtredis.store.handle import RedisObject, WriteCall
from crdtredis.store.scripts import lua_source, script
from crdtredis.store.types.contract import Fields, StoredType

Counter = TypeVar("Counter", bound=GCounter | PNCounter)


class CounterType(StoredType):
    """A counter stored as slots: ``state[f]`` maps replica ids to counts for each slot field."""

    family = "counter"
    join_lua = lua_source("joins/counter.lua")
    #: The state's slot maps; the first counts up, a second (if any) counts down.
    slot_fields: ClassVar[tuple[str, ...]]
    #: The field prefix of each slot map in the hash, in the order of ``slot_fields``.
    prefixes: ClassVar[tuple[str, ...]]

    def decode(self, body: Fields) -> StateDict:
        state: StateDict = {"type": self.name, **{f: {} for f in self.slot_fields}}
        floors: StateDict = {f: {} for f in self.slot_fields}
        for f, v in body:
            into = state
            if f[:1] == "~":
                into, f = floors, f[1:]
            if self._down is not None and f[:1] == "-":
                into[self._down][f[1:]] = check_slot(f, v)
            else:
                into[self.slot_fields[0]][f] = check_slot(f, v)
        if any(floors.values()):
            state["deleted"] = floors
        return state

    @property
    def _down(self) -> str | None:
        return self.slot_fields[1] if len(self.slot_fields) > 1 else None

    def encode(self, state: StateDict) -> Fields:
        floors = state.get("deleted", {})
        return [
            (mark + prefix + replica, str(n))
            for mark, source in (("", state), ("~", floors))
            for prefix, slots in zip(self.prefixes, self.slot_fields, strict=True)
            for replica, n in source.get(slots, {}).items()
        ]

    def validate(self, state: Mapping[str, Any]) -> Fields:
        expect_state(state, self.name, self.slot_fields, optional=["deleted"])
        canonical: StateDict = {"type": self.name}
        for name in self.slot_fields:
            canonical[name] = {r: n for r, n in expect_slots(state[name], name).items() if n}
        floors = expect_floors(state.get("deleted", {}), self.slot_fields)
        canonical["deleted"] = {f: {r: n for r, n in m.items() if n} for f, m in floors.items()}
        return self.encode(canonical)

    def validate_hash(self, body: Fields) -> Fields:
        down = self._down is not None
        for f, v in body:
            replica = f[1:] if f[:1] == "~" else f
            check_replica_id(replica[1:] if down and replica[:1] == "-" else replica)
            check_slot(f, v)
        return body

    def slots(self, state: StateDict) -> dict[str, tuple[int, int]]:
        """Each replica's up and down counts since the last delete observed of them."""
        up, down = self._live(state, self.slot_fields[0]), self._live(state, self._down)
        return {r: (up.get(r, 0), down.get(r, 0)) for r in sorted(set(up) | set(down))}

    def _live(self, state: StateDict, field: str | None) -> dict[str, int]:
        if field is None:
            return {}
        floors = state.get("deleted", {}).get(field, {})
        live = {r: n - min(n, floors.get(r, 0)) for r, n in state[field].items()}
        return {r: n for r, n in live.items() if n}

    def value(self, state: StateDict) -> int:
        return sum(p - n for p, n in self.slots(state).values())

    def live(self, state: StateDict) -> bool:
        return bool(self.slots(state))

    def summary(self, state: StateDict) -> dict[str, Any]:
        floors = state.get("deleted", {})
        return {"value": self.value(state), "tombstones": sum(len(m) for m in floors.values())}

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        return sum(
            max(0, count - ours.get(slots, {}).get(replica, 0))
            for ours, source in (
                (mine, theirs),
                (mine.get("deleted", {}), theirs.get("deleted", {})),
            )
            for slots in self.slot_fields
            for replica, count in source.get(slots, {}).items()
        )


class RedisCounter(RedisObject[Counter]):
    """What both counter handles do: read the value, add to this region's slot."""

    def value(self) -> int:
        return self.value_in(self._fields())

    def value_in(self, fields: Mapping[str, str]) -> int:
        """The value of the counter's hash ``fields`` (0 for a missing counter)."""
        return (self.stored.value(self.decoded(fields)) or 0) if fields else 0

    def _add(self, sign: str, n: int) -> int:
        return value_after(self._write_with(*self.add_call(sign, n)))

    def add_call(self, sign: str, n: int) -> WriteCall:
        """The write adding ``n >= 0`` to this region's slot (``sign`` '-': its N slot)."""
        amount = str(check_amount(n))
        return script("counter_add"), lambda: [
            self.code,
            sign + self.region.replica,
            "1",
            self.name,
            amount,
        ]


def value_after(result: list[str]) -> int:
    """A counter's value from what ``counter_add.lua`` returns: slot sums and floors."""
    p, n, p_floor, n_floor = result
    return (int(p) - int(p_floor)) - (int(n) - int(n_floor))
