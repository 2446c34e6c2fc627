"""Validation of serialised CRDT state, shared by every ``from_dict``.

Every check raises ``ValueError`` with a message naming the offending field,
so that peer state that fails validation can be reported and rejected whole.
Nothing here builds a CRDT: types validate first, then construct.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crdtredis.crdt.interface import SLOT_MAX, check_replica_id


def expect_state(
    data: object, type_name: str, fields: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, Any]:
    """Check ``data`` is a state dict of ``type_name`` with ``fields`` (and maybe ``optional``)."""
    if not isinstance(data, dict):
        raise ValueError(f"{type_name} state must be an object, got {type(data).__name__}")
    found = data.get("type")
    if found != type_name:
        raise ValueError(f"state is of type {found!r}, expected {type_name!r}")
    expected = {"type", *fields}
    if set(data) - set(optional) != expected:
        missing = sorted(expected - set(data))
        extra = sorted(str(k) for k in set(data) - expected)
        raise ValueError(
            f"{type_name} state fields are wrong (missing: {missing}, unexpected: {extra})"
        )
    return data


def expect_int(value: object, what: str, low: int = 0, high: int = SLOT_MAX) -> int:
    """An integer in ``[low, high]``; booleans are not integers here."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{what} is {value}, outside [{low}, {high}]")
    return value


def expect_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return value


def expect_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, got {type(value).__name__}")
    return value


def expect_slots(value: object, what: str) -> dict[str, int]:
    """A mapping of replica id to a non-negative 64-bit slot value."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object of replica slots")
    slots: dict[str, int] = {}
    for replica, count in value.items():
        try:
            check_replica_id(replica)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        slots[replica] = expect_int(count, f"{what}[{replica!r}]")
    return slots


def expect_str_set(value: object, what: str) -> set[str]:
    """A list of distinct strings (a serialised set)."""
    items = expect_list(value, what)
    result = {expect_str(item, f"an element of {what}") for item in items}
    if len(result) != len(items):
        raise ValueError(f"{what} lists an element twice")
    return result


def expect_tag(value: object, what: str) -> tuple[str, int]:
    """A ``[replica, n]`` pair naming one operation of one replica (n >= 1)."""
    pair = expect_list(value, what)
    if len(pair) != 2:
        raise ValueError(f"{what} must be a [replica, n] pair")
    try:
        replica = check_replica_id(pair[0])
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    return replica, expect_int(pair[1], f"{what} counter", low=1)


def expect_floors(value: object, fields: Iterable[str]) -> dict[str, dict[str, int]]:
    """A counter's ``deleted`` part: per slot field, the floors a delete observed."""
    if not isinstance(value, dict):
        raise ValueError(f"deleted must be an object, got {type(value).__name__}")
    names = list(fields)
    extra = sorted(str(k) for k in set(value) - set(names))
    if extra:
        raise ValueError(f"deleted has unexpected fields {extra}; expected some of {names}")
    return {f: expect_slots(value.get(f, {}), f"deleted.{f}") for f in names}
