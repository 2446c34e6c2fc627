"""`crdtredis demo` converges, reports it, and leaves nothing running behind."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "crdtredis")


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


def test_demo_converges_and_cleans_up() -> None:
    done = subprocess.run(
        [CONSOLE_SCRIPT, "demo", "--seconds", "10"],
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
    time.sleep(6)
    children = [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
    assert children  # the workers and redis-servers are up
    process.send_signal(sig)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "everything it started is stopped" in out
    deadline = time.monotonic() + 10
    while any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in children
    ):
        assert time.monotonic() < deadline, "demo children still running after Ctrl-C"
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regions", "9"], "--regions must be between 2 and 6"),
        (["--seconds", "1"], "--seconds must be at least 4"),
    ],
)
def test_bad_demo_options_are_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run(
        [CONSOLE_SCRIPT, "demo", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and message in done.stderr
