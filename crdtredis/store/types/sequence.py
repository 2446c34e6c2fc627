"""The Sequence in Redis: one hash of operations, read back in RGA order.

Fields: ``.<n@replica>`` holds an element's JSON ``[ref id or null, value]``,
``~<n@replica>`` = ``1`` marks it removed, ``^`` is the Lamport clock.

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

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from crdtredis.crdt import Sequence
from crdtredis.crdt.interface import StateDict
from crdtredis.crdt.sequence import OpId, normalise_value
from crdtredis.errors import MissingElementError
from crdtredis.store.codec import dump_json, format_id, parse_id
from crdtredis.store.handle import RedisObject
from crdtredis.store.scripts import lua_source, script
from crdtredis.store.types.contract import Fields, StoredType

#: Rebuilt sequences a region keeps.
CACHED_SEQUENCES = 64
#: Sequence items inspect shows.
LAST_ITEMS = 10

_CLOCK = re.compile(r"0|[1-9][0-9]*")

_T = TypeVar("_T")


def element_json(ref: tuple[int, str] | list[Any] | None, value: Any) -> str:
    """The stored JSON of a sequence element: ``[ref id or null, value]``."""
    return dump_json([None if ref is None else format_id(ref[0], ref[1]), value])


def _operation(op_id: str, stored: str) -> list[Any]:
    try:
        ref, value = json.loads(stored)
    except (ValueError, TypeError):
        raise ValueError(f"element {op_id!r} holds {stored[:40]!r}, not [ref, value]") from None
    return [parse_id(op_id), None if ref is None else parse_id(str(ref)), value]


class SequenceType(StoredType):
    name = Sequence.type_name
    code = "sq"
    family = "log"
    pure = Sequence
    join_lua = lua_source("joins/sequence.lua")

    def open(self, region: Any, name: str) -> RedisSequence:
        return RedisSequence(region, name)

    def decode(self, body: Fields) -> StateDict:
        ops: list[Any] = []
        gone: list[Any] = []
        for f, v in body:
            kind, op_id = f[:1], f[1:]
            if kind == ".":
                ops.append(_operation(op_id, v))
            elif kind == "~" and v == "1":
                gone.append(parse_id(op_id))
            elif f != "^" or not _CLOCK.fullmatch(v):
                raise ValueError(f"field {f!r} = {v[:40]!r} is not part of a sequence")
        return {"type": self.name, "ops": ops, "removed": gone}

    def encode(self, state: StateDict) -> Fields:
        fields = [
            (f".{format_id(n, r)}", element_json(ref, value)) for (n, r), ref, value in state["ops"]
        ]
        fields += [(f"~{format_id(n, r)}", "1") for n, r in state["removed"]]
        clock = max((n for (n, _), _, _ in state["ops"]), default=0)
        return fields + ([("^", str(clock))] if clock else [])

    def pieces(self, fields: Fields, size: int) -> list[Fields]:
        """Operations oldest first (each after the one it refers to), then removals, clock last.

        An operation refers only to an older one (a smaller Lamport counter),
        and a removal only to an operation: in this order every piece leaves
        a sequence whose references all resolve.
        """

        def order(item: tuple[str, str]) -> tuple[int, int, str]:
            f = item[0]
            if f[:1] == ".":
                return 0, int(parse_id(f[1:])[0]), f
            return (1, 0, f) if f[:1] == "~" else (2, 0, f)

        ordered = sorted(fields, key=order)
        return [ordered[i : i + size] for i in range(0, len(ordered), size)]

    def summary(self, state: StateDict) -> dict[str, Any]:
        sequence = Sequence.from_dict(state, "inspect")
        items = sequence.to_list()
        return {
            "length": len(items),
            "tombstones": sequence.tombstones(),
            "last": items[-LAST_ITEMS:],
        }

    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        ops = {tuple(op[0]) for op in mine["ops"]}
        removed = {tuple(r) for r in mine["removed"]}
        return sum(1 for op in theirs["ops"] if tuple(op[0]) not in ops) + sum(
            1 for r in theirs["removed"] if tuple(r) not in removed
        )


SEQUENCE = SequenceType()


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

    stored = SEQUENCE

    @property
    def _cache_key(self) -> tuple[str, str]:
        return self.region.incarnation, self.name

    def _version(self) -> str:
        """The object's version: its shard head's incarnation and its index score.

        The incarnation makes versions from before a wipe never match ones
        after it, when shard versions start again from zero. The score counts
        only while the log exists: one that expired or was evicted keeps its
        index entry until collection, and must not match its cached copy.
        (Collection never trims a log's entry while the log exists.)
        """
        pipe = self.region.client.pipeline(transaction=False)
        pipe.hget(self.keys[0], "inc")
        pipe.zscore(self.keys[1], self.name)
        pipe.exists(self.keys[2])
        incarnation, score, exists = pipe.execute()
        return f"{incarnation or ''}:{'' if score is None or not exists else int(score)}"

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
        return _read_again_once(lambda: self._insert(None, value))

    def insert(self, index: int, value: object) -> OpId:
        """Insert ``value`` so it becomes the element at ``index`` (list rules, no clamping)."""
        return _read_again_once(lambda: self._insert(index, value))

    def remove(self, index: int) -> Any:
        """Remove the element at ``index`` and return its value."""
        return _read_again_once(lambda: self._remove(index))

    def _remove(self, index: int) -> Any:
        version, current = self._current()
        op_id, value = current.element_at(index)
        target = format_id(op_id[0], op_id[1])
        self._write_cached(
            current,
            lambda: [self.name, "remove", target, version],
            lambda _result: current.apply_remove(op_id),
        )
        return value

    def _insert(self, index: int | None, value: object) -> OpId:
        payload = normalise_value(value)
        version, current = self._current()
        ref = current.ref_for_insert(len(current) if index is None else index)
        ref_id = "" if ref is None else format_id(ref[0], ref[1])
        payload_json = element_json(ref, payload)

        def new_id(raw: str) -> OpId:
            counter, replica = parse_id(raw)
            return counter, replica

        raw_id = self._write_cached(
            current,
            lambda: [self.name, "insert", self.region.replica, ref_id, payload_json, version],
            lambda raw: current.apply_insert(new_id(raw), ref, payload),
        )
        return new_id(raw_id)

    def _write_cached(
        self, current: Sequence, args: Callable[[], list[str]], apply: Callable[[Any], None]
    ) -> Any:
        """Write one operation on ``current`` and keep the cached copy current; return its result.

        ``args`` gives the script's arguments (again after an identity
        change); ``apply`` repeats the operation on the cached copy, which is
        kept only when the script says no other change came in between.
        """
        try:
            result, new_version, was_current = self._write_with(script("sequence_update"), args)
        except Exception:
            self.region.sequences.drop(self._cache_key)  # read the log again next time
            raise
        if int(was_current):
            apply(result)
            self.region.sequences.put(self._cache_key, str(new_version), current)
        else:
            self.region.sequences.drop(self._cache_key)
        return result


def _read_again_once(operation: Callable[[], _T]) -> _T:
    """``operation``, once more on a fresh read if the element it referred to was not
    stored (NOREF: nothing was written). The cached copy can hold an element the
    Redis no longer has, when a restart from an older copy of the data lost it
    without a change of version to show; the write then refers to the log as
    it is now, as if it had been read just before."""
    try:
        return operation()
    except MissingElementError:  # the refused write dropped the cached copy
        return operation()
