"""What ``crdtredis inspect`` and ``crdtredis status`` show, as plain data.

The CLI only renders these dictionaries (a table, or JSON); their shape is the
documented JSON schema of ``inspect --json`` and ``status --json``.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from crdtredis.crdt import COUNTER_TYPES, counter_value
from crdtredis.crdt.divergence import missing
from crdtredis.crdt.interface import StateDict
from crdtredis.replication import stats
from crdtredis.replication.peer import Peer
from crdtredis.replication.region import Region
from crdtredis.store import codec

#: Sequence items shown by inspect.
LAST_ITEMS = 10


def summary(state: StateDict | None) -> dict[str, Any]:
    """The type-specific part of a key's description."""
    if state is None:
        return {"exists": False}
    type_name = state["type"]
    if type_name in COUNTER_TYPES:
        return {"exists": True, "value": counter_value(state)}
    if type_name == "gset":
        return {"exists": True, "members": sorted(state["members"]), "tombstones": 0}
    if type_name == "2pset":
        removed = set(state["removed"])
        members = sorted(e for e in state["added"] if e not in removed)
        return {"exists": True, "members": members, "tombstones": len(removed)}
    if type_name == "orset":
        tombstones = sum(len(tags) for tags in state["removed"].values())
        return {"exists": True, "members": sorted(state["entries"]), "tombstones": tombstones}
    from crdtredis.crdt import Sequence

    sequence = Sequence.from_dict(state, "inspect")
    items = sequence.to_list()
    return {
        "exists": True,
        "length": len(items),
        "tombstones": sequence.tombstones(),
        "last": items[-LAST_ITEMS:],
    }


def replica_slots(state: StateDict | None, current: str) -> list[dict[str, Any]]:
    """Every replica slot of a counter: whose it is, and its P and N."""
    if state is None or state["type"] not in COUNTER_TYPES:
        return []
    p = state["slots"] if state["type"] == "gcounter" else state["p"]
    n = {} if state["type"] == "gcounter" else state["n"]
    rows = []
    for replica in sorted(set(p) | set(n)):
        region, _, incarnation = replica.partition(".")
        rows.append(
            {
                "replica": replica,
                "region": region,
                "incarnation": incarnation or None,
                "p": p.get(replica, 0),
                "n": n.get(replica, 0),
                "current": replica == current,
            }
        )
    return rows


def _peer_state(peer: Peer, name: str) -> tuple[StateDict | None, str | None]:
    identity = peer.identity()
    if identity is None:
        return None, None
    (fields,) = peer.read(peer.layout(identity), [name])
    if isinstance(fields, Exception):
        return None, f"the peer cannot read it as a hash: {fields}"
    return codec.decode_stored(fields), None


def inspect_key(region: Region, name: str) -> dict[str, Any]:
    """A key's type and value, its replica slots, and how each peer compares."""
    type_name = region.type_of(name)
    local = region.export(name) if type_name is not None else None
    report: dict[str, Any] = {
        "key": name,
        "region": region.name,
        "replica": region.replica,
        "type": type_name,
        "shard": region.layout.shard_of(name),
        **summary(local),
        "replicas": replica_slots(local, region.replica),
        "peers": [],
    }
    for peer in region.peers:
        entry: dict[str, Any] = {"peer": peer.name, "reachable": False}
        try:
            theirs, problem = _peer_state(peer, name)
            entry["reachable"] = True
            entry.update(summary(theirs))
            if problem is not None:
                entry["error"] = problem
            elif theirs is not None and local is not None and theirs["type"] != local["type"]:
                entry["error"] = f"the peer holds a {theirs['type']} under this name"
            else:
                entry["missing_here"] = missing(local, [theirs] if theirs else [])
                entry["missing_there"] = missing(theirs, [local] if local else [])
        except (redis.exceptions.RedisError, OSError, ValueError) as exc:
            entry["error"] = str(exc).splitlines()[0]
        report["peers"].append(entry)
    return report


def region_status(region: Region) -> dict[str, Any]:
    """The region's identity, its peers with their sync statistics, and its size."""
    identity = region.identity
    now = time.time()
    peers = []
    for peer in region.peers:
        seen = stats.read(region, peer.name).to_dict()
        seen["reachable"] = peer.ping()
        seen["seconds_since_success"] = (
            None if seen["last_success"] is None else round(now - seen["last_success"], 3)
        )
        seen["url"] = peer.where
        peers.append(seen)
    return {
        "region": identity.region,
        "replica": identity.replica,
        "incarnation": identity.incarnation,
        "created": identity.created,
        "shards": identity.shards,
        "prefix": region.layout.prefix,
        "keys": sum(1 for _ in region.names()),
        "peers": peers,
    }
