"""The spellings every stored type shares: ids, slots and JSON as Redis holds them.

Each type's own fields are decoded and encoded by its module in
:mod:`crdtredis.store.types`; these are the pieces several of them use.
Decoding is strict: anything that is not the one canonical spelling raises
``ValueError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crdtredis.crdt.interface import SLOT_MAX

_CANONICAL_INT = re.compile(r"0|[1-9][0-9]*")


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
