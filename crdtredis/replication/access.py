"""What a region's Redis grants the regions that pull from it: reads of crdtredis keys.

A pulling region never writes to a peer. Everything it runs there, in sync
passes, relayed proofs of collection, ``inspect``, ``status`` and the
exporter, is in :data:`PEER_COMMANDS`, on keys under the crdtredis prefix
only; ``tests/replication/test_least_privilege.py`` runs all of them as a
user with exactly these rights. The survey script (``EVALSHA``) runs the
same reads: Redis checks every command a script calls against the caller's
ACL, so the script grants nothing the list does not.
"""

from __future__ import annotations

from crdtredis.store.layout import DEFAULT_PREFIX

#: Every command a pulling region runs at a single-server peer (``select`` for a
#: peer URL naming a database other than 0).
PEER_COMMANDS = (
    "ping",
    "select",
    "hgetall",
    "hlen",
    "hget",
    "hmget",
    "hscan",
    "scan",
    "zrangebyscore",
    "zrevrange",
    "zcount",
    "zscore",
    "sismember",
    "evalsha",
    "script|load",
)

#: What a Redis Cluster client also runs at each node of a cluster peer: the
#: slot map it routes by, and the command table it finds keys with.
CLUSTER_COMMANDS = ("cluster|slots", "command")


def peer_acl(
    user: str, password: str, prefix: str = DEFAULT_PREFIX, cluster: bool = False
) -> list[str]:
    """The arguments of ``ACL SETUSER`` for the user peers pull with: reads of
    ``prefix``'s keys, nothing else (no other keys, no channels, no writes);
    ``cluster``: for the nodes of a Redis Cluster peer, which also answer the
    cluster client's questions about slots and commands."""
    commands = PEER_COMMANDS + (CLUSTER_COMMANDS if cluster else ())
    return [
        user,
        "reset",
        "on",
        f">{password}",
        f"~{prefix}:*",
        f"~{prefix}#*",
        "resetchannels",
        *(f"+{command}" for command in commands),
    ]
