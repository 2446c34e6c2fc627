"""RQ entry points for crdtredis: thin shells over :mod:`crdtredis`."""
