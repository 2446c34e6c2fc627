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


def timed(*ops: tuple[str, str, str, int | str, str, float, float, str]) -> History:
    found = History()
    for region, kind, key, value, outcome, began, ended, field in ops:
        found.record(Op(region, kind, key, value, outcome, began, ended, field))
    return found


def test_a_delete_resets_what_its_region_had_and_keeps_what_came_after() -> None:
    done = timed(
        ("eu", "incr", "c0", 5, OK, 0.0, 0.5, ""),
        ("eu", "delete", "c0", 0, OK, 1.0, 1.5, ""),
        ("eu", "incr", "c0", 3, OK, 2.0, 2.5, ""),
    )
    assert check(done, both({"c0": 3})).ok
    assert not check(done, both({"c0": 8})).ok  # the delete took nothing
    assert not check(done, both({"c0": 0})).ok  # the delete took what came after it


def test_an_increment_concurrent_with_a_delete_elsewhere_may_go_either_way() -> None:
    done = timed(
        ("us", "incr", "c0", 2, OK, 0.9, 1.2, ""),
        ("eu", "delete", "c0", 0, OK, 1.0, 1.5, ""),
    )
    assert check(done, both({"c0": 0})).ok and check(done, both({"c0": 2})).ok
    assert not check(done, both({"c0": 3})).ok


def test_counter_map_fields_count_alone_and_a_whole_map_delete_resets_each() -> None:
    done = timed(
        ("eu", "incr", "m0", 4, OK, 0.0, 0.5, "/a"),
        ("eu", "incr", "m0", 6, OK, 0.0, 0.5, "/b"),
        ("eu", "delete", "m0", 0, OK, 1.0, 1.5, "/a"),
        ("us", "incr", "m0", 1, OK, 2.0, 2.5, "/a"),
    )
    assert check(done, both({"m0": {"/a": 1, "/b": 6}})).ok
    assert not check(done, both({"m0": {"/a": 5, "/b": 6}})).ok
    assert not check(done, both({"m0": {"/a": 1}})).ok  # /b lost
    whole = timed(
        ("eu", "incr", "m0", 4, OK, 0.0, 0.5, "/a"),
        ("eu", "delete", "m0", 0, OK, 1.0, 1.5, ""),
    )
    assert check(whole, both({"m0": {}})).ok and not check(whole, both({"m0": {"/a": 4}})).ok


def test_a_key_whose_expiry_passed_must_be_gone_unless_the_expiry_failed() -> None:
    expired = timed(
        ("eu", "incr", "x-eu-1", 3, OK, 0.0, 0.5, ""),
        ("eu", "expire", "x-eu-1", "0.5", OK, 0.6, 0.7, ""),
    )
    assert check(expired, both({"x-eu-1": None})).ok
    verdict = check(expired, both({"x-eu-1": 3}))
    assert not verdict.ok and "after its expiry passed" in verdict.problems[0]
    refused = timed(
        ("eu", "incr", "x-eu-1", 3, OK, 0.0, 0.5, ""),
        ("eu", "expire", "x-eu-1", "0.5", FAILED, 0.6, 0.7, ""),
    )
    assert check(refused, both({"x-eu-1": 3})).ok
    assert not check(refused, both({"x-eu-1": None})).ok


def test_an_increment_its_region_lost_to_a_wipe_before_deleting_may_come_back() -> None:
    # eu counts 5, a peer merges it, eu is wiped, then eu deletes a key it no longer
    # holds: the 5 lives on at the peer and comes back; nothing was lost or invented.
    done = timed(
        ("eu", "incr", "c0", 5, OK, 0.0, 0.5, ""),
        ("eu", "delete", "c0", 0, OK, 2.0, 2.5, ""),
    )
    done.wiped("eu", 1.0, 1.1)
    assert check(done, both({"c0": 5})).ok and check(done, both({"c0": 0})).ok


def test_a_delete_of_unknown_outcome_may_take_effect_after_it_returned() -> None:
    done = timed(
        ("eu", "delete", "c0", 0, UNKNOWN, 0.0, 1.0, ""),
        ("us", "incr", "c0", 4, OK, 2.0, 2.5, ""),  # a frozen Redis may run the delete now
    )
    assert check(done, both({"c0": 0})).ok and check(done, both({"c0": 4})).ok
    later = timed(
        ("eu", "delete", "c0", 0, UNKNOWN, 0.0, 1.0, ""),
        ("us", "incr", "c0", 4, OK, 10.0, 10.5, ""),
    )
    assert not check(later, both({"c0": 0})).ok
