"""A local Redis at maxmemory stalls sync but never kills the worker; sync resumes after.

With ``noeviction`` a full Redis refuses RQ's own bookkeeping writes, which
ends RQ's work loop. The worker waits, logs it, and starts the loop again;
once memory is freed, changes arrive as before.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import redis

from tests.regions import Regions
from tests.support import CONSOLE_SCRIPT, long_pass, wait_for

pytestmark = pytest.mark.integration

KEYS = 30_000


def test_a_worker_survives_a_full_local_redis_and_syncs_after(
    regions: Regions, tmp_path: Path
) -> None:
    eu, env = long_pass(regions, tmp_path, KEYS, max_backoff=1)
    us = regions.open("us")
    log_file = tmp_path / "worker.log"
    with log_file.open("w") as log:
        worker = subprocess.Popen([CONSOLE_SCRIPT, "worker"], env=env, stderr=log)
    try:
        wait_for(lambda: eu.client.exists(eu.layout.lock_key("us")), message="a pass under way")
        raw = regions.servers["eu"].client()
        raw.config_set("maxmemory-policy", "noeviction")
        # Far below what the Redis holds: every write that needs memory is refused.
        raw.config_set("maxmemory", 100_000)
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            raw.set("probe", "x")
        wait_for(
            lambda: "the RQ loop stopped on an error" in log_file.read_text(),
            timeout=30,
            message="the worker noticing the full Redis",
        )
        assert worker.poll() is None, log_file.read_text()[-2000:]
        raw.config_set("maxmemory", 0)
        us.counter("after").incr(3)
        wait_for(lambda: eu.counter("after").value() == 3, timeout=60, message="sync resuming")
        wait_for(
            lambda: (
                sum(eu.counter(f"c{i}").value() for i in range(0, KEYS, 101))
                == len(range(0, KEYS, 101))
            ),
            timeout=60,
            message="the interrupted pass's keys",
        )
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
