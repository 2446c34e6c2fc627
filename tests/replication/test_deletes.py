"""A delete removes what its region observed, and nothing else, in every region alike.

Concurrent writes in another region (an increment, an add, an append not yet
pulled by the deleting region) survive the merge: add wins. Random
interleavings of deletes and writes against the pure model are in
``test_convergence.py``.
"""

from __future__ import annotations

import pytest

from tests.regions import converge
from tests.replication.conftest import Regions

pytestmark = pytest.mark.integration


def test_a_counter_delete_keeps_only_the_increments_it_did_not_observe(regions: Regions) -> None:
    eu, us, ap = live = regions.all()
    eu.counter("c").incr(5)
    us.counter("c").incr(7)
    ap.counter("c").decr(2)
    converge(live)
    assert eu.delete("c") == 1
    assert eu.counter("c").value() == 0 and not eu.counter("c").exists()
    us.counter("c").incr(4)  # concurrent: us has not seen the delete
    converge(live)
    assert [r.counter("c").value() for r in live] == [4, 4, 4]
    assert eu.counter("c").incr(2) == 6  # counting goes on from there
    converge(live)
    assert [r.counter("c").value() for r in live] == [6, 6, 6]


def test_a_counter_deleted_in_two_regions_at_once_keeps_what_neither_saw(
    regions: Regions,
) -> None:
    eu, us, ap = live = regions.all()
    for region in live:
        region.counter("c").incr(10)
    converge(live)
    eu.counter("c").delete()
    us.counter("c").delete()
    ap.counter("c").incr(1)
    converge(live)
    assert [r.counter("c").value() for r in live] == [1, 1, 1]


def test_an_orset_delete_keeps_concurrent_adds(regions: Regions) -> None:
    eu, us, _ap = live = regions.all()
    eu.orset("s").add("a")
    eu.orset("s").add("b")
    converge(live)
    assert eu.orset("s").delete()
    assert not eu.orset("s").exists()
    us.orset("s").add("c")
    us.orset("s").add("a")  # a new tag for a: unseen by the delete
    converge(live)
    assert [r.orset("s").members() for r in live] == [{"a", "c"}] * 3


def test_a_log_delete_keeps_concurrent_appends(regions: Regions) -> None:
    eu, us, _ap = live = regions.all()
    eu.sequence("log").append("e1")
    eu.sequence("log").append("e2")
    converge(live)
    assert eu.sequence("log").delete()
    assert eu.sequence("log").to_list() == []
    us.sequence("log").append("e3")
    converge(live)
    assert [r.sequence("log").to_list() for r in live] == [["e3"]] * 3


def test_a_two_phase_set_delete_removes_its_members_for_good(regions: Regions) -> None:
    eu, us, _ap = live = regions.all()
    eu.twophase_set("t").add("a")
    converge(live)
    assert eu.delete("t") == 1
    us.twophase_set("t").add("b")
    converge(live)
    assert [r.twophase_set("t").members() for r in live] == [{"b"}] * 3
    with pytest.raises(ValueError, match="cannot be re-added"):
        eu.twophase_set("t").add("a")


def test_a_grow_only_set_refuses_delete_and_stays_as_it_was(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.gset("g").add("a")
    before = eu.client.hgetall(eu.layout.data_key("g"))
    with pytest.raises(ValueError, match="only grows and cannot be deleted"):
        eu.delete("g")
    assert eu.client.hgetall(eu.layout.data_key("g")) == before


def test_deleting_a_missing_or_deleted_key_writes_nothing(regions: Regions) -> None:
    eu = regions.open("eu")
    eu.counter("c").incr()
    assert eu.delete("c") == 1
    heads = eu.head_versions()
    assert eu.delete("c", "never-written") == 0
    assert eu.head_versions() == heads
    assert eu.type_of("never-written") is None
