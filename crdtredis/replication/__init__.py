"""Replication between regions: pull what peers changed, merge it in.

A sync pass reads, for each peer, the keys the peer's change index lists past
this region's cursor for it, validates their states, merges them in batches,
and only then advances the cursor. Merges that change local state are
recorded as local changes (so changes travel on to regions that do not pull
from the origin directly); merges that change nothing record nothing.
"""

from crdtredis.replication.peer import Peer
from crdtredis.replication.region import Region
from crdtredis.replication.sync import PeerReport, Syncer

__all__ = ["Peer", "PeerReport", "Region", "Syncer"]
