"""Translation between an object's Redis hash and its pure state (``to_dict`` form).

``decode`` reads a hash as it is stored (see :mod:`crdtredis.store.layout`)
and ``encode`` gives the fields a merge writes. Decoding is strict: any field
that is not in the layout, or a slot that is not a canonical non-negative
integer, raises ``ValueError``; the pure ``from_dict`` then checks the rest.
Together they are the validation that keeps a corrupt peer from poisoning
local state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from crdtredis.crdt import COUNTER_TYPES, SLOT_MAX
from crdtredis.crdt.interface import StateDict
from crdtredis.store.layout import TYPE_CODES, TYPE_NAMES

__all__ = ["TYPE_CODES", "TYPE_NAMES", "check_slot", "decode", "decode_stored", "encode"]

_CANONICAL_INT = re.compile(r"0|[1-9][0-9]*")

Fields = list[tuple[str, str]]


def dump_json(value: Any) -> str:
    """The one JSON spelling of a value, so equal operations are equal strings."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def format_id(counter: int, replica: str) -> str:
    """An operation id or tag as stored: ``n@replica``."""
    return f"{counter}@{replica}"


def parse_id(text: str) -> list[Any]:
    """An id stored as ``n@replica``, as ``[n, replica]`` (the order of sequence op ids)."""
    counter, at, replica = text.partition("@")
    if not at or not _CANONICAL_INT.fullmatch(counter):
        raise ValueError(f"{text!r} is not an id of the form n@replica")
    return [int(counter), replica]


def check_slot(field: str, value: str) -> int:
    """A stored slot value: a canonical decimal integer in ``[0, 2**63-1]``."""
    canonical = value.isascii() and value.isdigit() and (value[0] != "0" or value == "0")
    if not canonical or len(value) > 19 or int(value) > SLOT_MAX:
        raise ValueError(f"slot {field!r} holds {value!r}, not an integer in [0, 2**63-1]")
    return int(value)


def _tags(csv: str, where: str) -> list[list[Any]]:
    if not csv:
        raise ValueError(f"{where} holds no tags")
    return [[replica, n] for n, replica in (parse_id(t) for t in csv.split(","))]


def type_name_of(fields: Mapping[str, str]) -> str | None:
    """The pure type name an object is stored as, or None for a missing object."""
    code = fields.get("")
    if code is None:
        return None
    try:
        return TYPE_NAMES[code]
    except KeyError:
        raise ValueError(f"unknown type code {code!r}") from None


def decode_stored(fields: Mapping[str, str]) -> StateDict | None:
    """The state of an object's hash as stored (type field included); None if missing."""
    if not fields:
        return None
    type_name = type_name_of(fields)
    if type_name is None:
        raise ValueError("the object has no type field")
    return decode(type_name, fields)


def decode(type_name: str, fields: Mapping[str, str]) -> StateDict:
    """The ``to_dict`` state of an object stored as ``fields`` (type field included or not)."""
    body = [(f, v) for f, v in fields.items() if f != ""]
    if type_name in COUNTER_TYPES:
        p: dict[str, int] = {}
        n: dict[str, int] = {}
        for f, v in body:
            if f.startswith("-") and type_name == "pncounter":
                n[f[1:]] = check_slot(f, v)
            else:
                p[f] = check_slot(f, v)
        if type_name == "gcounter":
            return {"type": type_name, "slots": p}
        return {"type": type_name, "p": p, "n": n}
    if type_name == "gset":
        for f, v in body:
            if not f.startswith(".") or v != "1":
                raise ValueError(f"field {f!r} = {v!r} is not a GSet element")
        return {"type": type_name, "members": [f[1:] for f, _ in body]}
    if type_name == "2pset":
        for f, v in body:
            if not f.startswith(".") or v not in ("a", "r"):
                raise ValueError(f"field {f!r} = {v!r} is not a 2P-Set element")
        added = [f[1:] for f, _ in body]
        return {"type": type_name, "added": added, "removed": [f[1:] for f, v in body if v == "r"]}
    if type_name == "orset":
        entries: dict[str, Any] = {}
        removed: dict[str, Any] = {}
        for f, v in body:
            kind, element = f[:1], f[1:]
            if kind == ".":
                entries[element] = _tags(v, f)
            elif kind == "~":
                removed[element] = _tags(v, f)
            elif kind != "#" or not _CANONICAL_INT.fullmatch(v):
                raise ValueError(f"field {f!r} = {v!r} is not part of an OR-Set")
        return {"type": type_name, "entries": entries, "removed": removed}
    if type_name == "sequence":
        ops: list[Any] = []
        gone: list[Any] = []
        for f, v in body:
            kind, op_id = f[:1], f[1:]
            if kind == ".":
                try:
                    ref, value = json.loads(v)
                except (ValueError, TypeError):
                    raise ValueError(
                        f"element {op_id!r} holds {v[:40]!r}, not [ref, value]"
                    ) from None
                ops.append([parse_id(op_id), None if ref is None else parse_id(str(ref)), value])
            elif kind == "~" and v == "1":
                gone.append(parse_id(op_id))
            elif f != "^" or not _CANONICAL_INT.fullmatch(v):
                raise ValueError(f"field {f!r} = {v[:40]!r} is not part of a sequence")
        return {"type": type_name, "ops": ops, "removed": gone}
    raise ValueError(f"unknown type {type_name!r}")


def encode(state: StateDict) -> tuple[str, Fields]:
    """The type code and the fields a merge of ``state`` (valid ``to_dict`` output) writes."""
    type_name = state["type"]
    code = TYPE_CODES[type_name]
    if type_name == "gcounter":
        return code, [(r, str(n)) for r, n in state["slots"].items()]
    if type_name == "pncounter":
        return code, [(r, str(n)) for r, n in state["p"].items()] + [
            (f"-{r}", str(n)) for r, n in state["n"].items()
        ]
    if type_name == "gset":
        return code, [(f".{e}", "1") for e in state["members"]]
    if type_name == "2pset":
        removed = set(state["removed"])
        return code, [(f".{e}", "r" if e in removed else "a") for e in state["added"]]
    if type_name == "orset":
        fields = [(f".{e}", _csv(tags)) for e, tags in state["entries"].items()]
        return code, fields + [(f"~{e}", _csv(tags)) for e, tags in state["removed"].items()]
    if type_name == "sequence":
        fields = [
            (f".{format_id(n, r)}", element_json(ref, value)) for (n, r), ref, value in state["ops"]
        ]
        fields += [(f"~{format_id(n, r)}", "1") for n, r in state["removed"]]
        clock = max((n for (n, _), _, _ in state["ops"]), default=0)
        return code, fields + ([("^", str(clock))] if clock else [])
    raise ValueError(f"unknown type {type_name!r}")


def element_json(ref: tuple[int, str] | list[Any] | None, value: Any) -> str:
    """The stored JSON of a sequence element: ``[ref id or null, value]``."""
    return dump_json([None if ref is None else format_id(ref[0], ref[1]), value])


def _csv(tags: list[list[Any]]) -> str:
    return ",".join(format_id(n, r) for r, n in tags)
