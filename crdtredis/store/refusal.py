"""What a script's refusal means: the one mapping from script codes to domain errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crdtredis.errors import (
    CRDTRedisError,
    InvalidStateError,
    MissingElementError,
    ObstructedKeyError,
    SlotOverflowError,
    WrongTypeError,
)

if TYPE_CHECKING:
    from crdtredis.store.types.registry import TypeRegistry


def refusal_error(code: str, detail: str, name: str, wanted: str, types: TypeRegistry) -> Exception:
    """The error for refusal ``code`` (with its ``detail``) of object ``name`` of type ``wanted``.

    ``detail`` is the part of the script's message before any tab: the stored
    type code for WRONGTYPE, the amount for OVERFLOW, the id for NOREF, the
    field for CONFLICT and CORRUPT.
    """
    if code == "WRONGTYPE":
        return WrongTypeError(name, types.name_of_code(detail), wanted)
    if code == "CORRUPT":
        return InvalidStateError(
            name,
            f"stored slot {detail!r} is not an integer (the hash was changed outside "
            "crdtredis); nothing was written",
        )
    if code == "BADINDEX":
        return CRDTRedisError(
            f"key {name!r}: the change index of its shard is not a sorted set (changed "
            "outside crdtredis?); nothing was written: restore or delete that index key"
        )
    if code == "OBSTRUCTED":
        return ObstructedKeyError(name, detail)
    if code == "OVERFLOW":
        return SlotOverflowError(name, int(detail))
    if code == "NOTMEMBER":
        return KeyError(f"the element is not a member of set {name!r}")
    if code == "READD":
        return ValueError(
            f"the element was removed from two-phase set {name!r} and cannot be "
            "re-added; use an OR-Set for elements that come back"
        )
    if code == "EXHAUSTED":
        return ValueError(
            f"sequence {name!r} cannot grow: its Lamport clock is exhausted (2**53 - 1); "
            "start a new log under another key"
        )
    if code == "NODELETE":
        return ValueError(
            f"key {name!r} is a {types.name_of_code(detail)}, which only grows and cannot be "
            "deleted; use an OR-Set for elements that go away"
        )
    if code == "NOREF":
        return MissingElementError(f"sequence {name!r} has no element {detail!r}")
    if code == "CONFLICT":
        return InvalidStateError(
            name, f"element {detail[1:]} differs from the stored one: two replicas share an id"
        )
    return ValueError(f"key {name!r}: refused ({code} {detail})")
