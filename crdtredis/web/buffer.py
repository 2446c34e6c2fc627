"""Page views coalesced in memory between flushes, in a buffer of bounded size."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Distinct (key, field) pairs a buffer holds by default between two flushes.
MAX_ENTRIES = 10_000


@dataclass
class ViewBuffer:
    """Counts per map and field, waiting for the next flush.

    Memory is bounded by ``max_entries`` distinct (key, field) pairs: a view
    of a pair already buffered only adds to its count; a view of a new pair
    when the buffer is full is dropped and counted in :attr:`dropped`.
    """

    max_entries: int = MAX_ENTRIES
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    entries: int = 0
    #: Views this buffer refused since it was made (it was full).
    dropped: int = 0

    def add(self, key: str, path: str, n: int = 1) -> bool:
        """Count ``n`` views of ``path`` in map ``key``; False when dropped (buffer full)."""
        fields = self.counts.get(key)
        if fields is not None and path in fields:
            fields[path] += n
            return True
        if self.entries >= self.max_entries:
            self.dropped += n
            return False
        self.counts.setdefault(key, {})[path] = n
        self.entries += 1
        return True

    def take(self) -> dict[str, dict[str, int]]:
        """Everything buffered, leaving the buffer empty (the next flush's batch)."""
        taken, self.counts, self.entries = self.counts, {}, 0
        return taken

    def __len__(self) -> int:
        return views_in(self.counts)


def views_in(counts: dict[str, dict[str, int]]) -> int:
    """How many views a batch (map -> field -> views) holds."""
    return sum(sum(fields.values()) for fields in counts.values())
