"""The contract every pure CRDT in this package keeps.

A state-based CRDT is a join-semilattice: ``merge`` is the join, so it is
commutative, associative and idempotent, and ``compare`` is the partial order
the join respects (``a.compare(a.merge(b))`` always holds). The Redis-backed
types in :mod:`crdtredis.store` are defined to behave exactly like these.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self

#: Largest value a single replica slot may hold. Redis stores slots as signed
#: 64-bit integers, so the pure types refuse to go past it too: both layers
#: fail the same operation the same way.
SLOT_MAX = 2**63 - 1

#: Longest replica id accepted. Replica ids are stored in every slot field.
REPLICA_ID_MAX_LEN = 200

#: Letters, digits and ``._:-``, starting with a letter or digit. The Redis
#: layer relies on this: a leading ``-`` marks a decrement slot, and ``,`` and
#: ``@`` separate tags, so none of them can be part of an id.
REPLICA_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")

StateDict = dict[str, Any]


class CRDT(Protocol):
    """What every replicated type offers, whatever it stores."""

    #: Name of the type in serialised state (``to_dict()["type"]``).
    type_name: str

    @property
    def replica(self) -> str:
        """The replica id this instance writes its own updates as."""
        ...

    def merge(self, other: Self) -> Self:
        """Join ``other`` into ``self`` and return ``self``."""
        ...

    def compare(self, other: Self) -> bool:
        """True when ``self <= other`` in the type's partial order."""
        ...

    def delete(self) -> None:
        """Remove what this replica has observed (an observed remove; a counter's reset).

        What other replicas add concurrently, unseen here, survives the
        merge. ``ValueError`` for a type whose meaning has no removal.
        """
        ...

    def to_dict(self) -> StateDict:
        """The replicated state as JSON-safe, canonical data."""
        ...

    @classmethod
    def from_dict(cls, data: object, replica: str) -> Self:
        """Rebuild from ``to_dict`` output; raise ``ValueError`` on anything malformed."""
        ...


#: Replica ids already found valid. There are few of them (regions times
#: incarnations) and they are checked once per slot of every state merged, so
#: remembering them takes the regular expression off the sync path.
_KNOWN_GOOD: set[str] = set()


def check_replica_id(replica: object) -> str:
    """Return ``replica`` if it is a usable replica id, else raise ``ValueError``.

    Replica ids name slots and tags in stored state, so they are short words
    of letters, digits and ``._:-`` that start with a letter or digit.
    """
    if not isinstance(replica, str):
        raise ValueError(f"replica id must be a string, got {type(replica).__name__}")
    if replica in _KNOWN_GOOD:
        return replica
    if not replica:
        raise ValueError("replica id must not be empty")
    if len(replica) > REPLICA_ID_MAX_LEN:
        raise ValueError(f"replica id is longer than {REPLICA_ID_MAX_LEN} characters")
    if not REPLICA_ID_PATTERN.fullmatch(replica):
        raise ValueError(
            f"replica id {replica!r} must be letters, digits and '._:-', "
            "starting with a letter or digit"
        )
    if len(_KNOWN_GOOD) < 10_000:
        _KNOWN_GOOD.add(replica)
    return replica


def check_same_type(self: object, other: object) -> None:
    """Refuse to merge or compare two different CRDT types."""
    if type(self) is not type(other):
        raise TypeError(f"cannot combine {type(self).__name__} with {type(other).__name__}")
