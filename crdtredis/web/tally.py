"""What every page-view middleware keeps, whatever its I/O: views buffered between
flushes, views written and lost, which maps still need their TTL, and the log of losses.

No I/O here: the ASGI and WSGI middlewares schedule the writes their own way
and report each flush's outcome back. Safe to share between threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from crdtredis.crdt.countermap import check_field
from crdtredis.errors import BatchError
from crdtredis.store.layout import check_name
from crdtredis.web.buffer import ViewBuffer, views_in

log = logging.getLogger("crdtredis.web.pageviews")

#: Seconds between two log lines about dropped views.
REPORT_EVERY = 60.0

Batch = dict[str, dict[str, int]]


class ViewTally:
    """Views counted in memory, and what became of them."""

    def __init__(self, max_entries: int, ttl: int | None) -> None:
        self.buffer = ViewBuffer(max_entries)
        self.ttl = ttl
        #: Views written since the middleware was made.
        self.written = 0
        self._failed = 0
        self._last_error = ""
        self._reported = (time.monotonic(), 0)
        self._expiring: set[str] = set()
        self._lock = threading.Lock()

    def fresh_copy(self) -> ViewTally:
        """An empty tally with the same settings and new locks (for a forked child)."""
        return ViewTally(self.buffer.max_entries, self.ttl)

    @property
    def dropped(self) -> int:
        """Views lost: failed flushes, a full buffer, unusable names."""
        return self._failed + self.buffer.dropped

    def view(
        self, key: Callable[[Any], str], field: Callable[[Any], str], request: Any
    ) -> tuple[str, str] | None:
        """The request's (map, field), or None (counted as dropped) when either is unusable:
        one bad view must not take a whole flush down with it."""
        try:
            name, path = key(request), field(request)
            check_name(name)
            name.encode()
            check_field(path)
        except (ValueError, UnicodeError) as exc:
            self.lost(1, f"a view was not counted: {describe(exc)}")
            return None
        return name, path

    def add(self, name: str, path: str) -> None:
        with self._lock:
            if not self.buffer.add(name, path):
                self._last_error = f"the buffer was full ({self.buffer.max_entries} entries)"

    def take(self) -> Batch:
        with self._lock:
            return self.buffer.take()

    def lost(self, views: int, reason: str) -> None:
        with self._lock:
            self._failed += views
            self._last_error = reason

    def settle(self, batch: Batch, error: BaseException | None) -> list[str]:
        """Count a flush's outcome (a :class:`BatchError` loses only the maps it names);
        return the maps written that still need their TTL."""
        if isinstance(error, BatchError):
            refused = {k: batch.pop(k) for k in list(batch) if k in error.failures}
            self.lost(views_in(refused), describe(error))
        elif error is not None:
            self.lost(views_in(batch), describe(error))
            batch = {}
        with self._lock:
            self.written += views_in(batch)
            new = sorted(batch.keys() - self._expiring) if self.ttl is not None else []
            self._expiring.update(new)  # one try per key and process at a time
        return new

    def ttl_failed(self, keys: list[str], error: BaseException) -> None:
        """The TTL of ``keys`` could not be set: tried again at their next flush."""
        with self._lock:
            self._expiring.difference_update(keys)
        log.warning("page views: could not set the TTL of a day bucket: %s", describe(error))

    def report(self) -> None:
        """Log the views dropped since the last report, at most once a minute."""
        with self._lock:
            at, reported = self._reported
            dropped = self.dropped
            if dropped == reported or (reported and time.monotonic() - at < REPORT_EVERY):
                return
            self._reported = (time.monotonic(), dropped)
            reason = self._last_error
        log.warning(
            "page views: %d dropped since the last report (%d in all); last error: %s",
            dropped - reported,
            dropped,
            reason,
        )


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class TalliedViews:
    """What both middlewares show of their tally."""

    tally: ViewTally

    @property
    def written(self) -> int:
        """Views written since the middleware was made."""
        return self.tally.written

    @property
    def dropped(self) -> int:
        """Views lost: failed flushes, a full buffer, unusable names, views after close."""
        return self.tally.dropped
