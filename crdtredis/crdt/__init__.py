"""Pure, I/O-free CRDTs: the one definition of what every crdtredis type means.

Nothing in this package talks to Redis or imports the rest of crdtredis; the
Redis-backed types are tested against these.
"""

from crdtredis.crdt.countermap import CounterMap
from crdtredis.crdt.gcounter import GCounter
from crdtredis.crdt.gset import GSet
from crdtredis.crdt.interface import CRDT, SLOT_MAX
from crdtredis.crdt.orset import ORSet
from crdtredis.crdt.pncounter import PNCounter
from crdtredis.crdt.sequence import Sequence
from crdtredis.crdt.twophase_set import TwoPhaseSet

#: Every pure type by its serialised ``type`` name.
TYPES: dict[
    str, type[GCounter | PNCounter | CounterMap | GSet | TwoPhaseSet | ORSet | Sequence]
] = {t.type_name: t for t in (GCounter, PNCounter, CounterMap, GSet, TwoPhaseSet, ORSet, Sequence)}

__all__ = [
    "CRDT",
    "CounterMap",
    "SLOT_MAX",
    "TYPES",
    "GCounter",
    "GSet",
    "ORSet",
    "PNCounter",
    "Sequence",
    "TwoPhaseSet",
]
