"""Random histories on 3 to 7 replicas, gossiped in random order, converge.

This is the seeds' cluster simulation generalised to every type: after every
step each replica shows what the model says for the operations it knows, and
after a final gossip round in random order all replicas hold one state whose
value is the model's value for all operations.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.crdt_specs import SPECS, History, Spec, steps

pytestmark = pytest.mark.parametrize("spec", SPECS, ids=str)


@settings(max_examples=150)
@given(data=st.data())
def test_random_gossip_converges_to_the_model(spec: Spec, data: Any) -> None:
    count = data.draw(st.integers(min_value=3, max_value=7), label="replicas")
    history = History.start(spec, count)
    for step in data.draw(steps(spec, count, max_size=60), label="steps"):
        history.step(step)
        touched = step[1]
        assert spec.observe(history.replicas[touched]) == history.expected(touched)

    order = data.draw(st.permutations(range(count)), label="gossip order")
    for i in order:
        for j in order:
            history.step(("sync", i, j))
    for i in reversed(order):
        history.step(("sync", order[0], i))
    for i in order:
        history.step(("sync", i, order[0]))

    first = history.replicas[0]
    assert all(r == first for r in history.replicas)
    assert all(r.to_dict() == first.to_dict() for r in history.replicas)
    assert spec.observe(first) == spec.model(history.events)
