"""Where everything lives in Redis: the one place that names keys.

A region's Redis holds, under a prefix (``crdt`` by default)::

    crdt:{<tag>}:<name>     one hash per replicated object; field "" holds its type
    crdt#{<tag>}:head       the shard's head: {"v": last version, "inc": incarnation,
                            "epoch": its epoch, "~<name>": the grave of each name
                            whose life ended by expiry (the expiry that ended it),
                            "base:c|t|s": the largest own counter slot, add counter
                            and log clock of objects collected (see _collect.lua),
                            "trim": the highest version dropped from the index}
    crdt#{<tag>}:changes    the shard's change index: zset of name -> version, of
                            the changes some configured peer has not pulled yet
                            (the others are trimmed: see _collect.lua)
    crdt#{<tag>}:top:<name> a counter map's derived index: zset of field -> -count,
                            and '' -> -total (see lua/_index.lua); never replicated,
                            rebuilt from the map when its '' mark is missing
    crdt#region             this region's identity: name, incarnation, replica id,
                            shards, layout (the version of this layout, LAYOUT_VERSION
                            in identity.py), shard:<n> for each shard given a head in
                            this incarnation, and the replica registry: r:<id> ->
                            <region>.<incarnation> for every replica id known here
    crdt#cursor:<peer>      how far this region has pulled from <peer> (replication)
    crdt#merged:<peer>      <peer>'s cursor on this region, read in passes from it:
                            what <peer> has merged of this region; next.* fields
                            hold the latest copy and <peer>'s heads read with it,
                            which count once this region has pulled past them
                            (see replication/frontier.py)
    crdt#sync:<peer>        statistics of the last sync passes from <peer>
    crdt#lock:<peer>        held by the one sync pass from <peer> under way
    crdt#retry:<peer>       names from <peer> a local key of another kind kept out;
                            each pass tries them again
    crdt#convergence:<o>    histogram of convergence time of probes from region <o>
    crdt#convergence-origins  the regions <o> with such a histogram

Every object belongs to one of ``shards`` shards (CRC-32 of its name), and
each shard has a Redis Cluster hash tag: a short number chosen so that shard
``i`` falls in the ``i``-th equal range of the 16384 hash slots, which spreads
shards evenly over a cluster's primaries. An object, its shard's head and its
shard's change index carry the same tag, so they share one hash slot: every
script touches one slot, and the same code runs on Redis Cluster. Data keys start with
``crdt:`` and bookkeeping keys with ``crdt#``, so the two never mix (objects
are listed by SCAN, on every primary of a cluster).

A replica id (``<replica>`` below) is four letters and digits, drawn by each
incarnation and registered in the identity (see
:mod:`crdtredis.store.identity`): a counter with three regions' slots is a
hash of four short fields, which Redis keeps as one small listpack.

Inside an object's hash (fields; values are strings):

=========== ============================== ========================================
type        field                          value
=========== ============================== ========================================
any         ``""``                         type code (each type's module in
                                           :mod:`crdtredis.store.types` owns its
                                           code and fields): g, pn, cm, gs, 2p,
                                           or, sq
g, pn       ``<replica>``                  that replica's increments (P)
pn          ``-<replica>``                 that replica's decrements (N)
g, pn       ``~<replica>``                 the P slot a delete observed (floor):
                                           only what lies above counts
pn          ``~-<replica>``                the N slot a delete observed (floor)
cm          ``<replica>,<field>``          that replica's increments of <field>
cm          ``-<replica>,<field>``         that replica's decrements of <field>
cm          ``~`` before either            the slot a delete observed (floor)
gs          ``.<element>``                 ``1``
2p          ``.<element>``                 ``a`` added, ``r`` removed (tombstone)
or          ``.<element>``                 live tags ``n@replica,...``
or          ``~<element>``                 removed tags ``n@replica,...``
or          ``#<replica>``                 that replica's last add number (local)
sq          ``.<n@replica>``               JSON ``[ref id or null, value]``
sq          ``~<n@replica>``               ``1``: the element is removed
sq          ``^``                          Lamport clock: highest n seen
any         ``@``                          expiry ``<expire_ms>/<set_ms>/<replica>``
                                           (:mod:`crdtredis.store.expiry`)
any         ``*``                          birth: the expiry that ended the
                                           name's previous life, if any
=========== ============================== ========================================
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from crdtredis.errors import InvalidKeyNameError

DEFAULT_PREFIX = "crdt"
DEFAULT_SHARDS = 16
MAX_NAME_LENGTH = 512
#: Field prefix of a grave in a shard's head (see :mod:`crdtredis.store.expiry`).
GRAVE_PREFIX = "~"


def name_matcher(pattern: str) -> Callable[[str], bool]:
    """Whether a name matches a glob ``pattern`` as Redis matches keys (``KEYS``,
    ``SCAN MATCH``): ``*``, ``?``, ``[abc]``, ``[^abc]``, ``[a-z]``, ``\\`` escapes,
    on the UTF-8 bytes (``?`` is one byte, as in Redis)."""
    glob = _as_bytes(pattern)
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        elif c == "[":
            i, chars = _char_class(glob, i + 1)
            out.append(chars)
        else:
            out.append(re.escape(c))
        i += 1
    regex = re.compile("".join(out), re.DOTALL)
    return lambda name: regex.fullmatch(_as_bytes(name)) is not None


def _as_bytes(text: str) -> str:
    """``text``'s UTF-8 bytes, one character per byte (so a regex works on bytes)."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _char_class(pattern: str, i: int) -> tuple[int, str]:
    """The regex of a ``[...]`` class starting at ``i``, and the index of its ``]``."""
    negate = i < len(pattern) and pattern[i] == "^"
    i += negate
    items = []
    while i < len(pattern) and pattern[i] != "]":
        if pattern[i] == "\\" and i + 1 < len(pattern):
            items.append(re.escape(pattern[i + 1]))
            i += 2
        elif i + 2 < len(pattern) and pattern[i + 1] == "-":
            low, high = sorted((pattern[i], pattern[i + 2]))
            items.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
        else:
            items.append(re.escape(pattern[i]))
            i += 1
    if not items:
        return i, "[\\s\\S]" if negate else "[^\\s\\S]"
    return i, f"[{'^' if negate else ''}{''.join(items)}]"


def check_name(name: object) -> str:
    """A usable object name: a non-empty string of printable characters."""
    if not isinstance(name, str) or not name:
        raise InvalidKeyNameError("a key name must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidKeyNameError(
            f"key name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters"
        )
    if not name.isprintable():
        raise InvalidKeyNameError(f"key name {name!r} contains control characters")
    return name


@cache
def shard_tags(shards: int) -> tuple[str, ...]:
    """Hash tags for ``shards`` shards: tag ``i`` hashes into the ``i``-th slot range.

    The smallest decimal number whose slot lands in each range; deterministic,
    so every process and every version computes the same tags.
    """
    width = REDIS_CLUSTER_HASH_SLOTS / shards
    tags: list[str | None] = [None] * shards
    missing, candidate = shards, 0
    while missing:
        shard = int(key_slot(str(candidate).encode()) / width)
        if tags[shard] is None:
            tags[shard] = str(candidate)
            missing -= 1
        candidate += 1
    return tuple(t for t in tags if t is not None)


@dataclass(frozen=True)
class KeyLayout:
    """Key names for one region's Redis: a prefix and a shard count."""

    prefix: str = DEFAULT_PREFIX
    shards: int = DEFAULT_SHARDS
    tags: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (
            not self.prefix
            or any(c in self.prefix for c in "{}:#")
            or not self.prefix.isprintable()
        ):
            raise ValueError(f"key prefix {self.prefix!r} must be non-empty without '{{}}:#'")
        if not 1 <= self.shards <= 4096:
            raise ValueError(f"shard count {self.shards} must be between 1 and 4096")
        object.__setattr__(self, "tags", shard_tags(self.shards))

    def shard_of(self, name: str) -> int:
        return zlib.crc32(name.encode()) % self.shards

    def data_key(self, name: str, shard: int | None = None) -> str:
        """The hash of object ``name`` (``shard``, when known, saves hashing the name again)."""
        tag = self.tags[self.shard_of(name) if shard is None else shard]
        return f"{self.prefix}:{{{tag}}}:{name}"

    def index_key(self, name: str) -> str:
        """A counter map's derived index, beside its hash in the same hash slot."""
        return f"{self.prefix}#{{{self.tags[self.shard_of(name)]}}}:top:{name}"

    def head_key(self, shard: int) -> str:
        return f"{self.prefix}#{{{self.tags[shard]}}}:head"

    def changes_key(self, shard: int) -> str:
        return f"{self.prefix}#{{{self.tags[shard]}}}:changes"

    def shard_keys(self, shard: int) -> list[str]:
        """KEYS[1] and KEYS[2] of every write script: the shard's head and change index."""
        return [self.head_key(shard), self.changes_key(shard)]

    @property
    def identity_key(self) -> str:
        return f"{self.prefix}#region"

    def cursor_key(self, peer: str) -> str:
        return f"{self.prefix}#cursor:{peer}"

    def merged_key(self, peer: str) -> str:
        return f"{self.prefix}#merged:{peer}"

    def sync_stats_key(self, peer: str) -> str:
        return f"{self.prefix}#sync:{peer}"

    def retry_key(self, peer: str) -> str:
        return f"{self.prefix}#retry:{peer}"

    def lock_key(self, peer: str) -> str:
        return f"{self.prefix}#lock:{peer}"

    @property
    def workers_key(self) -> str:
        """The region's live sync workers: worker name -> time of its last heartbeat."""
        return f"{self.prefix}#workers"

    @property
    def sync_jobs_key(self) -> str:
        """When each shard group's sync job last started: ``<index>of<count>`` -> time."""
        return f"{self.prefix}#sync-jobs"

    def convergence_key(self, origin: str) -> str:
        return f"{self.prefix}#convergence:{origin}"

    @property
    def convergence_origins_key(self) -> str:
        return f"{self.prefix}#convergence-origins"

    @property
    def data_pattern(self) -> str:
        """``SCAN MATCH`` pattern of every object key."""
        return f"{self.prefix}:*"

    def name_of(self, data_key: str) -> str:
        """The object name inside a data key (inverse of :meth:`data_key`)."""
        head = f"{self.prefix}:{{"
        if not data_key.startswith(head) or "}:" not in data_key:
            raise ValueError(f"{data_key!r} is not a crdtredis data key")
        return data_key.split("}:", 1)[1]
