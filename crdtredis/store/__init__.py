"""Redis-backed CRDTs: one region's store, atomic writes, Redis Cluster ready."""

from crdtredis.store.batch import MergeReport
from crdtredis.store.layout import KeyLayout
from crdtredis.store.region import RegionStore, connect
from crdtredis.store.types import (
    REGISTRY,
    RedisCounterMap,
    RedisGCounter,
    RedisGSet,
    RedisORSet,
    RedisPNCounter,
    RedisSequence,
    RedisTwoPhaseSet,
    StoredType,
    TypeRegistry,
)

__all__ = [
    "KeyLayout",
    "MergeReport",
    "REGISTRY",
    "RedisGCounter",
    "RedisGSet",
    "RedisORSet",
    "RedisCounterMap",
    "RedisPNCounter",
    "RedisSequence",
    "RedisTwoPhaseSet",
    "RegionStore",
    "StoredType",
    "TypeRegistry",
    "connect",
]
