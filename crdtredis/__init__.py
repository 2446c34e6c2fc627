"""crdtredis: conflict-free replicated counters, sets and event logs on plain Redis."""

from crdtredis.replication import Region

__version__ = "0.1.0"

__all__ = ["Region", "__version__"]
