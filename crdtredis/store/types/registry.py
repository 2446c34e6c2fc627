"""The registry of stored types: by name, by stored code, and the merge script they make.

Generic code asks the registry which type an object is (from its type field)
and calls that type's methods. The merge script is assembled from every
registered type's join (``lua/_merge.lua`` plus one fragment per type), so a
registered type is merged by the same one script call per shard batch as
the built-in ones.

Bad data never poisons good data: :meth:`TypeRegistry.validate` and
:meth:`TypeRegistry.validate_hash` check a state whole, with its type's
rules, before any merge, and reject it with
:class:`~crdtredis.errors.InvalidStateError` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from crdtredis.crdt.interface import StateDict
from crdtredis.errors import InvalidStateError
from crdtredis.store.expiry import EXPIRY_FIELD, LIFE_FIELDS, check_life_fields
from crdtredis.store.scripts import LuaScript, compose, lua_source
from crdtredis.store.types.contract import FAMILIES, Fields, StoredType

#: What decoding or validating malformed input may raise.
MALFORMED = (ValueError, UnicodeError, RecursionError, TypeError)

#: Type codes: short lowercase words (they are stored in every object).
CODE_PATTERN = re.compile(r"[a-z0-9]{1,4}")


class TypeRegistry:
    """The stored types a region knows, each under its pure name and its code."""

    def __init__(self) -> None:
        self._by_name: dict[str, StoredType] = {}
        self._by_code: dict[str, StoredType] = {}
        self._scripts: dict[str, LuaScript] = {}

    def register(self, stored: StoredType) -> StoredType:
        """Add a type; its name and code must be new."""
        if not CODE_PATTERN.fullmatch(stored.code):
            raise ValueError(f"type code {stored.code!r} must be 1-4 lowercase letters or digits")
        if stored.family not in FAMILIES:
            raise ValueError(f"type family {stored.family!r} is not one of {FAMILIES}")
        if stored.name in self._by_name or stored.code in self._by_code:
            raise ValueError(f"a type named {stored.name!r} or coded {stored.code!r} exists")
        self._by_name[stored.name] = stored
        self._by_code[stored.code] = stored
        self._scripts = {}
        return stored

    def unregister(self, name: str) -> None:
        """Remove a type (for tests that register a throwaway one)."""
        stored = self._by_name.pop(name)
        del self._by_code[stored.code]
        self._scripts = {}

    def by_name(self, name: object) -> StoredType:
        try:
            return self._by_name[name]  # type: ignore[index]
        except (KeyError, TypeError):
            raise ValueError(f"unknown type {name!r}") from None

    def by_code(self, code: str) -> StoredType:
        try:
            return self._by_code[code]
        except KeyError:
            raise ValueError(f"unknown type code {code!r}") from None

    def name_of_code(self, code: str) -> str:
        """The type name for a stored code, or the code itself when it is unknown."""
        found = self._by_code.get(code)
        return code if found is None else found.name

    def names(self, family: str | None = None) -> tuple[str, ...]:
        """Names of the registered types (of one family), in registration order."""
        return tuple(n for n, t in self._by_name.items() if family in (None, t.family))

    def __iter__(self) -> Iterator[StoredType]:
        return iter(list(self._by_name.values()))

    def of_hash(self, fields: Mapping[str, str]) -> StoredType | None:
        """The type an object's hash is stored as; None for a missing object."""
        if not fields:
            return None
        code = fields.get("")
        if code is None:
            raise ValueError("the object has no type field")
        return self.by_code(code)

    def decode_hash(self, fields: Mapping[str, str]) -> StateDict | None:
        """The state of an object's hash as stored (type field included); None if missing."""
        stored = self.of_hash(fields)
        return None if stored is None else stored.decode_hash(fields)

    def merge_script(self) -> LuaScript:
        """``lua/_merge.lua`` with every registered type's join in front (one SHA per set)."""
        return self._dispatching("merge")

    def delete_script(self) -> LuaScript:
        """``lua/_delete.lua`` with every registered type's join in front (one SHA per set)."""
        return self._dispatching("delete")

    def collect_script(self) -> LuaScript:
        """``lua/_collect.lua`` with every registered type's join in front (one SHA per set)."""
        return self._dispatching("collect")

    def scripts(self) -> list[LuaScript]:
        """The scripts made from the registered types, for a region to load."""
        return [self.merge_script(), self.delete_script(), self.collect_script()]

    def _dispatching(self, body: str) -> LuaScript:
        """``lua/_<body>.lua`` after a table ``joins`` of each type's join file, by type code."""
        if body not in self._scripts:
            fragments: dict[str, str] = {}
            lines = ["local joins = {}"]
            for stored in self._by_name.values():
                local = fragments.setdefault(stored.join_lua, f"join_{len(fragments) + 1}")
                lines.append(f"joins[{stored.code!r}] = {local}")
            defined = [
                f"local {local} = (function()\n{text}\nend)()" for text, local in fragments.items()
            ]
            self._scripts[body] = compose(body, *defined, *lines, lua_source(f"_{body}.lua"))
        return self._scripts[body]

    def validate(self, name: str, state: object) -> tuple[str, Fields]:
        """Check a state (``to_dict`` form); return its type code and the fields to merge.

        Raises:
            InvalidStateError: anything about the state is malformed.
        """
        try:
            if not isinstance(state, dict):
                raise ValueError(f"state must be an object, not {type(state).__name__}")
            stored = self.by_name(state.get("type"))
            return stored.code, stored.validate(state)
        except MALFORMED as exc:
            raise InvalidStateError(name, f"{exc}") from None

    def validate_hash(self, name: str, fields: Mapping[str, str]) -> tuple[str, Fields]:
        """Check an object's hash as a peer stores it; return its type code and fields to merge.

        Raises:
            InvalidStateError: the hash is not a valid object of its type.
        """
        try:
            life = list(check_life_fields(dict(fields)).items())
            if "" not in fields and fields.keys() == {EXPIRY_FIELD}:
                return "", life  # a grave: the name's life there ended
            stored = self.of_hash(fields)
            if stored is None:
                raise ValueError("the object is empty")
            body = [(f, v) for f, v in fields.items() if f and f not in LIFE_FIELDS]
            return stored.code, [*stored.validate_hash(body), *life]
        except MALFORMED as exc:
            raise InvalidStateError(name, f"{exc}") from None

    def missing(self, local: StateDict | None, others: Iterable[StateDict | None]) -> int:
        """Updates present in the join of ``others`` and absent from ``local``.

        Counted from slots, tags and operations, not from values: an increment
        in one region and a decrement in another are two missing updates,
        although the values agree. States of another type than the first
        other's are left out.
        """
        found = [o for o in others if o is not None]
        if not found:
            return 0
        stored = self.by_name(found[0]["type"])
        joined: Any = stored.pure.from_dict(found[0], "divergence")
        for other in found[1:]:
            if other["type"] == stored.name:
                joined.merge(stored.pure.from_dict(other, "divergence"))
        mine = local if local is not None and local["type"] == stored.name else stored.empty()
        return stored.missing(mine, joined.to_dict())
