"""A seeded fault schedule: the same seed gives the same faults at the same times."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

#: Every kind of fault, and how long each lasts at most (seconds).
FAULTS: dict[str, float] = {
    "kill-worker": 2.0,  # SIGKILL a worker, start it again after the pause
    "pause-redis": 3.0,  # SIGSTOP a redis-server, SIGCONT after
    "restart-redis": 2.0,  # SIGKILL a redis-server, start it again from its AOF
    "partition": 5.0,  # cut every link to and from a region, restore after
    "cut-connections": 0.0,  # close a region's links' connections mid-reply, once
    "wipe": 0.0,  # FLUSHALL a region's Redis: what no peer had is lost
    "lose-disk": 0.0,  # SIGKILL a redis-server, remove its data directory, start it empty
    "full-memory": 3.0,  # maxmemory below use, noeviction: writes refused
}


#: The faults that lose a region's data.
WIPES = ("wipe", "lose-disk")
#: Largest skew of the region clock one writer runs on (seconds, either way).
MAX_SKEW = 3.0


@dataclass(frozen=True)
class Fault:
    at: float
    kind: str
    region: str
    lasts: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(
    seed: int,
    seconds: float,
    regions: list[str],
    every: float = 4.0,
    wipes: bool = True,
) -> list[Fault]:
    """Faults over ``seconds``, about one per ``every`` seconds, none in the last
    fifth (the system is healed then) and at most one wipe (of either kind) per run."""
    rng = random.Random(seed)
    kinds = [k for k in FAULTS if wipes or k not in WIPES]
    faults: list[Fault] = []
    at = rng.uniform(1.0, every)
    wiped = False
    while at < seconds * 0.8:
        kind = rng.choice(kinds)
        if kind in WIPES:
            if wiped:
                kind = "kill-worker"
            wiped = True
        lasts = round(rng.uniform(0.5, FAULTS[kind]), 2) if FAULTS[kind] else 0.0
        faults.append(Fault(round(at, 2), kind, rng.choice(regions), lasts))
        at += rng.uniform(every / 2, every * 1.5)
    return faults


def clock_skew(seed: int, regions: list[str]) -> tuple[str, float]:
    """The region whose writer's clock is off for this seed, and by how much (seconds):
    the expiry times it sets are taken by that clock."""
    rng = random.Random(seed * 7919 + 1)
    return rng.choice(regions), round(rng.uniform(-MAX_SKEW, MAX_SKEW), 2)
