"""``crdtredis worker``: an RQ worker for one region that also keeps its sync jobs scheduled."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import ssl
import threading
import time

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisClusterException
from rq import Queue, SimpleWorker

from crdtredis.config import RegionConfig, redact
from crdtredis.replication import Region
from crdtredis.workers import roster, runtime
from crdtredis.workers.scheduler import SyncScheduler

log = logging.getLogger(__name__)

#: Longest wait (seconds) between attempts to reach a local Redis that went away.
RECONNECT_WAIT = 5.0
#: Waits between restarts of an RQ loop that ended on an error (out of memory, a
#: timeout): one second, doubling up to half a minute.
RESTART_BACKOFF = ExponentialBackoff(cap=30.0, base=1.0)


def not_ready(error: Exception) -> bool:
    """Whether a local Redis said it cannot take writes for a while: full (``maxmemory``
    with ``noeviction``, also from inside a script) or loading its data after a restart."""
    if isinstance(error, redis.exceptions.OutOfMemoryError | redis.exceptions.BusyLoadingError):
        return True
    text = str(error)
    return isinstance(error, redis.exceptions.ResponseError) and (
        "OOM command not allowed" in text or "LOADING" in text
    )


def unreachable(error: BaseException) -> bool:
    """Whether a local Redis could not be reached for now (not up yet, restarting, a
    network or name-service hiccup), rather than refused these credentials or
    settings (a password, a certificate that does not verify, a bad option)."""
    if isinstance(
        error,
        redis.exceptions.AuthenticationError
        | redis.exceptions.AuthorizationError
        | redis.exceptions.BusyLoadingError,
    ):
        return False
    if isinstance(error, redis.exceptions.TimeoutError):
        return True
    if isinstance(error, ssl.SSLError):  # an OSError, but about settings, unless cut short
        return isinstance(error, ssl.SSLEOFError)
    if isinstance(error, OSError):
        return True
    if isinstance(error, redis.exceptions.ConnectionError | RedisClusterException):
        behind = error.__cause__ or error.__context__
        return behind is not None and unreachable(behind)
    return False


def wait_until_ready(config: RegionConfig) -> bool:
    """Open the region, waiting while its Redis is down, full or loading; False if
    stopped meanwhile.

    A worker started (or restarted by its supervisor) before its local Redis
    listens, or while it is at ``maxmemory`` and cannot create or renew the
    region's identity, waits (1 s doubling to 30 s) rather than exit, saying
    why at each attempt, until SIGINT or SIGTERM: supervisors start services
    side by side, and a worker that exits on a Redis still starting is one
    region that stops syncing. Bad credentials and bad settings still fail
    at once.
    """
    stopped = threading.Event()
    handlers = {
        sig: signal.signal(sig, lambda *_: stopped.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        for attempt in itertools.count(1):
            try:
                runtime.configure(config)
                runtime.region()
                return not stopped.is_set()
            except (redis.exceptions.RedisError, RedisClusterException) as exc:
                full_or_loading = not_ready(exc)
                if not (full_or_loading or unreachable(exc)):
                    raise
                wait = RESTART_BACKOFF.compute(attempt)
                log.error(
                    "the local Redis at %s %s (%s); trying again in %.0f s",
                    redact(config.redis_url),
                    "cannot take writes yet" if full_or_loading else "cannot be reached",
                    str(exc).splitlines()[0],
                    wait,
                )
                if stopped.wait(wait):
                    return False
        return False
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def run_worker(config: RegionConfig, *, burst: bool = False, name: str | None = None) -> bool:
    """Run until stopped (SIGINT/SIGTERM), or until the queue is empty with ``burst``.

    Jobs run in this process (RQ's ``SimpleWorker``): no fork per pass, and
    the connections to the peers are kept between passes, which keeps the
    time from a write to its visibility elsewhere short.
    """
    region = runtime.region() if runtime.configured(config) else _configure(config)
    connection = redis.Redis.from_url(config.queue, socket_timeout=30, socket_connect_timeout=5)
    queue = Queue(runtime.queue_name(config.region), connection=connection)
    name = name or f"{config.region}.{socket.gethostname()}.{os.getpid()}"
    scheduler = SyncScheduler(config, region, queue, name)
    stop = threading.Event()
    ticker = threading.Thread(
        target=scheduler.run, args=(stop,), name="sync-scheduler", daemon=True
    )
    if not burst:
        ticker.start()
    else:
        scheduler.tick()
    try:
        return _work_until_stopped(queue, connection, scheduler, burst)
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(timeout=5)
        try:
            roster.forget(region, scheduler.worker)  # its shard group goes to the others now
        except redis.exceptions.RedisError as exc:
            log.warning("could not take this worker off the roster: %s", exc)


def _configure(config: RegionConfig) -> Region:
    runtime.configure(config)
    return runtime.region()


def _work_until_stopped(
    queue: Queue, connection: redis.Redis, scheduler: SyncScheduler, burst: bool
) -> bool:
    """RQ's work loop, started again whenever it ends on an error rather than a stop.

    RQ quits its loop on any error of its own bookkeeping (a local Redis at
    ``maxmemory`` refuses its writes with OOM, say). The data is safe then
    (cursors stay before what was not merged), so the worker waits, says so,
    and starts the loop again; only a stop request (SIGINT, SIGTERM) or the
    end of a burst ends it.
    """
    failures = 0
    while True:
        worker = SimpleWorker([queue], connection=connection, name=scheduler.rename(failures))
        # Reconnect to a restarted local Redis within seconds, not RQ's default minute.
        worker.max_connection_wait_time = RECONNECT_WAIT
        try:
            worked = bool(worker.work(burst=burst, with_scheduler=False))
            error = "see above"
        except redis.exceptions.RedisError as exc:
            # RQ's own teardown (registering the worker's death) failed too.
            worked, error = False, str(exc).splitlines()[0]
        if burst or _stop_requested(worker):
            return worked
        failures += 1
        wait = RESTART_BACKOFF.compute(failures)
        log.error(
            "the RQ loop stopped on an error (%s; is the local Redis at maxmemory or "
            "unreachable?); starting it again in %.0f s",
            error,
            wait,
        )
        # RQ's signal handlers stay installed: a SIGTERM now marks this worker.
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not _stop_requested(worker):
            time.sleep(0.1)
        if _stop_requested(worker):
            return worked


def _stop_requested(worker: SimpleWorker) -> bool:
    """Whether a signal asked the worker to stop (RQ keeps no public flag for it).

    RQ notes the time of a shutdown request in every case (idle or busy);
    ``_stop_requested`` alone is set only when the request came mid-job.
    """
    asked = getattr(worker, "_shutdown_requested_date", None) is not None
    return asked or bool(getattr(worker, "_stop_requested", False))
