"""The layers import one way, and the package stays readable: short functions.

Layers, bottom up: the pure core (and the errors); the Redis store; the
configuration (which names store defaults) and the asyncio API (over the
store); replication; the shells over it (metrics, the RQ workers, the
embedded redis-server helper); the demo, which runs those shells; the CLI.
A module imports its own package or lower layers, never a sibling shell or
anything above.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "crdtredis"

LAYERS = {
    "crdtredis.crdt": 0,
    "crdtredis.errors": 0,
    "crdtredis.store": 1,
    "crdtredis.config": 2,
    "crdtredis.aio": 2,
    "crdtredis.replication": 3,
    "crdtredis.metrics": 4,
    "crdtredis.workers": 4,
    "crdtredis.embedded": 4,
    "crdtredis.web": 4,
    "crdtredis.demo": 5,
    "crdtredis.cli": 6,
    "crdtredis.chaos": 6,
}
#: The package's own entry points sit above everything.
TOP = {"crdtredis", "crdtredis.__main__"}
LONGEST_FUNCTION = 50


def unit_of(module: str) -> str:
    """The layered unit a module belongs to: ``crdtredis.<first part>``."""
    return ".".join(module.split(".")[:2])


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return found


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n.startswith("crdtredis")}


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {unit_of(m) for m, _ in modules()} - TOP
    assert units <= set(LAYERS), f"give these a layer: {sorted(units - set(LAYERS))}"


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_a_module_imports_only_its_own_unit_or_lower_layers(module: str, path: Path) -> None:
    if module in TOP:
        return
    mine = unit_of(module)
    upward = [
        name
        for name in imported(path)
        if name not in TOP
        and unit_of(name) != mine
        and LAYERS.get(unit_of(name), 99) >= LAYERS[mine]
    ]
    assert upward == [], f"{module} (layer {LAYERS[mine]}) imports {upward}"


def test_the_pure_core_loads_no_io_library() -> None:
    code = "import sys, crdtredis.crdt; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert not {
        m for m in loaded if m.split(".")[0] in ("redis", "rq", "click", "prometheus_client")
    }
    assert not {m for m in loaded if m.startswith("crdtredis.") and unit_of(m) != "crdtredis.crdt"}


def test_no_function_in_the_package_is_longer_than_fifty_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)"
        for _, path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (size := (node.end_lineno or node.lineno) - node.lineno + 1) > LONGEST_FUNCTION
    ]
    assert long == []
