"""``crdtredis worker``: an RQ worker for one region that also keeps its sync jobs scheduled."""

from __future__ import annotations

import logging
import threading

import redis
from rq import Queue, SimpleWorker

from crdtredis.config import RegionConfig
from crdtredis.workers import runtime
from crdtredis.workers.scheduler import SyncScheduler

log = logging.getLogger(__name__)

#: Longest wait (seconds) between attempts to reach a local Redis that went away.
RECONNECT_WAIT = 5.0


def run_worker(config: RegionConfig, *, burst: bool = False, name: str | None = None) -> bool:
    """Run until stopped (SIGINT/SIGTERM), or until the queue is empty with ``burst``.

    Jobs run in this process (RQ's ``SimpleWorker``): no fork per pass, and
    the connections to the peers are kept between passes, which keeps the
    time from a write to its visibility elsewhere short.
    """
    runtime.configure(config)
    region = runtime.region()
    connection = redis.Redis.from_url(config.queue, socket_timeout=30, socket_connect_timeout=5)
    queue = Queue(runtime.queue_name(config.region), connection=connection)
    scheduler = SyncScheduler(config, region, queue)
    stop = threading.Event()
    ticker = threading.Thread(
        target=scheduler.run, args=(stop,), name="sync-scheduler", daemon=True
    )
    if not burst:
        ticker.start()
    else:
        scheduler.tick()
    try:
        worker = SimpleWorker([queue], connection=connection, name=name)
        # Reconnect to a restarted local Redis within seconds, not RQ's default minute.
        worker.max_connection_wait_time = RECONNECT_WAIT
        return bool(worker.work(burst=burst, with_scheduler=False))
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(timeout=5)
