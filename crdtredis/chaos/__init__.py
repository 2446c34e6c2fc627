"""A chaos checker: many writers, faults injected at random, every acknowledged
operation checked against the final state (``python -m crdtredis.chaos``).

Pure parts (:mod:`.schedule`, :mod:`.history`, :mod:`.checker`) decide what
happens and what must hold; :mod:`.system` runs real redis-servers, delay
lines and ``crdtredis worker`` processes and breaks them; :mod:`.run` ties it
together and writes the report.
"""
