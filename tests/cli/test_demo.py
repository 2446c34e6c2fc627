"""`crdtredis demo` converges, reports it, and leaves nothing running behind."""

from __future__ import annotations

import re
import signal
import socket
import subprocess

import psutil
import pytest

from tests.support import CONSOLE_SCRIPT, wait_for

pytestmark = pytest.mark.integration


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def leftovers(ports: list[int]) -> list[str]:
    """Processes still running that the demo started (found by the ports they use)."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            text = " ".join(process.info["cmdline"] or []) + " ".join(
                (process.info["environ"] or {}).values()
            )
        except (psutil.Error, TypeError):
            continue
        if "crdtredis" in text or "redis-server" in text:
            if any(re.search(rf"\b{port}\b", text) for port in ports):
                found.append(text[:120])
    return found


def started_children(pid: int, regions: int = 3) -> list[int]:
    """Every process under the demo once its redis-servers and workers are all up, else []."""
    try:
        children = psutil.Process(pid).children()
        commands = [" ".join(child.cmdline()) for child in children]
        below = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    servers = sum("redis-server" in command for command in commands)
    workers = sum(command.endswith(" worker") for command in commands)
    return [p.pid for p in below] if servers == workers == regions else []


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_demo_converges_through_delay_lines_and_cleans_up() -> None:
    done = subprocess.run(
        [CONSOLE_SCRIPT, "demo", "--seconds", "10", "--rtt", "100"],  # regions 100 ms apart
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    sent_line = re.search(r"page views sent: (\d+)", out)
    ports_line = re.search(r"\(ports ([\d,\s]+)\)", out)
    assert sent_line and ports_line, out
    sent = int(sent_line.group(1))
    values = dict(re.findall(r"^  (\w+): (\d+) \(", out, flags=re.M))
    assert sent > 0 and set(values) == {"eu", "us", "ap"}
    assert all(int(v) == sent for v in values.values())
    assert "converged: all 3 regions equal" in out
    ports = [int(p) for p in re.sub(r"\s", "", ports_line.group(1)).split(",")]
    assert len(ports) == 3 + 3 + 6
    assert not [p for p in ports if listening(p)]
    assert leftovers(ports) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_stops_everything(sig: signal.Signals) -> None:
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "demo", "--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children = wait_for(
        lambda: started_children(process.pid),
        timeout=60,
        message="the demo's redis-servers and workers starting",
    )
    assert children  # the workers and redis-servers are up
    process.send_signal(sig)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "everything it started is stopped" in out
    wait_for(
        lambda: not any(running(pid) for pid in children),
        timeout=10,
        interval=0.2,
        message="demo children all stopped after the interrupt",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regions", "9"], "--regions must be between 2 and 6"),
        (["--seconds", "1"], "--seconds must be at least 4"),
        (["--rtt", "-5"], "--rtt must be between 0 and 5000 ms"),
    ],
)
def test_bad_demo_options_are_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run(
        [CONSOLE_SCRIPT, "demo", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and message in done.stderr
