"""The Sequence in Redis: one hash of operations, read back in RGA order.

A local insert or remove turns an index into an element id on the current
sequence, then writes one operation with one script; the script assigns the
Lamport id, so concurrent writers in one region never share an id.

Reading a sequence means rebuilding its order from all its operations, so the
region keeps a small cache of rebuilt sequences, each tagged with the
object's version in the change index. A read costs one ``ZSCORE`` while the
object has not changed; a write by this process updates the cached copy in
place when the script confirms nothing else changed in between. An append to
a long log is then one round trip, not a read of the whole log.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, ClassVar

from crdtredis.crdt import Sequence
from crdtredis.crdt.sequence import OpId, normalise_value
from crdtredis.store import codec
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import script

#: Rebuilt sequences a region keeps.
CACHED_SEQUENCES = 64


class SequenceCache:
    """Rebuilt sequences by (incarnation, name), with the version each was read at."""

    def __init__(self, size: int = CACHED_SEQUENCES) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[str, Sequence]] = OrderedDict()

    def get(self, key: tuple[str, str], version: str) -> Sequence | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: tuple[str, str], version: str, sequence: Sequence) -> None:
        self._entries[key] = (version, sequence)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)


class RedisSequence(RedisObject[Sequence]):
    """An ordered event log (:class:`~crdtredis.crdt.Sequence`) in Redis."""

    pure_type: ClassVar[type[Sequence]] = Sequence

    @property
    def _cache_key(self) -> tuple[str, str]:
        return self.region.incarnation, self.name

    def _version(self) -> str:
        """The object's version: its shard head's incarnation and its index score.

        The incarnation makes versions from before a wipe never match ones
        after it, when shard versions start again from zero.
        """
        pipe = self.region.client.pipeline(transaction=False)
        pipe.hget(self.keys[0], "inc")
        pipe.zscore(self.keys[1], self.name)
        incarnation, score = pipe.execute()
        return f"{incarnation or ''}:{'' if score is None else int(score)}"

    def _current(self) -> tuple[str, Sequence]:
        """The stored sequence (shared with the cache: not to be changed) and its version."""
        version = self._version()  # before the read: the state is at least this new
        cached = self.region.sequences.get(self._cache_key, version)
        if cached is not None:
            return version, cached
        sequence = self.state()
        self.region.sequences.put(self._cache_key, version, sequence)
        return version, sequence

    def to_list(self) -> list[Any]:
        return self._current()[1].to_list()

    def __len__(self) -> int:
        return len(self._current()[1])

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __getitem__(self, index: int) -> Any:
        return self._current()[1][index]

    def tombstones(self) -> int:
        return self._current()[1].tombstones()

    def append(self, value: object) -> OpId:
        """Add ``value`` at the end; return the new element's id."""
        payload = normalise_value(value)
        version, current = self._current()
        return self._insert_after(version, current, current.ref_for_insert(len(current)), payload)

    def insert(self, index: int, value: object) -> OpId:
        """Insert ``value`` so it becomes the element at ``index`` (list rules, no clamping)."""
        payload = normalise_value(value)
        version, current = self._current()
        return self._insert_after(version, current, current.ref_for_insert(index), payload)

    def remove(self, index: int) -> Any:
        """Remove the element at ``index`` and return its value."""
        version, current = self._current()
        op_id, value = current.element_at(index)
        try:
            _, new_version, was_current = self._write(
                "sequence_update", self.name, "remove", codec.format_id(op_id[0], op_id[1]), version
            )
        except Exception:
            self.region.sequences.drop(self._cache_key)  # read the log again next time
            raise
        if int(was_current):
            current.apply_remove(op_id)
            self.region.sequences.put(self._cache_key, str(new_version), current)
        else:
            self.region.sequences.drop(self._cache_key)
        return value

    def _insert_after(
        self, version: str, current: Sequence, ref: OpId | None, payload: Any
    ) -> OpId:
        try:
            raw_id, new_version, was_current = self._write_with(
                script("sequence_update"),
                lambda: [
                    self.name,
                    "insert",
                    self.region.replica,
                    "" if ref is None else codec.format_id(ref[0], ref[1]),
                    codec.element_json(ref, payload),
                    version,
                ],
            )
        except Exception:
            self.region.sequences.drop(self._cache_key)  # read the log again next time
            raise
        counter, replica = codec.parse_id(raw_id)
        op_id = (counter, replica)
        if int(was_current):
            current.apply_insert(op_id, ref, payload)
            self.region.sequences.put(self._cache_key, str(new_version), current)
        else:
            self.region.sequences.drop(self._cache_key)
        return op_id
