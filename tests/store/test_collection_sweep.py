"""A collection sweep trims every index entry every peer has pulled, whatever it meets."""

from __future__ import annotations

from typing import Any

from crdtredis.replication.collection import Collector
from crdtredis.store import RegionStore


def every_peer_pulled_everything(region: RegionStore, client: Any) -> None:
    layout = region.layout
    everything = {str(s): 10**9 for s in range(layout.shards)}
    client.hset(
        layout.merged_key("us"),
        mapping={"inc": region.incarnation, "shards": layout.shards, **everything},
    )


def indexed(region: RegionStore, client: Any) -> int:
    return sum(client.zcard(region.layout.changes_key(s)) for s in range(region.layout.shards))


def test_a_key_of_another_kind_under_a_name_stops_no_sweep(client: Any) -> None:
    region = RegionStore("eu", client, shards=1)
    for i in range(40):
        region.counter(f"c{i}").incr()
    client.delete(region.layout.data_key("c3"))
    client.set(region.layout.data_key("c3"), "someone else's string")
    every_peer_pulled_everything(region, client)
    Collector(region, ["us"]).collect()
    assert indexed(region, client) == 0
    assert client.get(region.layout.data_key("c3")) == "someone else's string"
