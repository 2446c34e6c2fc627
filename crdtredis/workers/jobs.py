"""RQ job entry points: thin calls into the library."""

from __future__ import annotations

from typing import Any

from crdtredis.workers import runtime


def sync_peer(peer: str) -> dict[str, Any]:
    """One sync pass of this worker's region from ``peer``; returns the report.

    Never raises for a peer that is down or sends bad data: that is in the
    report and the sync statistics, and the next job tries again.
    """
    return runtime.region().sync_peer(peer).to_dict()


def job_id(region: str, peer: str) -> str:
    """The one id a (region, peer) sync job has: at most one is pending at a time."""
    return f"crdtredis-sync-{region}-{peer}"
