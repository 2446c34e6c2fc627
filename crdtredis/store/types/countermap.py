"""The counter map in Redis: one slot per replica per field, and a derived top-N index.

A map's hash holds ``<replica>,<field>`` (that replica's increments of the
field), ``-<replica>,<field>`` (its decrements) and ``~`` before either (the
floor a delete observed), so a field joins exactly like a counter's slots and
a peer's map is checked field by field without building pure objects.

Beside the hash, each region keeps a sorted set of the counts
(``lua/_index.lua``), updated by every script that writes the map: ``top(n)``,
``get``, ``len`` and ``total`` read it in O(log N) instead of the whole hash.
It is derived: never replicated, expired, persisted and deleted with its
map, and rebuilt from the hash whenever its mark is missing. Counts read
through it are exact up to 2**53.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crdtredis.crdt import CounterMap
from crdtredis.crdt.countermap import check_count, check_field
from crdtredis.crdt.gcounter import check_amount
from crdtredis.crdt.interface import SLOT_MAX, StateDict, check_replica_id
from crdtredis.store.codec import check_slot
from crdtredis.store.handle import RedisObject, WriteCall
from crdtredis.store.scripts import LuaScript, lua_source, script
from crdtredis.store.types.contract import Fields, StoredType

#: The parts of a field's counter state, and the slot prefix of each in the hash.
_PARTS = (("p", ""), ("n", "-"))


def parse_slot(f: str) -> tuple[str, str, str, str]:
    """``(part, replica, field, floor mark)`` of a stored field (``ValueError`` if malformed)."""
    floor = "~" if f[:1] == "~" else ""
    rest = f[len(floor) :]
    part = "n" if rest[:1] == "-" else "p"
    replica, comma, field = rest[part == "n" :].partition(",")
    if not comma:
        raise ValueError(f"field {f!r} is not part of a counter map (no ',' after the replica)")
    return part, check_replica_id(replica), check_field(field), floor


def slot_name(replica: str, field: str, down: bool = False) -> str:
    return f"{'-' if down else ''}{replica},{field}"


class CounterMapType(StoredType):
    name = CounterMap.type_name
    code = "cm"
    family = "map"
    pure = CounterMap
    join_lua = lua_source("joins/countermap.lua")

    def open(self, region: Any, name: str) -> RedisCounterMap:
        return RedisCounterMap(region, name)

    def decode(self, body: Fields) -> StateDict:
        fields: dict[str, Any] = {}
        for f, v in body:
            part, replica, field, floor = parse_slot(f)
            state = fields.setdefault(field, {"p": {}, "n": {}})
            into = state.setdefault("deleted", {"p": {}, "n": {}}) if floor else state
            into[part][replica] = check_slot(f, v)
        return {"type": self.name, "fields": fields}

    def encode(self, state: StateDict) -> Fields:
        return [
            (f"{mark}{prefix}{replica},{field}", str(n))
            for field, counter in state["fields"].items()
            for mark, source in (("", counter), ("~", counter.get("deleted", {})))
            for part, prefix in _PARTS
            for replica, n in source.get(part, {}).items()
        ]

    def validate_hash(self, body: Fields) -> Fields:
        for f, v in body:
            parse_slot(f)
            check_slot(f, v)
        return body

    def _counts(self, state: StateDict) -> dict[str, dict[str, tuple[int, int]]]:
        """Per field, per replica: (increments, decrements) above the floors."""

        def live(counter: StateDict, part: str) -> dict[str, int]:
            floors = counter.get("deleted", {}).get(part, {})
            return {r: n - min(n, floors.get(r, 0)) for r, n in counter[part].items()}

        counts = {}
        for field, counter in state["fields"].items():
            up, down = live(counter, "p"), live(counter, "n")
            counts[field] = {r: (up.get(r, 0), down.get(r, 0)) for r in set(up) | set(down)}
        return counts

    def slots(self, state: StateDict) -> dict[str, tuple[int, int]]:
        """Per replica, its increments and decrements summed over every field."""
        totals: dict[str, tuple[int, int]] = {}
        for per_replica in self._counts(state).values():
            for r, (up, down) in per_replica.items():
                p, n = totals.get(r, (0, 0))
                totals[r] = (p + up, n + down)
        return {r: pn for r, pn in sorted(totals.items()) if pn != (0, 0)}

    def value(self, state: StateDict) -> int:
        """The map's total, what ``crdtredis_counter_value`` reports for its key."""
        return sum(p - n for p, n in self.slots(state).values())

    def top(self, state: StateDict, n: int) -> list[tuple[str, int]]:
        return CounterMap.from_dict(state, "reader").top(n) if n > 0 else []

    def summary(self, state: StateDict) -> dict[str, Any]:
        pure = CounterMap.from_dict(state, "reader")
        tombstones = sum(
            len(m) for c in state["fields"].values() for m in c.get("deleted", {}).values()
        )
        return {
            "value": pure.total(),
            "fields": len(pure),
            "top": [list(item) for item in pure.top(5)],
            "tombstones": tombstones,
        }

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        ours = dict(self.encode(mine))
        return sum(max(0, int(v) - int(ours.get(f, "0"))) for f, v in self.encode(theirs))


COUNTERMAP = CounterMapType()


def check_amounts(counts: Mapping[str, int], where: str) -> list[str]:
    """``[field, amount, ...]`` for a script, every field and amount checked first."""
    if not isinstance(counts, Mapping):
        raise ValueError(f"{where}: fields must be a mapping of field -> amount")
    flat: list[str] = []
    for field, amount in counts.items():
        try:
            check_field(field)
            if check_amount(amount) > SLOT_MAX:
                raise ValueError(f"amount {amount} is larger than a 64-bit slot")
        except ValueError as exc:
            raise ValueError(f"{where}, field {field!r}: {exc}; nothing was written") from None
        flat += [field, str(amount)]
    return flat


class RedisCounterMap(RedisObject[CounterMap]):
    """Named up-and-down counters in one key (:class:`~crdtredis.crdt.CounterMap`) in Redis.

    Writes and the reads of ``get``, ``top``, ``len`` and ``total`` are one
    script call each; ``items`` reads the whole hash.
    """

    stored = COUNTERMAP

    def incr(self, field: str, n: int = 1) -> int:
        """Add ``n >= 0`` to ``field``; return its new count."""
        return self._add("", {field: n})

    def decr(self, field: str, n: int = 1) -> int:
        """Subtract ``n >= 0`` from ``field``; return its new count."""
        return self._add("-", {field: n})

    def _add(self, sign: str, counts: Mapping[str, int]) -> int:
        return int(self._write_with(*self.add_call(sign, counts)))

    def add_call(self, sign: str, counts: Mapping[str, int]) -> WriteCall:
        """The write adding ``counts`` to this region's slots of the fields (``sign`` '-':
        its decrement slots); it returns the first field's new count."""
        payload = json.dumps([[self.name, check_amounts(counts, f"key {self.name!r}")]])
        return script("map_add"), lambda: [self.code, sign + self.region.replica, payload]

    def get(self, field: str) -> int:
        """The count of ``field`` (0 for a field never written)."""
        return int(self._read(*self.get_call(field))[0])

    def top(self, n: int = 10) -> list[tuple[str, int]]:
        """The ``n`` largest counts, largest first, equal counts in field-name order."""
        return ranked(self._read(*self.top_call(n)))

    def total(self) -> int:
        """The sum of every field's count."""
        return int(self._read(*SIZE)[1])

    def __len__(self) -> int:
        """How many fields have a count other than 0."""
        return int(self._read(*SIZE)[0])

    def items(self) -> dict[str, int]:
        """Every field with a count other than 0, by field name (reads the whole map)."""
        return self.items_in(self._fields())

    def items_in(self, fields: Mapping[str, str]) -> dict[str, int]:
        """The counts of the map's hash ``fields``, as :meth:`items` gives them."""
        return self.pure_in(fields).items()

    def get_call(self, field: str) -> tuple[str, ...]:
        """What ``map_read.lua`` is asked for ``get(field)``."""
        return "get", check_field(field)

    def top_call(self, n: int) -> tuple[str, ...]:
        """What ``map_read.lua`` is asked for ``top(n)`` (:func:`ranked` reads its reply)."""
        return "top", str(check_count(n))

    def read_args(self, mode: str, *args: str) -> tuple[LuaScript, list[str], list[str]]:
        """``map_read.lua``'s script, keys and arguments for a read through the index."""
        return script("map_read"), [self.key], [self.code, mode, *args]

    def delete_field(self, *fields: str) -> bool:
        """Reset ``fields`` as observed here; True when a count was reset.

        An observed remove, like :meth:`delete` for the whole map: what
        another region counted concurrently, unseen here, survives. The
        field's slots are found by scanning the map's hash (``HSCAN``, paged,
        so a large map never blocks Redis); the reset itself is one script.
        """
        wanted = {check_field(f) for f in fields}
        slots = list(  # HSCAN may give a field twice (a rehash between pages)
            dict.fromkeys(
                f
                for f, _ in self.region.client.hscan_iter(self.key, count=1000)
                if f[:1] not in ("", "~", "@", "*") and _field_of(f) in wanted
            )
        )
        if not slots:
            return False
        return bool(
            self._write_with(script("map_delete_field"), lambda: [self.code, self.name, *slots])
        )

    def _read(self, mode: str, *args: str) -> list[str]:
        with self.domain_errors():
            result: list[str] = self.region.scripts.call(*self.read_args(mode, *args))
        return result


#: What ``map_read.lua`` is asked for ``len`` and ``total``: ``[fields, total]``.
SIZE = ("size",)


def ranked(flat: list[str]) -> list[tuple[str, int]]:
    """``top()``'s pairs from ``map_read.lua``'s flat ``[field, count, ...]`` reply."""
    return [(flat[i], int(flat[i + 1])) for i in range(0, len(flat), 2)]


def _field_of(slot: str) -> str | None:
    try:
        return parse_slot(slot)[2]
    except ValueError:
        return None
