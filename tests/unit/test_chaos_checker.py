"""The chaos checker's rules: what it must catch, and what it must let pass, given a
history of acknowledged operations and the regions' final values."""

from __future__ import annotations

from crdtredis.chaos.checker import check
from crdtredis.chaos.history import FAILED, OK, UNKNOWN, History, Op
from crdtredis.chaos.run import ACTIONS
from crdtredis.chaos.schedule import FAULTS, plan


def history(
    *ops: tuple[str, str, str, str | int, str], wipes: tuple[str, float] | None = None
) -> History:
    found = History()
    for at, (region, kind, key, value, outcome) in enumerate(ops):
        found.record(Op(region, kind, key, value, outcome, float(at), float(at) + 0.5))
    if wipes:
        found.wiped(wipes[0], wipes[1], wipes[1] + 0.1)
    return found


def both(values: dict[str, object]) -> dict[str, dict[str, object]]:
    return {"eu": values, "us": dict(values)}


def test_a_counter_equal_to_its_acknowledged_operations_passes() -> None:
    done = history(("eu", "incr", "c0", 5, OK), ("us", "decr", "c0", 2, OK))
    assert check(done, both({"c0": 3})).ok


def test_a_lost_increment_is_caught() -> None:
    done = history(("eu", "incr", "c0", 5, OK), ("us", "incr", "c0", 2, OK))
    verdict = check(done, both({"c0": 5}))
    assert not verdict.ok and "c0" in verdict.problems[0]


def test_an_unknown_outcome_may_or_may_not_count() -> None:
    done = history(("eu", "incr", "c0", 5, OK), ("us", "incr", "c0", 2, UNKNOWN))
    assert check(done, both({"c0": 5})).ok and check(done, both({"c0": 7})).ok
    assert not check(done, both({"c0": 8})).ok


def test_a_failed_write_must_not_count() -> None:
    done = history(("eu", "incr", "c0", 5, OK), ("eu", "incr", "c0", 2, FAILED))
    assert not check(done, both({"c0": 7})).ok


def test_writes_of_a_region_wiped_later_are_reported_apart_not_failed() -> None:
    done = history(("eu", "incr", "c0", 5, OK), ("us", "incr", "c0", 2, OK), wipes=("eu", 9.0))
    verdict = check(done, both({"c0": 2}))
    assert verdict.ok and verdict.at_risk == 1 and verdict.lost_with_wipes == 1


def test_regions_that_disagree_are_caught() -> None:
    done = history(("eu", "incr", "c0", 5, OK))
    verdict = check(done, {"eu": {"c0": 5}, "us": {"c0": 0}})
    assert not verdict.ok and "disagree" in verdict.problems[0]


def test_set_elements_missing_removed_or_invented_are_caught() -> None:
    done = history(
        ("eu", "add", "s0", "eu-1", OK),
        ("eu", "add", "s0", "eu-2", OK),
        ("eu", "remove", "s0", "eu-2", OK),
    )
    assert check(done, both({"s0": ["eu-1"]})).ok
    assert not check(done, both({"s0": []})).ok  # acknowledged add lost
    assert not check(done, both({"s0": ["eu-1", "eu-2"]})).ok  # removal undone
    assert not check(done, both({"s0": ["eu-1", "ghost"]})).ok  # never written


def test_a_log_entry_twice_or_missing_is_caught() -> None:
    done = history(("eu", "append", "log0", "eu-1", OK), ("us", "append", "log0", "us-1", OK))
    assert check(done, both({"log0": ["eu-1", "us-1"]})).ok
    assert not check(done, both({"log0": ["eu-1", "us-1", "us-1"]})).ok
    assert not check(done, both({"log0": ["us-1"]})).ok


def test_a_seed_replays_the_same_schedule() -> None:
    regions = ["eu", "us", "ap"]
    assert plan(7, 60, regions) == plan(7, 60, regions)
    assert plan(7, 60, regions) != plan(8, 60, regions)
    faults = plan(7, 600, regions)
    assert all(f.at < 480 for f in faults)  # the last fifth is left for the heal
    assert sum(f.kind == "wipe" for f in faults) <= 1


def test_every_kind_of_fault_the_schedule_draws_can_be_injected() -> None:
    assert set(ACTIONS) == set(FAULTS)
