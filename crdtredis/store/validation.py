"""Invariant 4: replicated state is validated whole before anything is merged."""

from __future__ import annotations

from crdtredis.crdt import TYPES
from crdtredis.errors import InvalidStateError
from crdtredis.store import codec


def validate(name: str, state: object) -> tuple[str, codec.Fields]:
    """Check a state with its pure type; return its type code and fields to merge.

    Raises:
        InvalidStateError: anything about the state is malformed.
    """
    try:
        if not isinstance(state, dict):
            raise ValueError(f"state must be an object, not {type(state).__name__}")
        pure_type = TYPES.get(state.get("type"))  # type: ignore[arg-type]
        if pure_type is None:
            raise ValueError(f"unknown type {state.get('type')!r}")
        canonical = pure_type.from_dict(state, "validator").to_dict()
    except ValueError as exc:
        raise InvalidStateError(name, str(exc)) from None
    return codec.encode(canonical)
