"""Writers on every region: counters up and down, OR-Set adds and removes, log
appends, each recorded with what the region answered."""

from __future__ import annotations

import random
import threading
import time

import redis

from crdtredis.chaos.history import FAILED, OK, UNKNOWN, History, Op
from crdtredis.errors import CRDTRedisError
from crdtredis.replication import Region

COUNTERS, SETS, LOGS = 8, 4, 2


class Writer(threading.Thread):
    """One region's writer: random operations until ``stop`` is set."""

    def __init__(
        self, region: str, url: str, history: History, seed: int, stop: threading.Event
    ) -> None:
        super().__init__(name=f"writer-{region}", daemon=True)
        self.region_name = region
        self.url = url
        self.history = history
        self.rng = random.Random(seed)
        self.stop_event = stop
        self.serial = 0
        #: Elements this writer added and saw acknowledged, by set: removable.
        self.members: dict[str, list[str]] = {}

    def run(self) -> None:
        region = self._open()
        while not self.stop_event.is_set():
            if region is None:
                time.sleep(0.2)
                region = self._open()
                continue
            self._one(region)
            time.sleep(self.rng.uniform(0.0, 0.02))

    def _open(self) -> Region | None:
        try:
            return Region(self.region_name, self.url, socket_timeout=1.0)
        except (redis.exceptions.RedisError, CRDTRedisError, OSError):
            return None

    def _one(self, region: Region) -> None:
        roll = self.rng.random()
        self.serial += 1
        unique = f"{self.region_name}-{self.serial}"
        if roll < 0.5:
            key, amount = f"c{self.rng.randrange(COUNTERS)}", self.rng.randint(1, 9)
            kind = "incr" if self.rng.random() < 0.7 else "decr"
            counter = region.counter(key)
            action = counter.incr if kind == "incr" else counter.decr
            self._do(kind, key, amount, lambda: action(amount))
        elif roll < 0.8:
            key = f"s{self.rng.randrange(SETS)}"
            mine = self.members.setdefault(key, [])
            if mine and self.rng.random() < 0.3:
                element = mine.pop(self.rng.randrange(len(mine)))
                self._do("remove", key, element, lambda: region.orset(key).remove(element))
            elif self._do("add", key, unique, lambda: region.orset(key).add(unique)):
                mine.append(unique)
        else:
            key = f"log{self.rng.randrange(LOGS)}"
            self._do("append", key, unique, lambda: region.sequence(key).append(unique))

    def _do(self, kind: str, key: str, value: str | int, action: object) -> bool:
        began = time.time()
        try:
            action()  # type: ignore[operator]
            outcome = OK
        except (redis.exceptions.OutOfMemoryError, redis.exceptions.BusyLoadingError, KeyError):
            outcome = FAILED  # refused before anything ran (a removal of what a wipe took)
        except (redis.exceptions.RedisError, CRDTRedisError, OSError):
            outcome = UNKNOWN  # it may have run before the connection went, say
        self.history.record(Op(self.region_name, kind, key, value, outcome, began, time.time()))
        return outcome == OK
