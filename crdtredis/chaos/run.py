"""One chaos run: start the system, write and break it on schedule, heal, wait for
quiet, check, report."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from crdtredis.chaos.checker import Finals, check
from crdtredis.chaos.history import History
from crdtredis.chaos.schedule import MAX_SKEW, WIPES, Fault, clock_skew, plan
from crdtredis.chaos.system import System
from crdtredis.chaos.writers import COUNTERS, LOGS, MAPS, MAX_TTL, SETS, Writer
from crdtredis.errors import CRDTRedisError
from crdtredis.replication import Region
from crdtredis.replication.leases import LEASE_SECONDS, live_leases

REGIONS = ["eu", "us", "ap"]
#: Longest wait for the regions to agree once everything is healed.
QUIET_TIMEOUT = 120.0


@dataclass
class Report:
    seed: int
    seconds: float
    faults: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: int = 0
    failed: int = 0
    unknown: int = 0
    convergence_seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    at_risk: int = 0
    lost_with_wipes: int = 0
    #: The region whose writer ran on a skewed clock, and the skew (seconds).
    clock_skew: tuple[str, float] = ("", 0.0)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        converged = (
            "never" if self.convergence_seconds is None else f"{self.convergence_seconds:.1f} s"
        )
        lines = [
            f"chaos seed {self.seed}, {self.seconds:.0f} s: {'OK' if self.ok else 'FAILED'}",
            f"  operations acknowledged {self.acknowledged}, failed {self.failed}, "
            f"outcome unknown {self.unknown}",
            f"  faults injected {len(self.faults)}: "
            + ", ".join(sorted({f["kind"] for f in self.faults})),
            f"  converged {converged} after the heal; {self.clock_skew[0]}'s writer clock "
            f"{self.clock_skew[1]:+.2f} s",
            f"  acknowledged by a region wiped later: {self.at_risk} operations; "
            f"{self.lost_with_wipes} counters or elements show their loss "
            "(reported apart, not errors)",
        ]
        lines += [f"  PROBLEM: {p}" for p in self.problems[:20]]
        if not self.ok:
            lines.append(f"  replay: python -m crdtredis.chaos --seed {self.seed} ...")
        return "\n".join(lines)


def run(seed: int, seconds: float, folder: Path | None = None) -> Report:
    """A full run; the report says what held and what did not."""
    folder = folder or Path(tempfile.mkdtemp(prefix="crdtredis-chaos-"))
    faults = plan(seed, seconds, REGIONS)
    skewed, skew = clock_skew(seed, REGIONS)
    report = Report(seed, seconds, [f.to_dict() for f in faults], clock_skew=(skewed, skew))
    history = History()
    system = System(REGIONS, folder)
    stop = threading.Event()
    writers = _writers(system, history, seed, seconds, stop, (skewed, skew))
    try:
        for writer in writers:
            writer.start()
        _inject(system, faults, seconds, history)
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
            if writer.died:
                report.problems.append(f"the writer of {writer.region_name} died: {writer.died}")
        system.heal()
        healed = time.monotonic()
        finals = _wait_for_quiet(system, history, _expiries_passed(history, skew))
        if finals is not None:
            report.convergence_seconds = time.monotonic() - healed
        system.check_workers()
        report.problems += system.crashed
        report.problems += system.stop()
        time.sleep(LEASE_SECONDS)  # a pass killed by a fault holds its shards this long
        report.problems += _leases_left(system)
        if finals is None:
            report.problems.append(f"the regions did not agree within {QUIET_TIMEOUT:.0f} s")
            finals = _finals(system, history)
        verdict = check(history, finals)
        report.problems += verdict.problems
        report.at_risk, report.lost_with_wipes = verdict.at_risk, verdict.lost_with_wipes
    finally:
        stop.set()
        system.close()
    outcomes = [op.outcome for op in history.ops]
    report.acknowledged = outcomes.count("ok")
    report.failed = outcomes.count("failed")
    report.unknown = outcomes.count("unknown")
    (folder / "history.json").write_text(json.dumps(history.to_dict()))
    return report


def _writers(
    system: System,
    history: History,
    seed: int,
    seconds: float,
    stop: threading.Event,
    skewed: tuple[str, float],
) -> list[Writer]:
    """A writer per region; the one of ``skewed[0]`` on a clock ``skewed[1]`` s off.
    Expiries are set early enough for every one to have passed by the end."""
    expire_until = time.time() + seconds - (MAX_TTL + MAX_SKEW + 1)
    return [
        Writer(
            name,
            system.servers[name].url,
            history,
            seed * 31 + i,
            stop,
            skew=skewed[1] if name == skewed[0] else 0.0,
            expire_until=expire_until,
        )
        for i, name in enumerate(REGIONS)
    ]


def _expiries_passed(history: History, skew: float) -> float:
    """When every expiry set has passed (``time.time()``): the final state is read
    after it (the writers stopped setting expiries early enough: this guards it)."""
    expiries = [op.ended for op in history.ops if op.kind == "expire"]
    return max(expiries, default=0.0) + MAX_TTL + max(skew, 0.0) + 0.5


def _inject(system: System, faults: list[Fault], seconds: float, history: History) -> None:
    """Apply each fault at its time, undo it after its duration, until ``seconds``."""
    started = time.monotonic()
    undo: list[tuple[float, Fault]] = []
    pending = list(faults)
    while time.monotonic() - started < seconds:
        now = time.monotonic() - started
        for at, fault in [u for u in undo if u[0] <= now]:
            undo.remove((at, fault))
            _end(system, fault)
        while pending and pending[0].at <= now:
            fault = pending.pop(0)
            _begin(system, fault, history)
            undo.append((now + fault.lasts, fault))
        system.check_workers()
        time.sleep(0.05)
    for _, fault in undo:
        _end(system, fault)


Action = Callable[[System, str], object]

#: How each kind of fault begins in a region, and how it ends (None: nothing to undo).
ACTIONS: dict[str, tuple[Action, Action | None]] = {
    "kill-worker": (lambda s, n: s.kill_worker(n, 0), lambda s, n: s.start_worker(n, 0)),
    "pause-redis": (lambda s, n: s.servers[n].pause(), lambda s, n: s.servers[n].resume()),
    "restart-redis": (lambda s, n: s.servers[n].kill(), lambda s, n: s.servers[n].start()),
    "partition": (lambda s, n: s.partition(n, cut=True), lambda s, n: s.partition(n, cut=False)),
    "cut-connections": (lambda s, n: s.cut_connections(n), None),
    "wipe": (lambda s, n: s.wipe(n), None),
    "lose-disk": (lambda s, n: s.lose_disk(n), None),
    "full-memory": (
        lambda s, n: s.set_maxmemory(n, full=True),
        lambda s, n: s.set_maxmemory(n, full=False),
    ),
}


def _begin(system: System, fault: Fault, history: History) -> None:
    began = time.time()
    ACTIONS[fault.kind][0](system, fault.region)
    if fault.kind in WIPES:
        history.wiped(fault.region, began, time.time())


def _end(system: System, fault: Fault) -> None:
    undo = ACTIONS[fault.kind][1]
    if undo is not None:
        undo(system, fault.region)


def _finals(system: System, history: History) -> Finals:
    expiring = sorted({op.key for op in history.ops if op.key.startswith("x")})
    finals: Finals = {}
    for name, server in system.servers.items():
        region = Region(name, server.url, socket_timeout=5.0)
        values: dict[str, Any] = {}
        for i in range(COUNTERS):
            values[f"c{i}"] = region.counter(f"c{i}").value()
        for i in range(MAPS):
            values[f"m{i}"] = region.counter_map(f"m{i}").items()
        for key in expiring:
            values[key] = region.counter(key).value() if region.type_of(key) else None
        for i in range(SETS):
            values[f"s{i}"] = sorted(region.orset(f"s{i}").members())
        for i in range(LOGS):
            values[f"log{i}"] = region.sequence(f"log{i}").to_list()
        finals[name] = values
    return finals


def _wait_for_quiet(system: System, history: History, not_before: float) -> Finals | None:
    """The regions' values once they agree (read twice, a pass apart) and ``not_before``
    (``time.time()``) has passed, or None."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    while time.monotonic() < deadline:
        if time.time() < not_before:
            time.sleep(0.2)
            continue
        try:
            first = _finals(system, history)
            if len({json.dumps(v, sort_keys=True) for v in first.values()}) == 1:
                time.sleep(3 * system.interval)
                again = _finals(system, history)
                if again == first:
                    return first
        except (redis.exceptions.RedisError, CRDTRedisError):
            pass
        time.sleep(0.2)
    return None


def _leases_left(system: System) -> list[str]:
    """Live leases once every worker has stopped: a pass that never gave its shards up."""
    left = []
    for name, server in system.servers.items():
        region = Region(name, server.url, socket_timeout=5.0)
        for peer in system.names:
            for shard in live_leases(region, peer) if peer != name else {}:
                left.append(f"{name}: shard {shard} of {peer} leased after the workers stopped")
    return left
