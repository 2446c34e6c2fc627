"""The layers import one way: the pure core loads nothing else, nothing loads the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_pure_core_imports_no_io() -> None:
    loaded = loaded_after("import crdtredis.crdt")
    assert not {
        m for m in loaded if m.split(".")[0] in ("redis", "rq", "click", "prometheus_client")
    }
    assert not {m for m in loaded if m.startswith(("crdtredis.store", "crdtredis.replication"))}


def test_nothing_in_the_library_imports_the_cli() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("crdtredis",)
        for path in (ROOT / folder).rglob("*.py")
        if "crdtredis/cli" not in str(path)
        and path.name != "__main__.py"
        and "crdtredis.cli" in path.read_text()
    ]
    assert offenders == []
