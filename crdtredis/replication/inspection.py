"""What ``crdtredis inspect`` and ``crdtredis status`` show, as plain data.

The CLI only renders these dictionaries (a table, or JSON); their shape is the
documented JSON schema of ``inspect --json`` and ``status --json``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import redis

from crdtredis.crdt.interface import StateDict
from crdtredis.replication import stats
from crdtredis.replication.collection import waiting
from crdtredis.replication.peer import Peer
from crdtredis.replication.region import Region
from crdtredis.store.identity import owner_of
from crdtredis.store.types import TypeRegistry


def summary(types: TypeRegistry, state: StateDict | None) -> dict[str, Any]:
    """The type-specific part of a key's description."""
    if state is None:
        return {"exists": False}
    stored = types.by_name(state["type"])
    return {"exists": stored.live(state), **stored.summary(state)}


def replica_slots(
    types: TypeRegistry, state: StateDict | None, current: str, registry: dict[str, str]
) -> list[dict[str, Any]]:
    """Every replica slot of a counter: whose it is (from the replica ``registry``),
    and its P and N."""
    if state is None:
        return []
    rows = []
    for replica, (p, n) in types.by_name(state["type"]).slots(state).items():
        region, incarnation = owner_of(registry.get(replica))
        rows.append(
            {
                "replica": replica,
                "region": region,
                "incarnation": incarnation,
                "p": p,
                "n": n,
                "current": replica == current,
            }
        )
    return rows


def _registry(region: Region) -> dict[str, str]:
    """The replica registry as stored now (a pass may have added to it)."""
    stored = region.guard.stored()
    return stored.replicas if stored is not None else {}


def _peer_state(types: TypeRegistry, peer: Peer, name: str) -> tuple[StateDict | None, str | None]:
    source = peer.open()
    if source is None:
        return None, None
    (fields,) = source.read([name])
    if isinstance(fields, Exception):
        return None, f"the peer cannot read it as a hash: {fields}"
    return types.decode_hash(fields), None


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
        "ttl": region.ttl(name) if type_name is not None else None,
        **summary(region.types, local),
        "replicas": replica_slots(region.types, local, region.replica, _registry(region)),
        "peers": [],
    }
    for peer in region.peers:
        entry: dict[str, Any] = {"peer": peer.name, "reachable": False}
        try:
            theirs, problem = _peer_state(region.types, peer, name)
            entry["reachable"] = True
            entry.update(summary(region.types, theirs))
            if problem is not None:
                entry["error"] = problem
            elif theirs is not None and local is not None and theirs["type"] != local["type"]:
                entry["error"] = f"the peer holds a {theirs['type']} under this name"
            else:
                entry["missing_here"] = region.types.missing(local, [theirs])
                entry["missing_there"] = region.types.missing(theirs, [local])
        except (redis.exceptions.RedisError, OSError, ValueError) as exc:
            entry["error"] = str(exc).splitlines()[0]
        report["peers"].append(entry)
    return report


#: Seconds without a successful pass after which a peer not failing shows as stalled.
STALLED_AFTER = 60.0


def _age(now: float, then: float | None) -> float | None:
    return None if then is None else round(now - then, 3)


def peer_state(seen: dict[str, Any], now: float, stalled_after: float) -> str:
    """How sync from a peer goes: ``never`` tried, ``failing``, ``stalled`` or ``ok``.

    Stalled: no pass succeeded for ``stalled_after`` seconds although none
    failed either (passes skipped behind a lease nobody renews, no worker
    running).
    """
    if seen["last_attempt"] is None:
        return "never"
    if seen["consecutive_failures"]:
        return "failing"
    last = seen["last_success"]
    return "stalled" if last is None or now - last > stalled_after else "ok"


def region_status(region: Region, stalled_after: float = STALLED_AFTER) -> dict[str, Any]:
    """The region's identity, its peers with their sync statistics, and its size.

    A peer with no successful (and no failed) pass for ``stalled_after``
    seconds shows as ``stalled`` whatever its last figures say. The lag
    figure is taken by the last successful pass: ``seconds_since_success``
    is its age.
    """
    identity = region.identity
    now = time.time()
    peers = []
    for peer in region.peers:
        seen = stats.read(region, peer.name).to_dict()
        seen["reachable"] = peer.ping()
        seen["seconds_since_success"] = _age(now, seen["last_success"])
        seen["seconds_since_attempt"] = _age(now, seen["last_attempt"])
        seen["lease_held"] = bool(region.client.exists(region.layout.lock_key(peer.name)))
        seen["state"] = peer_state(seen, now, stalled_after)
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
        "collection": asdict(waiting(region, [p.name for p in region.peers])),
    }
