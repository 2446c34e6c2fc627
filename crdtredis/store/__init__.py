"""Redis-backed CRDTs: one region's store, atomic writes, Redis Cluster ready."""

from crdtredis.store.batch import MergeReport
from crdtredis.store.counters import RedisGCounter, RedisPNCounter
from crdtredis.store.layout import KeyLayout
from crdtredis.store.region import RegionStore, connect
from crdtredis.store.sequence import RedisSequence
from crdtredis.store.sets import RedisGSet, RedisORSet, RedisTwoPhaseSet

__all__ = [
    "KeyLayout",
    "MergeReport",
    "RegionStore",
    "RedisGCounter",
    "RedisGSet",
    "RedisORSet",
    "RedisPNCounter",
    "RedisSequence",
    "RedisTwoPhaseSet",
    "connect",
]
