"""The Sequence in Redis: one hash of operations, read back in RGA order.

Local inserts and removes first read the sequence to turn an index into an
element id, then write one operation with one script; the script assigns the
Lamport id, so concurrent writers in one region never share an id. Reads
rebuild the order from all operations (O(n) per read), which is what keeps
replicas exactly equal to the pure :class:`~crdtredis.crdt.Sequence`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from crdtredis.crdt import Sequence
from crdtredis.crdt.sequence import OpId, normalise_value
from crdtredis.store import codec
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import script


class RedisSequence(RedisObject[Sequence]):
    """An ordered event log (:class:`~crdtredis.crdt.Sequence`) in Redis."""

    pure_type: ClassVar[type[Sequence]] = Sequence

    def to_list(self) -> list[Any]:
        return self.state().to_list()

    def __len__(self) -> int:
        return len(self.state())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __getitem__(self, index: int) -> Any:
        return self.state()[index]

    def tombstones(self) -> int:
        return self.state().tombstones()

    def append(self, value: object) -> OpId:
        """Add ``value`` at the end; return the new element's id."""
        payload = normalise_value(value)
        current = self.state()
        return self._insert_after(current.ref_for_insert(len(current)), payload)

    def insert(self, index: int, value: object) -> OpId:
        """Insert ``value`` so it becomes the element at ``index`` (list rules, no clamping)."""
        payload = normalise_value(value)
        return self._insert_after(self.state().ref_for_insert(index), payload)

    def _insert_after(self, ref: OpId | None, payload: Any) -> OpId:
        op_id = self._write_with(
            script("sequence_update"),
            lambda: [
                self.name,
                "insert",
                self.region.replica,
                "" if ref is None else codec.format_id(ref[0], ref[1]),
                codec.element_json(ref, payload),
            ],
        )
        counter, replica = codec.parse_id(op_id)
        return counter, replica

    def remove(self, index: int) -> Any:
        """Remove the element at ``index`` and return its value."""
        current = self.state()
        op_id, value = current.element_at(index)
        self._write("sequence_update", self.name, "remove", codec.format_id(op_id[0], op_id[1]))
        return value
