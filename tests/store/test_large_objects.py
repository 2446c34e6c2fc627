"""A large peer object is merged in bounded pieces: no script holds the local Redis long.

Each piece is one script call of at most ``FIELD_BUDGET`` fields, sent in its
type's order, and the object is a valid state after every piece.
"""

from __future__ import annotations

from typing import Any

import pytest

from crdtredis.crdt import ORSet, PNCounter, Sequence
from crdtredis.store import RegionStore
from crdtredis.store.batch import FIELD_BUDGET
from tests.support import servers_of


def merge_calls(client: Any) -> int:
    """Script calls every server behind ``client`` has run."""
    total = 0
    for server in servers_of(client):
        stats = server.info("commandstats")
        total += sum(
            int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("evalsha", "eval")
        )
    return total


def big_orset(elements: int) -> ORSet:
    peer = ORSet("us.x1")
    for i in range(elements):
        peer.add(f"e{i}")
    for i in range(0, elements, 3):
        peer.remove(f"e{i}")
    return peer


def big_log(operations: int) -> Sequence:
    peer = Sequence("us.x1")
    for i in range(operations):
        peer.insert((i * 7) % (len(peer) + 1), f"v{i}")
    for i in range(0, operations // 2, 5):
        peer.remove(i)
    return peer


def big_counter(replicas: int) -> PNCounter:
    peer = PNCounter("us.x1")
    peer.p.slots = {f"r{i}.x": i + 1 for i in range(replicas)}
    return peer


@pytest.mark.integration
@pytest.mark.parametrize(
    ("kind", "make", "size"),
    [("orset", big_orset, 6_000), ("sequence", big_log, 5_000), ("counter", big_counter, 5_000)],
)
def test_a_large_object_merges_in_bounded_calls_to_the_pure_result(
    server_backend: Any, kind: str, make: Any, size: int
) -> None:
    client = server_backend()
    region = RegionStore("eu", client)
    handle = region.handle(make(1).type_name, "big")
    peer = make(size)
    fields = len(peer.to_dict()["ops"] if kind == "sequence" else []) or size
    before = merge_calls(client)
    report = region.merge_many({"big": peer.to_dict()})
    assert report.changed == ["big"]
    assert merge_calls(client) - before >= fields // FIELD_BUDGET  # one call per piece
    expected = make(1)
    expected.merge(peer)
    assert handle.to_dict() == expected.to_dict()
    assert region.merge_many({"big": peer.to_dict()}).unchanged == ["big"]


def test_pieces_keep_an_or_set_elements_tags_together() -> None:
    from crdtredis.store.types.orset import ORSET

    fields = ORSET.encode(big_orset(3_000).to_dict())
    pieces = ORSET.pieces(fields, 100)
    assert sorted(f for piece in pieces for f in piece) == sorted(fields)
    seen: dict[str, int] = {}
    for number, piece in enumerate(pieces):
        for f, _ in piece:
            assert seen.setdefault(f[1:], number) == number  # '.e' and '~e' in one piece


def test_pieces_of_a_log_refer_only_to_what_came_before() -> None:
    from crdtredis.store.types.sequence import SEQUENCE

    fields = SEQUENCE.encode(big_log(2_000).to_dict())
    merged: list[tuple[str, str]] = []
    for piece in SEQUENCE.pieces(fields, 150):
        merged.extend(piece)
        state = SEQUENCE.decode(merged)
        Sequence.from_dict(state, "check")  # raises if a reference does not resolve
