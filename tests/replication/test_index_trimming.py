"""A change index holds only what some peer still needs; whoever needs more resyncs by scan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from crdtredis.embedded import RedisServer
from crdtredis.replication import Region
from crdtredis.replication.peer import PeerIncarnation
from tests.regions import NAMES, converge
from tests.replication.conftest import Regions

pytestmark = pytest.mark.integration


def indexed(region: Region) -> int:
    """Entries in all of the region's change indexes."""
    layout = region.layout
    return sum(region.client.zcard(layout.changes_key(s)) for s in range(layout.shards))


def collect_at_every_pass(regions: list[Region]) -> None:
    for region in regions:
        region.syncer.collector.every = 0


def passes(regions: list[Region], rounds: int = 1) -> None:
    for _ in range(rounds):
        for region in regions:
            for report in region.sync():
                assert report.ok, report.summary()


def test_the_index_keeps_what_a_stopped_peer_lacks_until_it_is_back(regions: Regions) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    for i in range(40):
        eu.counter(f"views:{i}").incr()
    converge(live, rounds=4)
    assert [indexed(r) for r in live] == [0, 0, 0]  # every peer pulled everything
    for i in range(10):  # ap's worker is stopped while these happen
        eu.counter(f"views:{i}").incr(2)
        us.counter(f"likes:{i}").incr(3)
    passes([eu, us], rounds=3)
    # Each region's own ten and the ten it merged from the other: ap lacks all of them.
    assert indexed(eu) == indexed(us) == 20
    converge(live, rounds=4)  # ap is back
    for region in live:
        assert [region.counter(f"views:{i}").value() for i in range(10)] == [3] * 10
        assert [region.counter(f"likes:{i}").value() for i in range(10)] == [3] * 10
    assert [indexed(r) for r in live] == [0, 0, 0]
    assert not any(r.full_resync for r in ap.sync())  # its cursors were never below a trim


def test_a_region_added_later_gets_everything_by_a_full_resync(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    collect_at_every_pass([eu, us])
    for i in range(30):
        eu.counter(f"c:{i}").incr(i + 1)
        us.orset(f"s:{i % 3}").add(f"m{i}")
    eu.sequence("log").append("first")
    us.counter("c:0").incr(100)
    converge([eu, us], rounds=4)
    eu.delete("c:1")
    us.orset("s:0").remove("m0")
    converge([eu, us], rounds=4)
    assert indexed(eu) == indexed(us) == 1  # only the log's entry, its version, is left
    ap = regions.open("ap")
    reports = ap.sync()
    assert all(r.ok and r.full_resync for r in reports), [r.summary() for r in reports]
    everything = sorted(eu.names())
    assert sorted(ap.names()) == everything
    for name in everything:
        assert ap.export(name) == eu.export(name), name
    assert ap.counter("c:0").value() == 101
    assert ap.counter("c:1").value() == 0
    assert ap.orset("s:0").members() == {"m3", "m6", "m9", "m12", "m15", "m18", "m21", "m24", "m27"}
    assert ap.sequence("log").to_list() == ["first"]
    assert not any(r.full_resync for r in ap.sync())  # caught up: back on the index


def test_a_region_that_lost_its_cursor_resyncs_the_trimmed_shards(regions: Regions) -> None:
    live = regions.all()
    eu, us, ap = live
    collect_at_every_pass(live)
    for i in range(20):
        eu.counter(f"n:{i}").incr(5)
    converge(live, rounds=4)
    assert indexed(eu) == 0
    us.client.delete(us.layout.cursor_key("eu"))
    us.client.delete(*(us.layout.data_key(n) for n in us.names()))  # a partial loss
    (report,) = [r for r in us.sync() if r.peer == "eu"]
    assert report.ok and report.full_resync, report.summary()
    assert [us.counter(f"n:{i}").value() for i in range(20)] == [5] * 20


# -- a property test: random writes, passes, trims (also in the middle of passes) ------


class TrimmedIndexesLoseNothing(RuleBasedStateMachine):
    """Counters in three regions against a model of every acknowledged increment.

    Regions trim at random, also between the pages of a pass that pulls
    from them, and lose cursors. A fourth region, ``ca``, pulls from the
    three but none of them lists it as a peer: their trims never wait for it,
    so it must resync by scan. The model is what every region, ``ca``
    included, must show once everything converged.
    """

    servers: dict[str, RedisServer]

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, int] = {}
        self.live: dict[str, Region] = {}

    @initialize()
    def open_regions(self) -> None:
        for server in self.servers.values():
            server.client().flushall()
        for name in NAMES:
            self.live[name] = Region(
                name,
                self.servers[name].url,
                peers={p: self.servers[p].url for p in NAMES if p != name},
                sync_batch=2,  # many pages per pass: trims fall between them
            )
            self.live[name].syncer.collector.every = 0
        self.live["ca"] = Region(
            "ca",
            self.servers["ca"].url,
            peers={"eu": self.servers["eu"].url},  # no relay to fill the gaps
            sync_batch=2,
        )

    @rule(region=st.sampled_from(NAMES), key=st.integers(0, 7), amount=st.integers(-3, 5))
    def write(self, region: str, key: int, amount: int) -> None:
        counter = self.live[region].counter(f"k{key}")
        counter.incr(amount) if amount >= 0 else counter.decr(-amount)
        self.model[f"k{key}"] = self.model.get(f"k{key}", 0) + amount

    @rule(puller=st.sampled_from((*NAMES, "ca")), source=st.sampled_from(NAMES), trim=st.booleans())
    def sync(self, puller: str, source: str, trim: bool) -> None:
        if puller == source or source not in self.live[puller].syncer.peers:
            return
        trims = self.live[source].syncer.collector.collect if trim else None
        with trimming_between_pages(trims):
            report = self.live[puller].syncer.sync_peer(source)
        assert report.ok, report.summary()

    @rule(region=st.sampled_from(NAMES))
    def trim(self, region: str) -> None:
        self.live[region].syncer.collector.collect()

    @rule(puller=st.sampled_from((*NAMES, "ca")), source=st.sampled_from(NAMES))
    def lose_cursor(self, puller: str, source: str) -> None:  # a no-op for ca's non-peers
        region = self.live[puller]
        region.client.delete(region.layout.cursor_key(source))

    @invariant()
    def nothing_counted_twice_or_invented(self) -> None:
        for region in self.live.values():
            for name in region.names():
                assert name in self.model

    def teardown(self) -> None:
        if not self.live:
            return
        regions = list(self.live.values())
        converge(regions, rounds=3)
        for region in regions:
            assert {k: region.counter(k).value() for k in self.model} == self.model


class trimming_between_pages:  # noqa: N801 - a context manager used like a function
    """While active, every page a pass reads from a peer first lets the peer trim."""

    def __init__(self, trim: Callable[[], Any] | None) -> None:
        self.trim = trim
        self.original = PeerIncarnation.read_page

    def __enter__(self) -> None:
        if self.trim is None:
            return
        original, trim = self.original, self.trim

        def read_page(source: PeerIncarnation, names: Any) -> Any:
            trim()
            return original(source, names)

        setattr(PeerIncarnation, "read_page", read_page)  # noqa: B010 - mypy refuses to assign a method

    def __exit__(self, *exc: object) -> None:
        setattr(PeerIncarnation, "read_page", self.original)  # noqa: B010


def test_trimmed_indexes_lose_no_increment(regions: Regions) -> None:
    with RedisServer() as late:
        TrimmedIndexesLoseNothing.servers = {**regions.servers, "ca": late}
        run_trimming_machine()


def run_trimming_machine() -> None:
    run_state_machine_as_test(
        TrimmedIndexesLoseNothing,
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_a_trim_in_the_middle_of_a_pass_costs_a_resync_not_changes(regions: Regions) -> None:
    """ap pulls from eu, which does not wait for it: eu trims while ap reads pages."""
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    ap = regions.open("ap", ("eu",), sync_batch=10)
    collect_at_every_pass([eu, us])
    for i in range(10):
        eu.counter(f"k{i}").incr()
    passes([us, eu], rounds=2)
    passes([ap])
    for i in range(10, 400):  # a backlog of several pages per shard for ap
        eu.counter(f"k{i}").incr()
    pages = 0

    def between_pages() -> None:
        nonlocal pages
        pages += 1
        if pages == 2:  # us pulls, eu trims past ap's cursor, and one more change comes
            passes([us, eu])
            eu.counter("late").incr()

    with trimming_between_pages(between_pages):
        passes([ap])
    assert pages > 2  # the trim did fall between two pages
    passes([ap], rounds=2)
    missing = [i for i in range(400) if ap.counter(f"k{i}").value() != 1]
    assert missing == [] and ap.counter("late").value() == 1
