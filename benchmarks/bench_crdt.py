"""Pure CRDT merge costs, against the seed's list-based counter in the same run.

Run: ``.venv/bin/python -m benchmarks.bench_crdt``. Prints one line per case
with the best and median of several repeats; figures are only comparable
within one run (the machines are shared and noisy).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from crdtredis.crdt import PNCounter, Sequence


class SeedGrowCounter:
    """The seed's list-indexed GrowCounter (its bugs fixed), as the reference."""

    def __init__(self, n: int) -> None:
        self.p = [0] * n

    def merge(self, other: SeedGrowCounter) -> None:
        self.p = list(map(max, zip(self.p, other.p, strict=True)))


class SeedPosNegCounter:
    def __init__(self, n: int) -> None:
        self.pos, self.neg = SeedGrowCounter(n), SeedGrowCounter(n)

    def merge(self, other: SeedPosNegCounter) -> None:
        self.pos.merge(other.pos)
        self.neg.merge(other.neg)


def measure(setup: Callable[[], Callable[[], object]], repeats: int = 7) -> tuple[float, float]:
    """Best and median seconds of ``repeats`` runs; ``setup`` is not timed."""
    times = []
    for _ in range(repeats):
        run = setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def pncounter_cases(replicas: int = 1_000) -> list[tuple[str, tuple[float, float]]]:
    rng = random.Random(1)
    a, b = PNCounter("a"), PNCounter("b")
    seed_a, seed_b = SeedPosNegCounter(replicas), SeedPosNegCounter(replicas)
    for i in range(replicas):
        for crdt, seed_crdt in ((a, seed_a), (b, seed_b)):
            p, n = rng.randint(0, 10**6), rng.randint(0, 10**6)
            crdt.p.slots[f"r{i}"], crdt.n.slots[f"r{i}"] = p, n
            seed_crdt.pos.p[i], seed_crdt.neg.p[i] = p, n

    def ours() -> Callable[[], object]:
        target = PNCounter.from_dict(a.to_dict(), "a")
        return lambda: target.merge(b)

    def seed() -> Callable[[], object]:
        target = SeedPosNegCounter(replicas)
        target.pos.p, target.neg.p = list(seed_a.pos.p), list(seed_a.neg.p)
        return lambda: target.merge(seed_b)

    return [
        (f"PNCounter.merge, {replicas} replicas", measure(ours)),
        (f"seed PosNegCounter.merge, {replicas} replicas (reference)", measure(seed)),
    ]


def sequence_cases(size: int = 10_000) -> list[tuple[str, tuple[float, float]]]:
    rng = random.Random(2)
    full = Sequence("a")
    for i in range(size):
        full.append(i)
    shared = Sequence("a")
    for i in range(size // 2):
        shared.append(i)
    left = Sequence("l").merge(shared)
    right = Sequence("r").merge(shared)
    for i in range(size // 2):
        left.insert(rng.randint(0, len(left)), f"l{i}")
        right.insert(rng.randint(0, len(right)), f"r{i}")

    def into_empty() -> Callable[[], object]:
        target = Sequence("b")
        return lambda: target.merge(full)

    def diverged() -> Callable[[], object]:
        target = Sequence.from_dict(left.to_dict(), "l")
        return lambda: target.merge(right)

    def appends() -> Callable[[], object]:
        target = Sequence("c")
        return lambda: [target.append(i) for i in range(size)]

    return [
        (f"Sequence.merge of {size} elements into an empty replica", measure(into_empty, 5)),
        (
            f"Sequence.merge of two replicas diverged by {size // 2} random inserts each",
            measure(diverged, 5),
        ),
        (f"Sequence: {size} appends", measure(appends, 5)),
    ]


def main() -> None:
    rows = pncounter_cases() + sequence_cases()
    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  {'best ms':>9}  {'median ms':>9}")
    for name, (best, median) in rows:
        print(f"{name:<{width}}  {best * 1e3:9.3f}  {median * 1e3:9.3f}")
    (ours, _), (seed, _) = rows[0][1], rows[1][1]
    print(f"PNCounter merge / seed merge (best): {ours / seed:.2f}x the seed's time")


if __name__ == "__main__":
    main()
