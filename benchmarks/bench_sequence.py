"""The Sequence against pycrdt (the Yjs engine, in Rust) doing the same edits.

Run: ``.venv/bin/python -m benchmarks.bench_sequence [--quick]`` (needs the
``bench`` extra: ``pip install -e '.[bench]'``). Both sides: N appends, then
M random inserts and removes, one at a time; then two replicas diverge by M/2
random edits each from a shared state and one merges the other.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from crdtredis.crdt import Sequence


def _edits(rng: random.Random, length: int, count: int) -> list[tuple[str, int]]:
    """A reproducible script of (kind, index) edits on a list of ``length`` items."""
    script = []
    for _ in range(count):
        if length and rng.random() < 0.5:
            script.append(("remove", rng.randrange(length)))
            length -= 1
        else:
            script.append(("insert", rng.randint(0, length)))
            length += 1
    return script


def _replay(
    script: list[tuple[str, int]],
    insert: Callable[[int, Any], object],
    remove: Callable[[int], object],
    value: Any,
) -> None:
    for kind, index in script:
        if kind == "insert":
            insert(index, value)
        else:
            remove(index)


def _delete_at(array: Any) -> Callable[[int], object]:
    def delete(index: int) -> None:
        del array[index]

    return delete


def ours(appends: int, edits: int) -> dict[str, float]:
    rng = random.Random(5)
    log = Sequence("a")
    started = time.perf_counter()
    for i in range(appends):
        log.append(i)
    _replay(_edits(rng, appends, edits), log.insert, log.remove, -1)
    edited = time.perf_counter() - started
    left = Sequence.from_dict(log.to_dict(), "l")
    right = Sequence.from_dict(log.to_dict(), "r")
    for replica in (left, right):
        _replay(_edits(rng, len(replica), edits // 2), replica.insert, replica.remove, 0)
    started = time.perf_counter()
    left.merge(right)
    merged = time.perf_counter() - started
    return {"edit": edited, "merge": merged}


def pycrdt_side(appends: int, edits: int) -> dict[str, float] | None:
    try:
        from pycrdt import Array, Doc
    except ImportError:
        return None
    rng = random.Random(5)
    doc: Any = Doc()
    log: Any = doc.get("log", type=Array)
    started = time.perf_counter()
    for i in range(appends):
        log.append(i)
    _replay(_edits(rng, appends, edits), log.insert, _delete_at(log), -1)
    edited = time.perf_counter() - started
    replicas = []
    for _ in range(2):
        replica: Any = Doc()
        replica.apply_update(doc.get_update())
        replicas.append((replica, replica.get("log", type=Array)))
    for _replica_doc, array in replicas:
        _replay(_edits(rng, len(array), edits // 2), array.insert, _delete_at(array), 0)
    (left_doc, _), (right_doc, _) = replicas
    started = time.perf_counter()
    left_doc.apply_update(right_doc.get_update(left_doc.get_state()))
    merged = time.perf_counter() - started
    return {"edit": edited, "merge": merged}


def best(run: Callable[[], dict[str, float] | None], repeats: int) -> dict[str, float] | None:
    """Per phase, the fastest of ``repeats`` runs."""
    results = [run() for _ in range(repeats)]
    if results[0] is None:
        return None
    return {k: min(r[k] for r in results if r is not None) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    appends, edits = (20_000, 2_000) if quick else (100_000, 10_000)
    mine = best(lambda: ours(appends, edits), 3)
    theirs = best(lambda: pycrdt_side(appends, edits), 3)
    assert mine is not None
    for phase in ("edit", "merge"):
        other = "n/a" if theirs is None else f"{theirs[phase] * 1e3:.1f} ms"
        print(f"{phase}: crdtredis {mine[phase] * 1e3:.1f} ms, pycrdt {other}")


if __name__ == "__main__":
    main()
