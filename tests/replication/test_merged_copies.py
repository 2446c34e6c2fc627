"""A peer's cursor copy counts for collection only once this region has pulled the
peer past the heads read with it (see crdtredis/replication/frontier.py)."""

from __future__ import annotations

import fakeredis

from crdtredis.replication import frontier
from crdtredis.replication.cursor import Cursor
from crdtredis.replication.peer import PeerHeads
from crdtredis.store.region import RegionStore

PEER_INC = "usinc"


def region() -> RegionStore:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    return RegionStore("eu", client)


def read(eu: RegionStore, merged: int, head: int, local: str = PEER_INC) -> PeerHeads:
    """What a pass from us reads: us's cursor on eu (at ``merged``) and us's heads."""
    theirs = Cursor("eu", eu.incarnation, [merged] * eu.layout.shards, local)
    return PeerHeads([head] * 4, {}, theirs, [0] * 4)


def pull(eu: RegionStore, to: int, local: str | None = None) -> None:
    """eu's cursor on us (4 shards) moves to ``to`` everywhere."""
    cursor = Cursor("us", PEER_INC, [0] * 4, local or eu.incarnation)
    cursor.advance(eu, dict.fromkeys(range(4), to))


def merged(eu: RegionStore) -> int | None:
    versions = frontier.merged_by(eu, "us")
    return None if versions is None else max(versions)


def test_a_copy_counts_once_this_region_pulled_past_the_heads_read_with_it() -> None:
    eu = region()
    frontier.remember(eu, "us", read(eu, merged=5, head=7), PEER_INC)
    assert merged(eu) is None
    assert frontier.merged_by(eu, "us", covered=False) == [5] * eu.layout.shards
    pull(eu, 6)
    assert merged(eu) is None
    pull(eu, 7)
    assert merged(eu) == 5


def test_later_copies_wait_until_the_pending_one_is_covered() -> None:
    eu = region()
    frontier.remember(eu, "us", read(eu, merged=5, head=7), PEER_INC)
    frontier.remember(eu, "us", read(eu, merged=6, head=9), PEER_INC)  # dropped
    pull(eu, 9)
    assert merged(eu) == 5
    frontier.remember(eu, "us", read(eu, merged=8, head=12), PEER_INC)  # 5 is confirmed
    assert merged(eu) == 5
    pull(eu, 12)
    assert merged(eu) == 8


def test_a_cursor_that_went_back_forgets_every_copy_above_it() -> None:
    eu = region()
    frontier.remember(eu, "us", read(eu, merged=5, head=7), PEER_INC)
    pull(eu, 7)
    frontier.remember(eu, "us", read(eu, merged=6, head=9), PEER_INC)
    assert merged(eu) == 5
    frontier.remember(eu, "us", read(eu, merged=2, head=9), PEER_INC)  # us started over
    assert merged(eu) is None
    pull(eu, 9)
    assert merged(eu) == 2


def test_heads_that_went_back_replace_a_copy_they_could_never_cover() -> None:
    eu = region()
    frontier.remember(eu, "us", read(eu, merged=5, head=9), PEER_INC)
    frontier.remember(eu, "us", read(eu, merged=6, head=3), PEER_INC)
    pull(eu, 3)
    assert merged(eu) == 6


def test_a_cursor_written_in_an_older_incarnation_of_this_region_covers_nothing() -> None:
    eu = region()
    frontier.remember(eu, "us", read(eu, merged=5, head=7), PEER_INC)
    pull(eu, 7, local="before-a-wipe")
    assert merged(eu) is None


def test_a_peer_that_lost_data_since_it_wrote_its_cursor_is_forgotten() -> None:
    eu = region()
    frontier.remember(eu, "us", read(eu, merged=5, head=7), PEER_INC)
    pull(eu, 7)
    assert merged(eu) == 5
    frontier.remember(eu, "us", read(eu, merged=5, head=7, local="old-us"), PEER_INC)
    assert merged(eu) is None and not eu.client.exists(eu.layout.merged_key("us"))
