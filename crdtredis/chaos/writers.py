"""Writers on every region: counters and counter maps up and down and deleted, keys
that expire, OR-Set adds and removes, log appends, each recorded with what the
region answered."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import redis

from crdtredis.chaos.history import FAILED, OK, UNKNOWN, History, Op
from crdtredis.errors import BatchError, CRDTRedisError
from crdtredis.replication import Region

COUNTERS, MAPS, SETS, LOGS = 8, 3, 4, 2
FIELDS = ("/", "/pricing", "/docs", "/blog")
#: Longest TTL an expiring key is given (seconds).
MAX_TTL = 2.0


class Writer(threading.Thread):
    """One region's writer: random operations until ``stop`` is set.

    ``skew``: seconds this writer's region clock is off (the expiry times it
    sets are taken by it). Keys are given expiries only until ``expire_until``
    (``time.time()``), so that every one has passed before the check.
    """

    def __init__(
        self,
        region: str,
        url: str,
        history: History,
        seed: int,
        stop: threading.Event,
        *,
        skew: float = 0.0,
        expire_until: float = float("inf"),
    ) -> None:
        super().__init__(name=f"writer-{region}", daemon=True)
        self.region_name = region
        self.url = url
        self.history = history
        self.rng = random.Random(seed)
        self.stop_event = stop
        self.skew = skew
        self.expire_until = expire_until
        self.serial = 0
        #: What stopped this writer before ``stop`` was set (a bug in the harness).
        self.died: str | None = None
        #: Elements this writer added and saw acknowledged, by set: removable.
        self.members: dict[str, list[str]] = {}

    def run(self) -> None:
        try:
            self._write_until_stopped()
        except Exception as exc:  # noqa: BLE001 - reported by the run, not lost in a thread
            self.died = f"{type(exc).__name__}: {exc}"

    def _write_until_stopped(self) -> None:
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
            skew = self.skew
            return Region(
                self.region_name, self.url, socket_timeout=1.0, clock=lambda: time.time() + skew
            )
        except (redis.exceptions.RedisError, CRDTRedisError, OSError):
            return None

    def _one(self, region: Region) -> None:
        roll = self.rng.random()
        self.serial += 1
        if roll < 0.35:
            self._counter(region)
        elif roll < 0.5:
            self._map(region)
        elif roll < 0.55:
            self._delete_something(region)
        elif roll < 0.6 and time.time() < self.expire_until:
            self._expiring(region)
        elif roll < 0.85:
            self._set(region)
        else:
            key, unique = f"log{self.rng.randrange(LOGS)}", f"{self.region_name}-{self.serial}"
            self._do("append", key, unique, lambda: region.sequence(key).append(unique))

    def _counter(self, region: Region) -> None:
        key, amount = f"c{self.rng.randrange(COUNTERS)}", self.rng.randint(1, 9)
        kind = "incr" if self.rng.random() < 0.7 else "decr"
        counter = region.counter(key)
        action = counter.incr if kind == "incr" else counter.decr
        self._do(kind, key, amount, lambda: action(amount))

    def _map(self, region: Region) -> None:
        """A batch over one or two maps and a few fields: one round trip, one outcome."""
        if self.rng.random() < 0.2:
            key, field = f"m{self.rng.randrange(MAPS)}", self.rng.choice(FIELDS)
            amount = self.rng.randint(1, 9)
            self._do(
                "decr", key, amount, lambda: region.counter_map(key).decr(field, amount), field
            )
            return
        batch = {
            f"m{i}": {f: self.rng.randint(1, 9) for f in self.rng.sample(FIELDS, 2)}
            for i in self.rng.sample(range(MAPS), self.rng.randint(1, 2))
        }
        self._do_batch(region, batch)

    def _delete_something(self, region: Region) -> None:
        roll = self.rng.random()
        if roll < 0.4:
            key = f"c{self.rng.randrange(COUNTERS)}"
            self._do("delete", key, 0, lambda: region.counter(key).delete())
        elif roll < 0.8:
            key, field = f"m{self.rng.randrange(MAPS)}", self.rng.choice(FIELDS)
            views = region.counter_map(key)
            self._do("delete", key, 0, lambda: views.delete_field(field), field)
        else:
            key = f"m{self.rng.randrange(MAPS)}"
            self._do("delete", key, 0, lambda: region.counter_map(key).delete())

    def _expiring(self, region: Region) -> None:
        """A key of this writer's own, counted up, then given a short expiry."""
        key, amount = f"x-{self.region_name}-{self.serial}", self.rng.randint(1, 9)
        if self._do("incr", key, amount, lambda: region.counter(key).incr(amount)):
            ttl = round(self.rng.uniform(0.2, MAX_TTL), 2)

            def expire() -> None:
                if not region.expire(key, ttl):  # the key was gone (a wipe): nothing set
                    raise KeyError(key)

            self._do("expire", key, str(ttl), expire)

    def _set(self, region: Region) -> None:
        key, unique = f"s{self.rng.randrange(SETS)}", f"{self.region_name}-{self.serial}"
        mine = self.members.setdefault(key, [])
        if mine and self.rng.random() < 0.3:
            element = mine.pop(self.rng.randrange(len(mine)))
            self._do("remove", key, element, lambda: region.orset(key).remove(element))
        elif self._do("add", key, unique, lambda: region.orset(key).add(unique)):
            mine.append(unique)

    def _do(
        self, kind: str, key: str, value: str | int, action: Callable[[], object], field: str = ""
    ) -> bool:
        began = time.time()
        outcome = _attempt(action)
        self.history.record(
            Op(self.region_name, kind, key, value, outcome, began, time.time(), field)
        )
        return outcome == OK

    def _do_batch(self, region: Region, batch: dict[str, dict[str, int]]) -> None:
        """``incr_fields``: each shard's maps succeed or fail together, so each map's
        outcome is its own (a BatchError names the refused ones)."""
        began = time.time()
        failed: set[str] = set()
        try:
            outcome = _attempt(lambda: region.incr_fields(batch), reraise=BatchError)
        except BatchError as exc:
            outcome, failed = OK, set(exc.failures)
        ended = time.time()
        for key, fields in batch.items():
            for field, amount in fields.items():
                found = FAILED if key in failed else outcome
                self.history.record(
                    Op(self.region_name, "incr", key, amount, found, began, ended, field)
                )


def _attempt(action: Callable[[], object], reraise: type[Exception] | None = None) -> str:
    """What became of ``action``: ok, surely not applied, or not known."""
    try:
        action()
        return OK
    except Exception as exc:
        if reraise is not None and isinstance(exc, reraise):
            raise
        if isinstance(
            exc, redis.exceptions.OutOfMemoryError | redis.exceptions.BusyLoadingError | KeyError
        ):
            return FAILED  # refused before anything ran (a removal of what a wipe took)
        if isinstance(exc, redis.exceptions.RedisError | CRDTRedisError | OSError):
            return UNKNOWN  # it may have run before the connection went, say
        raise
