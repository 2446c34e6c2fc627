"""crdtredis: conflict-free replicated counters, sets and event logs on plain Redis.

``from crdtredis import Region`` gives a region with its peers. The import is
lazy, so that ``crdtredis.crdt`` (the pure core) loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from crdtredis.replication import Region

__all__ = ["Region", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Region":
        from crdtredis.replication import Region

        return Region
    raise AttributeError(f"module 'crdtredis' has no attribute {name!r}")
