"""Count page views from an ASGI application into counter maps, never in its way.

``app = PageViews(app, region)`` counts each HTTP request's path into the
day's map (``views:2026-11-23`` by default). Views are coalesced in memory
and written every ``flush_interval`` seconds with one batched round trip
(``AsyncRegion.incr_fields``). ``flush_interval=0`` is write-through: each
request waits for its own view's write (at most ``flush_timeout``), for
applications that want it stored before the response, and as the baseline
the coalescing is measured against (``make bench``).

Guarantees: a request never fails because of Redis; with coalescing (the
default) it never waits for Redis either (counting is a dictionary update;
writes happen in a background task). A view is written at most once: a
flush that fails (Redis down, slow past ``flush_timeout``, refused) is
dropped, not retried, since a write that timed out may have been applied.
Dropped views (and those refused by a full buffer) are counted in
:attr:`PageViews.dropped` and logged at most once a minute. The buffer
holds at most ``max_entries`` distinct (map, path) pairs. The last views are
flushed at shutdown (ASGI lifespan), or by ``await middleware.close()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from datetime import UTC, datetime
from typing import Any

from crdtredis.aio import AsyncRegion
from crdtredis.crdt.countermap import FIELD_MAX_LEN
from crdtredis.web.buffer import MAX_ENTRIES, ViewBuffer
from crdtredis.web.tally import TalliedViews, ViewTally

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: How long a day bucket lives by default: a month of days, and a few to spare.
DEFAULT_TTL = 35 * 86_400
#: Longest a flush may take before its views are counted as dropped.
FLUSH_TIMEOUT = 2.0


def day_bucket(template: str = "views:{date}") -> Callable[[Scope], str]:
    """A key function: ``template`` with ``{date}`` as today's UTC date (``2026-11-23``)."""

    def key(_scope: Scope) -> str:
        return template.format(date=datetime.now(UTC).strftime("%Y-%m-%d"))

    return key


def request_path(scope: Scope) -> str:
    """The request's path without its query string, cut to the longest map field."""
    path = scope.get("path") or "/"
    return str(path)[:FIELD_MAX_LEN]


class PageViews(TalliedViews):
    """ASGI middleware counting page views into counter maps of an :class:`AsyncRegion`.

    Args:
        app: the ASGI application.
        region: where views are counted.
        key: the map a request counts in (default ``views:{date}``, UTC).
        field: the field a request counts as (default its path; normalise
            ids away here, or every distinct URL becomes a field).
        count: which requests count (default: every HTTP request).
        flush_interval: seconds between flushes; 0 writes each view at once.
        ttl: seconds a map lives, set once when a process first writes it
            (None: no expiry).
        max_entries: distinct (map, field) pairs buffered at most.
        flush_timeout: longest a flush may take before it counts as dropped.
    """

    def __init__(
        self,
        app: ASGIApp,
        region: AsyncRegion,
        *,
        key: Callable[[Scope], str] | None = None,
        field: Callable[[Scope], str] = request_path,
        count: Callable[[Scope], bool] = lambda _scope: True,
        flush_interval: float = 0.1,
        ttl: int | None = DEFAULT_TTL,
        max_entries: int = MAX_ENTRIES,
        flush_timeout: float = FLUSH_TIMEOUT,
    ) -> None:
        if flush_interval < 0:
            raise ValueError(f"flush_interval must be >= 0 seconds, got {flush_interval}")
        self.app, self.region = app, region
        self.key, self.field, self.count = key or day_bucket(), field, count
        self.flush_interval, self.flush_timeout = flush_interval, flush_timeout
        self.tally = ViewTally(max_entries, ttl)
        self._flusher: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def buffer(self) -> ViewBuffer:
        return self.tally.buffer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.count(scope):
            view = self.tally.view(self.key, self.field, scope)
            if view is None:
                pass
            elif self.flush_interval:
                self.record(*view)
            else:
                await self._write({view[0]: {view[1]: 1}})
        elif scope["type"] == "lifespan":
            receive = self._flushing_at_shutdown(receive)
        await self.app(scope, receive, send)

    def record(self, key: str, path: str) -> None:
        """Count one view now (no I/O); it is written by the next flush."""
        self.tally.add(key, path)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_every())

    def _in_flight_task(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in a task of its own: cancelling a flush never cuts a write short."""
        task = asyncio.get_running_loop().create_task(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _flush_every(self) -> None:
        while self.buffer.entries:
            await asyncio.sleep(self.flush_interval)
            await self.flush()

    async def flush(self) -> None:
        """Write everything buffered now, and wait for every write under way."""
        batch = self.tally.take()
        if batch:
            self._in_flight_task(self._write(batch))
        while self._in_flight:  # a write may start its TTL task: wait for that too
            await asyncio.wait(list(self._in_flight))
        self.tally.report()

    async def _write(self, batch: dict[str, dict[str, int]]) -> None:
        error: BaseException | None = None
        try:
            await asyncio.wait_for(self.region.incr_fields(batch), self.flush_timeout)
        except Exception as exc:  # noqa: BLE001 - nothing may reach the application
            error = exc
        new = self.tally.settle(batch, error)
        if new:
            self._in_flight_task(self._set_ttls(new))
        self.tally.report()

    async def _set_ttls(self, keys: list[str]) -> None:
        """Give new day buckets their TTL, in the background (never in a request's way)."""
        ttl = self.tally.ttl
        try:
            for key in keys:
                if ttl is not None:
                    await asyncio.wait_for(
                        self.region.expire(key, ttl, only_new=True), self.flush_timeout
                    )
        except Exception as exc:  # noqa: BLE001 - the bucket lives on without a TTL
            self.tally.ttl_failed(keys, exc)

    async def close(self) -> None:
        """Flush what is buffered and stop the background flusher."""
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        await self.flush()

    def _flushing_at_shutdown(self, receive: Receive) -> Receive:
        async def receive_then_flush() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.close()
            return message

        return receive_then_flush
