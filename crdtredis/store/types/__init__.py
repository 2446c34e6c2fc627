"""The stored types, one module each, and the registry generic code dispatches through.

A new type is one module implementing :class:`StoredType` (with its handle
class and its Lua join) and one entry in :data:`BUILT_IN` below; nothing else
in crdtredis names a type.
"""

from crdtredis.store.types.contract import Fields, StoredType
from crdtredis.store.types.countermap import COUNTERMAP, RedisCounterMap
from crdtredis.store.types.gcounter import GCOUNTER, RedisGCounter
from crdtredis.store.types.gset import GSET, RedisGSet
from crdtredis.store.types.orset import ORSET, RedisORSet
from crdtredis.store.types.pncounter import PNCOUNTER, RedisPNCounter
from crdtredis.store.types.registry import TypeRegistry
from crdtredis.store.types.sequence import SEQUENCE, RedisSequence, SequenceCache
from crdtredis.store.types.twophase_set import TWOPHASE_SET, RedisTwoPhaseSet

#: The types every region knows, in the order listings show them.
BUILT_IN: tuple[StoredType, ...] = (
    GCOUNTER,
    PNCOUNTER,
    COUNTERMAP,
    GSET,
    TWOPHASE_SET,
    ORSET,
    SEQUENCE,
)

#: The registry regions use unless given another.
REGISTRY = TypeRegistry()
for _stored in BUILT_IN:
    REGISTRY.register(_stored)

__all__ = [
    "BUILT_IN",
    "REGISTRY",
    "Fields",
    "RedisCounterMap",
    "RedisGCounter",
    "RedisGSet",
    "RedisORSet",
    "RedisPNCounter",
    "RedisSequence",
    "RedisTwoPhaseSet",
    "SequenceCache",
    "StoredType",
    "TypeRegistry",
]
