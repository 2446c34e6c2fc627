"""Three or more regions on real redis-servers (AOF), delay lines between them and
``crdtredis worker`` processes, with a way to break each part and heal it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import redis

from crdtredis.demo.link import Link
from crdtredis.embedded import RedisServer

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "crdtredis")


class System:
    """The regions, their links (``links[(puller, peer)]``) and workers.

    ``workers`` per region; the first region gets ``extra_workers`` more, so
    that shard groups are exercised too.
    """

    def __init__(
        self,
        regions: list[str],
        folder: Path,
        delay: float = 0.01,
        extra_workers: int = 1,
        interval: float = 0.2,
    ) -> None:
        self.names = regions
        self.folder = folder
        self.servers = {
            n: RedisServer(appendonly=True, directory=folder / n).start() for n in regions
        }
        self.links = {
            (a, b): Link(self.servers[b].port, delay=delay)
            for a in regions
            for b in regions
            if a != b
        }
        self.interval = interval
        self.workers: dict[str, list[subprocess.Popen[bytes]]] = {n: [] for n in regions}
        self.crashed: list[str] = []
        self._noted: set[int] = set()
        for name in regions:
            for _ in range(1 + (extra_workers if name == regions[0] else 0)):
                self.workers[name].append(self._worker(name))

    def _worker(self, name: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "CRDTREDIS_REGION": name,
            "CRDTREDIS_REDIS_URL": self.servers[name].url,
            "CRDTREDIS_PEERS": ",".join(
                f"{p}={self.links[(name, p)].url}" for p in self.names if p != name
            ),
            "CRDTREDIS_SYNC_INTERVAL": str(self.interval),
            "CRDTREDIS_PEER_TIMEOUT": "1",
            "CRDTREDIS_MAX_BACKOFF": "1",
        }
        log = open(self.folder / f"worker-{name}.log", "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen([CONSOLE_SCRIPT, "worker"], env=env, stdout=log, stderr=log)

    def check_workers(self) -> None:
        """Note every worker that exited on its own (a crash)."""
        for name, processes in self.workers.items():
            for process in processes:
                if process.poll() is not None and process.pid not in self._noted:
                    self._noted.add(process.pid)
                    self.crashed.append(
                        f"worker {process.pid} of {name} exited {process.returncode}"
                    )

    def kill_worker(self, name: str, index: int) -> None:
        process = self.workers[name][index]
        self._noted.add(process.pid)  # killed on purpose, not a crash
        process.send_signal(signal.SIGKILL)
        process.wait()

    def start_worker(self, name: str, index: int) -> None:
        self.workers[name][index] = self._worker(name)

    def partition(self, name: str, cut: bool) -> None:
        for (a, b), link in self.links.items():
            if name in (a, b):
                if cut:
                    link.cut()
                else:
                    link.restore()

    def cut_connections(self, name: str) -> None:
        """Close the connections through ``name``'s links, mid-reply as it may be."""
        for (a, b), link in self.links.items():
            if name in (a, b):
                link.cut()
                link.restore()

    def set_maxmemory(self, name: str, full: bool) -> None:
        client = self.servers[name].client(socket_timeout=5)
        if full:
            used = int(client.info("memory")["used_memory"])
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", max(used // 2, 1024 * 1024))
        else:
            client.config_set("maxmemory", 0)

    def wipe(self, name: str) -> None:
        self.servers[name].client(socket_timeout=5).flushall()

    def lose_disk(self, name: str) -> None:
        """The server dies with its disk: SIGKILL, its data files removed, started empty."""
        server = self.servers[name]
        server.kill()
        for entry in server.directory.iterdir():
            if entry.name != "redis.log":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        server.start()

    def heal(self) -> None:
        """Everything back: servers running and resumed, links restored, memory free."""
        for name, server in self.servers.items():
            if not server.running():
                server.start()
            server.resume()
            try:
                self.set_maxmemory(name, full=False)
            except redis.exceptions.RedisError:
                pass
        for link in self.links.values():
            link.restore()

    def stop(self) -> list[str]:
        """Stop every worker with SIGTERM; return those that did not exit cleanly."""
        unclean = []
        for name, processes in self.workers.items():
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    code = process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = None
                if code != 0:
                    unclean.append(f"worker {process.pid} of {name} exited {code} on SIGTERM")
        for link in self.links.values():
            link.close()
        return unclean

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
