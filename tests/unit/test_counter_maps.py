"""The pure counter map: per-field counts, top() order, field deletes keep concurrent counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crdtredis.crdt import CounterMap


def test_fields_count_up_and_down_and_zero_is_not_listed() -> None:
    views = CounterMap("eu")
    views.incr("/pricing", 3)
    views.incr("/", 5)
    views.decr("/pricing", 3)
    views.decr("/old")
    assert views.get("/") == 5 and views.get("/pricing") == 0 and views.get("/never") == 0
    assert views.items() == {"/": 5, "/old": -1}
    assert len(views) == 2 and views.total() == 4


def test_top_orders_by_count_then_field_name() -> None:
    views = CounterMap("eu")
    for field, n in [("/b", 2), ("/a", 2), ("/c", 7), ("/d", 1)]:
        views.incr(field, n)
    assert views.top(3) == [("/c", 7), ("/a", 2), ("/b", 2)]
    assert views.top(0) == [] and views.top(10)[-1] == ("/d", 1)
    with pytest.raises(ValueError, match="count >= 0"):
        views.top(-1)


def test_a_field_delete_keeps_what_another_replica_counted_concurrently() -> None:
    eu, us = CounterMap("eu"), CounterMap("us")
    eu.incr("/", 4)
    us.merge(eu)
    us.incr("/", 1)
    eu.delete_field("/")
    eu.merge(us)
    us.merge(eu)
    assert eu.items() == us.items() == {"/": 1}


@pytest.mark.parametrize("field", ["", "x" * 1025, 7])
def test_bad_field_names_are_refused(field: object) -> None:
    with pytest.raises(ValueError, match="field"):
        CounterMap("eu").incr(field)  # type: ignore[arg-type]


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(-50, 50)), st.integers(0, 8))
def test_top_is_a_sort_of_items(counts: dict[str, int], n: int) -> None:
    views = CounterMap("eu")
    for field, count in counts.items():
        (views.incr if count >= 0 else views.decr)(field, abs(count))
    expected = sorted(((f, c) for f, c in counts.items() if c), key=lambda i: (-i[1], i[0]))
    assert views.top(n) == expected[:n]
