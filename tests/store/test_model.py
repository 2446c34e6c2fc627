"""Invariant 1: the Redis-backed types behave exactly like the pure ones.

Random histories of local operations, peer operations and merges in both
directions run against a pure replica and a Redis replica with the same
replica id; after every step they show the same value and export the same
state, and every operation returns the same result or raises the same error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fakeredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdtredis.store import RegionStore
from tests.store.conftest import Backend
from tests.unit.crdt_specs import SPECS, Spec

OBSERVE: dict[str, Callable[[Any], Any]] = {
    "GCounter": lambda c: c.value(),
    "PNCounter": lambda c: c.value(),
    # top, len and total read the derived index, items the hash itself.
    "CounterMap": lambda m: (m.items(), m.top(3), m.top(0), len(m), m.total()),
    "GSet": lambda s: s.members(),
    "TwoPhaseSet": lambda s: s.members(),
    "ORSet": lambda s: (s.members(), s.tombstones()),
    "Sequence": lambda s: (s.to_list(), len(s), s.tombstones()),
}


def apply(obj: Any, op: tuple[Any, ...]) -> tuple[str, Any]:
    """Perform ``op`` on a pure or Redis object; the outcome, or the error's type."""
    if len(op) == 3:
        return _apply_to_map(obj, op)
    kind, arg = op
    try:
        if kind in ("incr", "decr", "add"):
            return "ok", getattr(obj, kind)(arg)
        if kind == "remove" and isinstance(arg, str):
            return "ok", obj.remove(arg)
        index = int(arg * (len(obj) + (1 if kind == "insert" else 0)))
        if kind == "insert":
            return "ok", obj.insert(min(index, len(obj)), f"value-{arg}")
        return "ok", obj.remove(min(index, len(obj) - 1) if len(obj) else 0)
    except (ValueError, KeyError, IndexError) as exc:
        return "error", type(exc).__name__


def _apply_to_map(obj: Any, op: tuple[Any, ...]) -> tuple[str, Any]:
    kind, field, amount = op
    if kind == "delete_field":
        obj.delete_field(field)
        return "ok", obj.get(field)
    return "ok", getattr(obj, kind)(field, amount)


def step_strategy(spec: Spec) -> st.SearchStrategy[tuple[Any, ...]]:
    peer = st.integers(min_value=0, max_value=1)
    return st.one_of(
        st.tuples(st.just("local"), spec.ops),
        st.tuples(st.just("local"), spec.ops),
        st.tuples(st.just("peer"), peer, st.lists(spec.ops, min_size=1, max_size=4)),
        st.tuples(st.just("pull"), peer),
        st.tuples(st.just("push"), peer),
    )


def run_history(backend: Backend, spec: Spec, data: Any) -> None:
    region = RegionStore("eu", backend())
    name = spec.cls.__name__
    stored = region.handle(spec.cls.type_name, f"model:{name}")
    local = spec.cls(region.replica)
    peers = [spec.cls(f"peer{i}.x") for i in range(2)]
    observe = OBSERVE[name]

    for step in data.draw(st.lists(step_strategy(spec), max_size=25)):
        if step[0] == "local":
            assert apply(stored, step[1]) == apply(local, step[1])
        elif step[0] == "peer":
            for op in step[2]:
                apply(peers[step[1]], op)
        elif step[0] == "pull":
            state = peers[step[1]].to_dict()
            changed = stored.merge(state)
            before = local.to_dict()
            local.merge(peers[step[1]])
            assert changed == (local.to_dict() != before)
        else:
            peers[step[1]].merge(stored.state())
        assert observe(stored) == observe(local)
        assert stored.to_dict() == local.to_dict()


FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@settings(max_examples=60, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_on_fakeredis_like_its_pure_twin(spec: Spec, data: Any) -> None:
    run_history(lambda: fakeredis.FakeRedis(decode_responses=True), spec, data)


@pytest.mark.parametrize("spec", SPECS, ids=str)
@settings(max_examples=10, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_on_real_servers_like_its_pure_twin(server_backend: Backend, spec: Spec, data: Any) -> None:
    run_history(server_backend, spec, data)
