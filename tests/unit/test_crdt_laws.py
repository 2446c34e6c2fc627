"""Semilattice laws and state round trips, for every pure type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.crdt_specs import SPECS, Spec, clone, replica_states

pytestmark = pytest.mark.parametrize("spec", SPECS, ids=str)


@given(data=st.data())
def test_merge_is_commutative(spec: Spec, data: Any) -> None:
    a, b, _ = data.draw(replica_states(spec))
    assert clone(a).merge(b) == clone(b).merge(a)


@given(data=st.data())
def test_merge_is_associative(spec: Spec, data: Any) -> None:
    a, b, c = data.draw(replica_states(spec))
    assert clone(a).merge(b).merge(c) == clone(a).merge(clone(b).merge(c))


@given(data=st.data())
def test_merge_is_idempotent(spec: Spec, data: Any) -> None:
    a, b, _ = data.draw(replica_states(spec))
    assert clone(a).merge(a) == a
    once = clone(a).merge(b)
    assert clone(once).merge(b) == once


@given(data=st.data())
def test_merge_is_an_upper_bound(spec: Spec, data: Any) -> None:
    a, b, _ = data.draw(replica_states(spec))
    joined = clone(a).merge(b)
    assert a.compare(joined)
    assert b.compare(joined)
    assert a.compare(a)


@given(data=st.data())
def test_compare_is_a_partial_order(spec: Spec, data: Any) -> None:
    a, b, _ = data.draw(replica_states(spec))
    if a.compare(b) and b.compare(a):
        assert a == b
    if not a.compare(b):
        assert clone(a).merge(b) != b


@given(data=st.data())
def test_state_round_trips_through_json(spec: Spec, data: Any) -> None:
    a, _, _ = data.draw(replica_states(spec))
    state = a.to_dict()
    again = type(a).from_dict(json.loads(json.dumps(state)), "other")
    assert again == a
    assert again.to_dict() == state
    assert again.replica == "other"


def test_merge_refuses_another_type(spec: Spec) -> None:
    other = SPECS[(SPECS.index(spec) + 1) % len(SPECS)]
    with pytest.raises(TypeError, match="cannot combine"):
        spec.cls("a").merge(other.cls("b"))


@settings(max_examples=50)
@given(data=st.data())
def test_merge_does_not_change_the_argument(spec: Spec, data: Any) -> None:
    a, b, _ = data.draw(replica_states(spec))
    before = b.to_dict()
    clone(a).merge(b)
    assert b.to_dict() == before
