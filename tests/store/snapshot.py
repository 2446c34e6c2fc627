"""Everything a Redis holds, to assert that a refused operation changed nothing."""

from __future__ import annotations

from typing import Any


def snapshot(client: Any) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "hash":
            state[key] = client.hgetall(key)
        elif kind == "zset":
            state[key] = client.zrange(key, 0, -1, withscores=True)
        else:
            state[key] = (kind, client.dump(key))
    return state
