"""Sequence: a replicated list (RGA) that every replica reads in the same order.

Each element is inserted *after a reference element* (or at the head) and
named by a Lamport id ``(counter, replica)``. The visible order is a pre-order
walk of the tree of references in which siblings come in descending id
order, so an element's position depends only on the set of operations, never
on the order they arrived in. Removal marks an element as a tombstone.

Elements are kept in blocks of at most ``_BLOCK_MAX`` (a square-root
decomposition): finding the i-th visible element or the position of an id
costs O(n / B + B), not O(n), so logs of hundreds of thousands of entries stay
fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from crdtredis.crdt.interface import StateDict, check_replica_id, check_same_type
from crdtredis.crdt.schema import expect_int, expect_list, expect_state

#: Names one insert: (Lamport counter, replica id). Tuples compare counter
#: first, replica id second: a total order every replica agrees on.
OpId = tuple[int, str]

_BLOCK_MAX = 512

#: Largest Lamport counter: 2**53 - 1, the largest integer every replica can
#: hold exactly (the Redis layer's Lua numbers are doubles).
MAX_COUNTER = 2**53 - 1


@dataclass(eq=False, slots=True)
class _Element:
    id: OpId
    ref: OpId | None
    value: Any
    deleted: bool = False
    block: _Block = field(default_factory=lambda: _UNPLACED)


@dataclass(eq=False, slots=True)
class _Block:
    elements: list[_Element] = field(default_factory=list)
    visible: int = 0


#: The block of an element not yet placed in any sequence.
_UNPLACED: _Block = _Block()


#: Deepest nesting of lists and objects a payload may have: checked on every
#: write and every merge alike, far below Python's recursion limit, so a
#: payload one replica accepts every replica can read back.
MAX_PAYLOAD_DEPTH = 100


def check_depth(value: object, limit: int = MAX_PAYLOAD_DEPTH) -> None:
    """Refuse a value nested deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= limit:
                raise ValueError(f"sequence payloads may nest at most {limit} levels deep")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def normalise_value(value: object) -> Any:
    """The JSON form of a payload: what every replica will see after a round trip.

    Raises:
        ValueError: the payload is not JSON-serialisable (or holds NaN/infinity),
            or nests deeper than :data:`MAX_PAYLOAD_DEPTH`.
    """
    check_depth(value)
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sequence payloads must be JSON values: {exc}") from None


class Sequence:
    """An ordered log with append, insert, remove, converging under any merge order."""

    type_name = "sequence"
    __slots__ = ("_replica", "_blocks", "_elements", "_clock", "_visible")

    def __init__(self, replica: str) -> None:
        self._replica = check_replica_id(replica)
        self._blocks: list[_Block] = [_Block()]
        self._elements: dict[OpId, _Element] = {}
        self._clock = 0
        self._visible = 0

    @property
    def replica(self) -> str:
        return self._replica

    @property
    def clock(self) -> int:
        """The Lamport clock: the highest counter of any operation seen."""
        return self._clock

    # -- reading ---------------------------------------------------------
    def to_list(self) -> list[Any]:
        return [el.value for b in self._blocks for el in b.elements if not el.deleted]

    def __len__(self) -> int:
        return self._visible

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __getitem__(self, index: int) -> Any:
        return self._visible_at(self._normalise(index, self._visible, self._visible - 1)).value

    def tombstones(self) -> int:
        return len(self._elements) - self._visible

    # -- local operations ------------------------------------------------
    def append(self, value: object) -> OpId:
        """Add ``value`` at the end; return the new element's id."""
        return self.insert(self._visible, value)

    def insert(self, index: int, value: object) -> OpId:
        """Insert ``value`` so that it becomes the element at ``index``.

        Indices follow Python lists (negative counts from the end), but an
        index outside ``[-len, len]`` raises ``IndexError`` instead of being
        clamped.
        """
        ref = self.ref_for_insert(index)
        if self._clock >= MAX_COUNTER:
            raise ValueError("the sequence's Lamport clock is exhausted (2**53 - 1)")
        element = _Element((self._clock + 1, self._replica), ref, normalise_value(value))
        self._integrate(element)
        return element.id

    def ref_for_insert(self, index: int) -> OpId | None:
        """The id an insert at ``index`` goes after (None: the head); checks the index."""
        index = self._normalise(index, self._visible, self._visible)
        return None if index == 0 else self._visible_at(index - 1).id

    def element_at(self, index: int) -> tuple[OpId, Any]:
        """The id and value of the visible element at ``index``."""
        element = self._visible_at(self._normalise(index, self._visible, self._visible - 1))
        return element.id, element.value

    def remove(self, index: int) -> Any:
        """Remove the element at ``index`` and return its value."""
        element = self._visible_at(self._normalise(index, self._visible, self._visible - 1))
        self._tombstone(element)
        return element.value

    def delete(self) -> None:
        """Remove every element observed here; inserts made concurrently elsewhere survive."""
        for element in list(self._elements.values()):
            if not element.deleted:
                self._tombstone(element)

    def apply_insert(self, op_id: OpId, ref: OpId | None, value: object) -> None:
        """Integrate an insert whose id was assigned elsewhere (a store, a peer).

        Raises:
            ValueError: the reference is unknown or not older, or the id is
                already used for another operation.
        """
        if ref is not None and (ref not in self._elements or ref[0] >= op_id[0]):
            raise ValueError(f"op {list(op_id)} refers to {list(ref)}, unknown or not older")
        payload = normalise_value(value)
        known = self._elements.get(op_id)
        if known is not None:
            if (known.ref, known.value) != (ref, payload):
                raise ValueError(f"op {list(op_id)} is already used for another operation")
            return
        self._integrate(_Element(op_id, ref, payload))

    def apply_remove(self, op_id: OpId) -> None:
        """Tombstone an element by id; ``KeyError`` when it is unknown."""
        self._tombstone(self._elements[op_id])

    # -- CRDT ------------------------------------------------------------
    def merge(self, other: Self) -> Self:
        check_same_type(self, other)
        incoming = []
        for op_id, theirs in other._elements.items():
            mine = self._elements.get(op_id)
            if mine is None:
                incoming.append(theirs)
            elif mine.ref != theirs.ref:
                raise ValueError(
                    f"operation {list(op_id)} differs between the two replicas: "
                    "two replicas share an id"
                )
            elif mine.value != theirs.value:
                # A removed element whose value collection dropped on one side
                # (a skeleton): the skeleton stands for both.
                if not (mine.deleted or theirs.deleted):
                    raise ValueError(
                        f"operation {list(op_id)} differs between the two replicas: "
                        "two replicas share an id"
                    )
                mine.value = None
        for theirs in sorted(incoming, key=lambda e: e.id):
            self._integrate(_Element(theirs.id, theirs.ref, theirs.value))
        for op_id, theirs in other._elements.items():
            if theirs.deleted:
                self._tombstone(self._elements[op_id])
        return self

    def compare(self, other: Self) -> bool:
        check_same_type(self, other)
        theirs = other._elements
        for op_id, el in self._elements.items():
            match = theirs.get(op_id)
            if match is None or (el.deleted and not match.deleted):
                return False
        return True

    def to_dict(self) -> StateDict:
        ops = sorted(self._elements.values(), key=lambda e: e.id)
        return {
            "type": self.type_name,
            "ops": [[list(e.id), list(e.ref) if e.ref is not None else None, e.value] for e in ops],
            "removed": [list(e.id) for e in ops if e.deleted],
        }

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        state = expect_state(data, cls.type_name, ["ops", "removed"])
        ops: dict[OpId, tuple[OpId | None, Any]] = {}
        for raw in expect_list(state["ops"], "ops"):
            op = expect_list(raw, "an op")
            if len(op) != 3:
                raise ValueError("an op must be [id, ref, value]")
            op_id = _expect_op_id(op[0], "an op id")
            ref = None if op[1] is None else _expect_op_id(op[1], f"the ref of {list(op_id)}")
            if op_id in ops:
                raise ValueError(f"op {list(op_id)} is listed twice")
            if ref is not None and ref[0] >= op_id[0]:
                raise ValueError(f"op {list(op_id)} refers to {list(ref)}, which is not older")
            ops[op_id] = (ref, normalise_value(op[2]))
        for op_id, (ref, _) in ops.items():
            if ref is not None and ref not in ops:
                raise ValueError(f"op {list(op_id)} refers to unknown op {list(ref)}")
        removed = [
            _expect_op_id(r, "a removed id") for r in expect_list(state["removed"], "removed")
        ]
        if len(set(removed)) != len(removed):
            raise ValueError("removed lists an op twice")
        for op_id in removed:
            if op_id not in ops:
                raise ValueError(f"removed names unknown op {list(op_id)}")
        sequence = cls(replica)
        for op_id in sorted(ops):
            ref, value = ops[op_id]
            sequence._integrate(_Element(op_id, ref, value))
        for op_id in removed:
            sequence._tombstone(sequence._elements[op_id])
        return sequence

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        theirs = other._elements
        if theirs.keys() != self._elements.keys():
            return False
        return all(
            (e.ref, e.value, e.deleted) == (t.ref, t.value, t.deleted)
            for e, t in ((e, theirs[i]) for i, e in self._elements.items())
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Sequence(replica={self._replica!r}, len={self._visible}, clock={self._clock})"

    # -- placement -------------------------------------------------------
    @staticmethod
    def _normalise(index: int, length: int, last: int) -> int:
        """Resolve a list-style index into ``[0, last]`` or raise ``IndexError``."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"sequence index must be an integer, got {type(index).__name__}")
        resolved = index + length if index < 0 else index
        if not 0 <= resolved <= last:
            raise IndexError(f"sequence index {index} out of range (length {length})")
        return resolved

    def _visible_at(self, index: int) -> _Element:
        """The ``index``-th visible element (``index`` already in range)."""
        if index < self._visible // 2:
            for block in self._blocks:
                if index < block.visible:
                    return _nth_visible(block, index)
                index -= block.visible
        else:
            from_end = self._visible - 1 - index
            for block in reversed(self._blocks):
                if from_end < block.visible:
                    return _nth_visible(block, block.visible - 1 - from_end)
                from_end -= block.visible
        raise IndexError(index)  # unreachable while the counts are right

    def _integrate(self, element: _Element) -> None:
        """Place ``element`` after its reference, past greater siblings' subtrees.

        Every element in the subtree of a sibling with a greater id has a
        greater id itself (it was inserted after seeing that sibling), and the
        first element past the reference's subtree has a smaller one, so
        skipping forward while ids are greater lands on the RGA position.
        """
        blocks = self._blocks
        if element.ref is None:
            bi, off = 0, -1
        else:
            ref = self._elements[element.ref]
            bi = blocks.index(ref.block)
            off = ref.block.elements.index(ref)
        while True:
            nb, noff = bi, off + 1
            while nb < len(blocks) and noff >= len(blocks[nb].elements):
                nb, noff = nb + 1, 0
            if nb == len(blocks) or blocks[nb].elements[noff].id < element.id:
                break
            bi, off = nb, noff
        block = blocks[bi]
        block.elements.insert(off + 1, element)
        element.block = block
        if not element.deleted:
            block.visible += 1
            self._visible += 1
        self._elements[element.id] = element
        self._clock = max(self._clock, element.id[0])
        if len(block.elements) > _BLOCK_MAX:
            self._split(bi)

    def _split(self, bi: int) -> None:
        block = self._blocks[bi]
        half = len(block.elements) // 2
        tail = _Block(block.elements[half:])
        del block.elements[half:]
        for el in tail.elements:
            el.block = tail
        tail.visible = sum(1 for el in tail.elements if not el.deleted)
        block.visible -= tail.visible
        self._blocks.insert(bi + 1, tail)

    def _tombstone(self, element: _Element) -> None:
        if not element.deleted:
            element.deleted = True
            element.block.visible -= 1
            self._visible -= 1


def _nth_visible(block: _Block, index: int) -> _Element:
    if block.visible == len(block.elements):
        return block.elements[index]
    for el in block.elements:
        if not el.deleted:
            if index == 0:
                return el
            index -= 1
    raise IndexError(index)


def _expect_op_id(value: object, what: str) -> OpId:
    pair = expect_list(value, what)
    if len(pair) != 2:
        raise ValueError(f"{what} must be a [counter, replica] pair")
    counter = expect_int(pair[0], f"{what} counter", low=1, high=MAX_COUNTER)
    return counter, check_replica_id(pair[1])
