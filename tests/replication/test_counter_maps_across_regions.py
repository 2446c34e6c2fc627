"""Counter maps converge field by field across regions, with the same top fields everywhere,
and a field delete keeps the views another region counted concurrently."""

from __future__ import annotations

import random

import pytest

from crdtredis.crdt import CounterMap
from tests.regions import converge
from tests.replication.conftest import Regions

pytestmark = pytest.mark.integration


def test_random_page_views_in_three_regions_rank_the_same_everywhere(regions: Regions) -> None:
    live = regions.all()
    rng = random.Random(7)
    expected: dict[str, int] = {}
    for round_ in range(4):
        for region in live:
            batch = {f"/p{rng.randrange(40)}": rng.randrange(1, 5) for _ in range(25)}
            region.incr_fields({"views:today": batch})
            for field, n in batch.items():
                expected[field] = expected.get(field, 0) + n
        if round_ % 2:
            converge(live)
    converge(live)
    ranked = sorted(expected.items(), key=lambda item: (-item[1], item[0]))
    for region in live:
        views = region.counter_map("views:today")
        assert views.items() == dict(sorted(expected.items()))
        assert views.top(10) == ranked[:10]
        assert views.total() == sum(expected.values()) and len(views) == len(expected)


def test_a_field_delete_keeps_what_another_region_counted_meanwhile(regions: Regions) -> None:
    eu, us, ap = live = regions.all()
    eu.counter_map("views").incr("/", 5)
    ap.counter_map("views").incr("/docs", 2)
    converge(live)
    assert eu.counter_map("views").delete_field("/")
    us.counter_map("views").incr("/", 3)  # us has not seen the delete
    converge(live)
    model = CounterMap("m")
    model.incr("/", 3)
    model.incr("/docs", 2)
    for region in live:
        views = region.counter_map("views")
        assert views.items() == model.items() and views.top(5) == model.top(5)
