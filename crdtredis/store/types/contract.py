"""What a stored type is: the one contract every type's module keeps (riak_dt's behaviour).

A stored type says how one pure CRDT lives in a Redis hash: its type code
(field ``""``), how the other fields decode to the pure ``to_dict`` state and
encode back, how a peer's hash is validated before any merge, what inspect
and the metrics show of it, how far two replicas of it are apart, the Lua
that joins it, and the handle class applications use. Generic code (batches,
sync, inspect, the exporter, the CLI) reaches a type only through this
contract and the registry, never by its name; adding a type is one module
implementing it plus one registry line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from crdtredis.crdt.interface import StateDict
from crdtredis.store.expiry import LIFE_FIELDS

if TYPE_CHECKING:
    from crdtredis.store.handle import RedisObject
    from crdtredis.store.region import RegionStore

#: Fields of an object's hash as (field, value) pairs, the type field left out.
Fields = list[tuple[str, str]]

#: What a family of types is used for; the CLI picks commands by it.
FAMILIES = ("counter", "map", "set", "log", "other")


class StoredType(ABC):
    """How one CRDT type is stored, validated, shown and joined in Redis.

    Every method is pure (no I/O) except :meth:`open`, which only builds a
    handle. Decoding and validation raise ``ValueError`` (or ``TypeError``,
    ``UnicodeError``) on anything malformed; callers wrap that in
    :class:`~crdtredis.errors.InvalidStateError` with the key's name.
    """

    #: The pure type's serialised name (``to_dict()["type"]``).
    name: ClassVar[str]
    #: The code stored in field ``""`` of every object of this type.
    code: ClassVar[str]
    #: One of :data:`FAMILIES`.
    family: ClassVar[str]
    #: The pure CRDT class, the one definition of what the type means.
    pure: ClassVar[type[Any]]
    #: Lua source returning this type's join (see ``lua/_merge.lua``).
    join_lua: ClassVar[str]

    @abstractmethod
    def open(self, region: RegionStore, name: str) -> RedisObject[Any]:
        """The handle applications use for object ``name`` of this type."""

    @abstractmethod
    def decode(self, body: Fields) -> StateDict:
        """The ``to_dict`` state of an object stored as ``body`` (strict: no unknown field)."""

    def decode_hash(self, fields: Mapping[str, str]) -> StateDict:
        """The state of an object's whole hash (its type and life fields left out)."""
        return self.decode([(f, v) for f, v in fields.items() if f and f not in LIFE_FIELDS])

    @abstractmethod
    def encode(self, state: StateDict) -> Fields:
        """The fields a merge of ``state`` (valid ``to_dict`` output) writes."""

    @abstractmethod
    def summary(self, state: StateDict) -> dict[str, Any]:
        """What inspect shows of a state beyond its type: value, members, length..."""

    @abstractmethod
    def missing(self, mine: StateDict, theirs: StateDict) -> int:
        """Updates in ``theirs`` absent from ``mine`` (slot units, elements, tags, operations)."""

    def validate(self, state: Mapping[str, Any]) -> Fields:
        """Check a state with the pure type; return the canonical fields to merge."""
        canonical = self.pure.from_dict(state, "validator").to_dict()
        fields = self.encode(canonical)
        for f, v in fields:
            f.encode()
            v.encode()  # text Redis can store: no lone surrogates
        return fields

    def validate_hash(self, body: Fields) -> Fields:
        """Check a peer's stored fields; return the fields to merge."""
        return self.validate(self.decode(body))

    def pieces(self, fields: Fields, size: int) -> list[Fields]:
        """``fields`` cut into pieces of about ``size``, each a valid state merged in order.

        A large object is merged piece by piece so no script runs long; the
        object must be a valid state after every piece. Fields that join on
        their own (slots, elements) can go in any order: the default.
        """
        return [fields[i : i + size] for i in range(0, len(fields), size)]

    def live(self, state: StateDict) -> bool:
        """Whether a state holds anything visible (an object deleted holds only tombstones).

        By default: a collection (a pure type with ``len``) with a member;
        any other stored state is visible.
        """
        pure = self.pure.from_dict(state, "reader")
        return len(pure) > 0 if hasattr(pure, "__len__") else True

    def value(self, state: StateDict) -> int | None:
        """The integer value the metrics report, for types that have one."""
        return None

    def top(self, state: StateDict, n: int) -> list[tuple[str, int]]:
        """The ``n`` largest named counts in a state (a counter map's fields); none by default."""
        return []

    def slots(self, state: StateDict) -> dict[str, tuple[int, int]]:
        """Per-replica (increments, decrements), for types counted in slots."""
        return {}

    def empty(self) -> StateDict:
        """The state of an object never written."""
        return dict(self.pure("empty").to_dict())

    def __repr__(self) -> str:
        return f"<stored type {self.name} ({self.code})>"
