"""How many updates a peer has that this region lacks, counted from replicated state.

Counted from slots, tags and operations, not from values: an increment in one
region and a decrement in another are two missing updates, although the
values agree. For counters an "update" is one unit of a slot (``incr(5)`` is
five), for sets one element, add-tag or tombstone, for sequences one
operation or removal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crdtredis.crdt import TYPES
from crdtredis.crdt.interface import StateDict


def missing(local: StateDict | None, others: Iterable[StateDict]) -> int:
    """Updates present in the join of ``others`` and absent from ``local``."""
    others = [o for o in others if o is not None]
    if not others:
        return 0
    type_name = others[0]["type"]
    joined: Any = TYPES[type_name].from_dict(others[0], "divergence")
    for other in others[1:]:
        if other["type"] == type_name:
            joined.merge(TYPES[type_name].from_dict(other, "divergence"))
    if local is None or local["type"] != type_name:
        local = TYPES[type_name]("divergence").to_dict()
    return _missing(type_name, local, joined.to_dict())


def _missing(type_name: str, mine: StateDict, theirs: StateDict) -> int:
    if type_name == "gcounter":
        return _slot_deficit(mine["slots"], theirs["slots"])
    if type_name == "pncounter":
        return _slot_deficit(mine["p"], theirs["p"]) + _slot_deficit(mine["n"], theirs["n"])
    if type_name == "gset":
        return len(set(theirs["members"]) - set(mine["members"]))
    if type_name == "2pset":
        return len(set(theirs["added"]) - set(mine["added"])) + len(
            set(theirs["removed"]) - set(mine["removed"])
        )
    if type_name == "orset":
        return _tag_deficit(mine["entries"], mine["removed"], theirs["entries"]) + _tag_deficit(
            {}, mine["removed"], theirs["removed"]
        )
    ops = {tuple(op[0]) for op in mine["ops"]}
    removed = {tuple(r) for r in mine["removed"]}
    return sum(1 for op in theirs["ops"] if tuple(op[0]) not in ops) + sum(
        1 for r in theirs["removed"] if tuple(r) not in removed
    )


def _slot_deficit(mine: dict[str, int], theirs: dict[str, int]) -> int:
    return sum(max(0, count - mine.get(replica, 0)) for replica, count in theirs.items())


def _tag_deficit(
    live: dict[str, list[Any]], removed: dict[str, list[Any]], theirs: dict[str, list[Any]]
) -> int:
    known = {tuple(t) for tags in (*live.values(), *removed.values()) for t in tags}
    return sum(1 for tags in theirs.values() for t in tags if tuple(t) not in known)
