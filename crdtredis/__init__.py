"""crdtredis: conflict-free replicated counters, sets and event logs on plain Redis."""

__version__ = "0.1.0"
