"""Bad data never poisons good data: replicated state is validated whole before any merge."""

from __future__ import annotations

from collections.abc import Mapping

from crdtredis.crdt import TYPES
from crdtredis.crdt.interface import check_replica_id
from crdtredis.crdt.schema import expect_slots, expect_state
from crdtredis.errors import InvalidStateError
from crdtredis.store import codec

#: Counters are most of what a sync moves; their state is checked with the
#: pure core's own field checks, without building the objects.
_COUNTER_FIELDS = {"gcounter": ("slots",), "pncounter": ("p", "n")}


def validate(name: str, state: object) -> tuple[str, codec.Fields]:
    """Check a state with its pure type; return its type code and fields to merge.

    Raises:
        InvalidStateError: anything about the state is malformed.
    """
    try:
        if not isinstance(state, dict):
            raise ValueError(f"state must be an object, not {type(state).__name__}")
        type_name = state.get("type")
        counter_fields = _COUNTER_FIELDS.get(type_name)  # type: ignore[arg-type]
        if counter_fields is not None:
            expect_state(state, type_name, counter_fields)  # type: ignore[arg-type]
            canonical = {"type": type_name}
            for name in counter_fields:
                canonical[name] = {r: n for r, n in expect_slots(state[name], name).items() if n}
            return codec.encode(canonical)
        pure_type = TYPES.get(type_name)  # type: ignore[arg-type]
        if pure_type is None:
            raise ValueError(f"unknown type {type_name!r}")
        canonical = pure_type.from_dict(state, "validator").to_dict()
        code, fields = codec.encode(canonical)
        for f, v in fields:
            f.encode()
            v.encode()  # text Redis can store: no lone surrogates
    except (ValueError, UnicodeError, RecursionError, TypeError) as exc:
        raise InvalidStateError(name, f"{exc}") from None
    return code, fields


def validate_stored(name: str, fields: Mapping[str, str]) -> tuple[str, codec.Fields]:
    """Check an object's hash as a peer stores it; return its type code and fields to merge.

    Counter hashes, most of what a sync moves, are checked field by field
    (replica ids and canonical 64-bit integers, the pure core's rules) and
    passed on as they are; other types go through their pure type.

    Raises:
        InvalidStateError: the hash is not a valid object of its type.
    """
    try:
        type_name = codec.type_name_of(fields)
        if type_name is None:
            raise ValueError("the object has no type field")
        if type_name in _COUNTER_FIELDS:
            body = [(f, v) for f, v in fields.items() if f]
            for f, v in body:
                check_replica_id(f[1:] if f[:1] == "-" and type_name == "pncounter" else f)
                codec.check_slot(f, v)
            return codec.TYPE_CODES[type_name], body
        state = codec.decode(type_name, fields)
    except (ValueError, UnicodeError, RecursionError, TypeError) as exc:
        raise InvalidStateError(name, f"{exc}") from None
    return validate(name, state)
