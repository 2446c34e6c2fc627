"""Garbage into ``from_dict``: a ``ValueError``, or an accepted state that round-trips.

Random JSON never names a type with its fields (keys of four characters at
most), so it is always rejected. Random fields under the right type name, and
valid states with one part replaced, are sometimes valid; those must give an
object whose state is JSON and reads back as an equal object.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crdtredis.crdt import TYPES
from tests.unit.crdt_specs import SPECS, Spec, replica_states

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def rejected_or_round_trips(cls: type[Any], data: dict[str, Any]) -> None:
    """``data`` raises ``ValueError``, or gives a state of its own fields that reads back equal."""
    try:
        crdt = cls.from_dict(data, "fuzz")
    except ValueError:
        return
    state = crdt.to_dict()
    assert set(state) == set(data)  # accepted: exactly the type's fields
    assert json.loads(json.dumps(state, allow_nan=False)) == state
    again = cls.from_dict(state, "fuzz")
    assert again == crdt
    assert again.to_dict() == state


@pytest.mark.parametrize("cls", list(TYPES.values()), ids=list(TYPES))
@given(data=JSON)
def test_random_json_is_rejected_with_value_error(cls: type[Any], data: object) -> None:
    with pytest.raises(ValueError):
        cls.from_dict(data, "fuzz")


@pytest.mark.parametrize("cls", list(TYPES.values()), ids=list(TYPES))
@given(fields=st.dictionaries(st.text(max_size=8), JSON, max_size=4))
def test_random_fields_under_the_right_type_are_rejected_or_round_trip(
    cls: type[Any], fields: dict[str, Any]
) -> None:
    rejected_or_round_trips(cls, {**fields, "type": cls.type_name})


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*path, i))
    return found


@pytest.mark.parametrize("spec", SPECS, ids=str)
@given(data=st.data())
def test_valid_state_with_one_part_replaced_is_rejected_or_round_trips(
    spec: Spec, data: Any
) -> None:
    state = data.draw(replica_states(spec, count=2))[0].to_dict()
    path = data.draw(st.sampled_from(_paths(state)[1:]))
    garbage = data.draw(JSON)
    node = state
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = garbage
    rejected_or_round_trips(spec.cls, state)
