"""Count page views from a WSGI application (Flask, Django, ...): the ASGI middleware's
rules, with a flusher thread instead of a task.

``app.wsgi_app = PageViewsWSGI(app.wsgi_app, Region("eu", url))``. A request
only updates the buffer (under a lock); a daemon thread flushes it every
``flush_interval`` seconds with one ``incr_fields`` round trip on the
blocking region. The same guarantees as :class:`~crdtredis.web.PageViews`:
never fails or waits for Redis, at most once, bounded buffer, losses counted
and logged once a minute; :meth:`close` (also at interpreter exit) flushes.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from crdtredis.crdt.countermap import FIELD_MAX_LEN
from crdtredis.store import RegionStore
from crdtredis.web.buffer import MAX_ENTRIES
from crdtredis.web.pageviews import DEFAULT_TTL, day_bucket
from crdtredis.web.tally import TalliedViews, ViewTally

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]


def wsgi_path(environ: Environ) -> str:
    """The request's path (``PATH_INFO``, which WSGI gives as UTF-8 bytes read as
    latin-1) as text, without its query string, cut to a map field: the same field
    the ASGI middleware counts for the same URL."""
    raw = str(environ.get("PATH_INFO") or "/")
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        path = raw
    return path[:FIELD_MAX_LEN]


class PageViewsWSGI(TalliedViews):
    """WSGI middleware counting page views into counter maps of a blocking region.

    Arguments as :class:`~crdtredis.web.PageViews`, with ``key``, ``field``
    and ``count`` taking the WSGI environ. The region's socket timeout bounds
    a flush (a slow flush holds the flusher thread, never a request).
    """

    def __init__(
        self,
        app: WSGIApp,
        region: RegionStore,
        *,
        key: Callable[[Environ], str] | None = None,
        field: Callable[[Environ], str] = wsgi_path,
        count: Callable[[Environ], bool] = lambda _environ: True,
        flush_interval: float = 0.1,
        ttl: int | None = DEFAULT_TTL,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval}")
        self.app, self.region = app, region
        self.key, self.field, self.count = key or day_bucket(), field, count
        self.flush_interval = flush_interval
        self.tally = ViewTally(max_entries, ttl)
        self._flushing = threading.Lock()
        self._starting = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        atexit.register(self.close)

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.count(environ):
            view = self.tally.view(self.key, self.field, environ)
            if view is None:
                pass
            elif self._closed:
                self.tally.lost(1, "a view came after the middleware was closed")
            else:
                self._ensure_flusher()
                self.tally.add(*view)
        return self.app(environ, start_response)

    def _ensure_flusher(self) -> None:
        """Start the flusher with the first request, and again in a forked child
        (servers that load the application before forking workers: gunicorn
        ``--preload``, uWSGI): threads do not survive a fork, and locks held by
        them then would stay held. The child starts with an empty buffer: what
        the parent counted is the parent's to write."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self.tally = self.tally.fresh_copy()
            self._flushing, self._starting = threading.Lock(), threading.Lock()
            self._stop = threading.Event()
            self._thread = None
        if self._thread is None or not self._thread.is_alive():
            with self._starting:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._flush_every, daemon=True, name="page-views"
                    )
                    self._thread.start()

    def _flush_every(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def flush(self) -> None:
        """Write everything buffered now (one flush at a time)."""
        with self._flushing:
            batch = self.tally.take()
            if batch:
                error: BaseException | None = None
                try:
                    self.region.incr_fields(batch)
                except Exception as exc:  # noqa: BLE001 - nothing may reach the application
                    error = exc
                self._set_ttls(self.tally.settle(batch, error))
            self.tally.report()

    def _set_ttls(self, keys: list[str]) -> None:
        ttl = self.tally.ttl
        try:
            for key in keys:
                if ttl is not None:
                    self.region.expire(key, ttl, only_new=True)
        except Exception as exc:  # noqa: BLE001 - the bucket lives on without a TTL
            self.tally.ttl_failed(keys, exc)

    def close(self) -> None:
        """Stop the flusher thread and flush what is buffered; views that come later
        are counted as dropped."""
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and threading.current_thread() is not thread:
            thread.join(timeout=30)
        self.flush()
        atexit.unregister(self.close)
