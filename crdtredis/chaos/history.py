"""What every writer asked for, and what it was told: the record the checker reads."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

#: The operation took effect (acknowledged), surely did not, or may have.
OK, FAILED, UNKNOWN = "ok", "failed", "unknown"


@dataclass(frozen=True)
class Op:
    region: str
    kind: str  # incr, decr, delete, expire, add, remove, append
    key: str
    value: str | int
    outcome: str
    began: float
    ended: float
    #: A counter map's field (incr, decr, delete of one field); "" for the whole key.
    field: str = ""


class History:
    """Operations, appended from every writer thread; wipes, by region and time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ops: list[Op] = []
        self.wipes: list[tuple[str, float, float]] = []

    def record(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)

    def wiped(self, region: str, began: float, ended: float) -> None:
        with self._lock:
            self.wipes.append((region, began, ended))

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"ops": [asdict(op) for op in self.ops], "wipes": list(self.wipes)}
