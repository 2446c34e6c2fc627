"""A pass's first round trip to a peer: identity, heads, the first page, and its objects.

A steady pass from an idle or lightly written peer needs nothing more, so
at 80-250 ms between regions it costs one round trip. On a single-server
peer the survey is one read-only script (``lua/survey.lua``), run
atomically: the page, the objects it names, their graves and the replica
registry are one snapshot, so the registry names every replica id the
objects hold. A page longer than :data:`INLINE_STATES` names is surveyed
without its objects, which the pass then reads page by page. A peer whose
Redis refuses the script (an ACL without ``EVALSHA``) is surveyed with a
pipeline instead, and its objects cost a second round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis

from crdtredis.replication.peer import Changes, Peer, PeerHeads, PeerIncarnation
from crdtredis.store.identity import RegionIdentity, registry_of
from crdtredis.store.layout import GRAVE_PREFIX, KeyLayout

log = logging.getLogger(__name__)

#: Most names whose objects the survey reads with the page, and most fields
#: over all of them: enough for a steadily written peer, few enough that the
#: script never holds the peer's Redis for long (about a millisecond).
INLINE_STATES = 256
INLINE_FIELDS = 10_000

#: A page's objects as read: hashes in page order (``{}`` when gone, an
#: exception when unreadable), graves of the gone ones, the replica registry.
PageStates = tuple[list[dict[str, str] | Exception], dict[str, str], dict[str, str]]

_SCRIPT = (resources.files("crdtredis.replication") / "lua" / "survey.lua").read_text()
#: Stands in for an identity not read yet (a pipelined survey queues its reads by shard count).
_NO_IDENTITY = RegionIdentity("unknown", "", 0, 0.0)


@dataclass(frozen=True)
class Survey:
    """What :func:`survey` read in its one round trip."""

    source: PeerIncarnation
    heads: PeerHeads
    #: The cursor the page was read past.
    after: list[int]
    #: The first page past ``after`` (None: the peer's shard count differs).
    page: dict[int, Changes] | None
    #: Shards whose index was trimmed past ``after`` (empty pages).
    trimmed: set[int]
    #: The page's objects by name, read with it (None: not read).
    objects: dict[str, dict[str, str] | Exception] | None = None
    graves: dict[str, str] | None = None
    registry: dict[str, str] | None = None

    def states(self, names: Sequence[str]) -> PageStates | None:
        """The objects of ``names`` (all on the page) as the survey read them; None if not read."""
        if not names:
            return [], {}, {}
        if self.objects is None or any(name not in self.objects for name in names):
            return None
        graves = self.graves or {}
        found = [self.objects[name] for name in names]
        return found, {n: graves[n] for n in names if n in graves}, self.registry or {}


def survey(
    peer: Peer, puller: str, after: Sequence[int], limit: int, shards: Collection[int]
) -> Survey | None:
    """What a pass needs first, in one round trip: the identity, the heads, the peer's
    cursor on ``puller``, the first page of ``shards`` past ``after`` (the puller's
    cursor as stored) and, when few, the objects it names. None when the peer holds
    no identity.

    The page counts only if the peer still has ``len(after)`` shards and the
    cursor belongs to its incarnation (the caller checks).
    """
    wanted = {s: v for s, v in enumerate(after) if s in shards}
    if peer.scripted:
        try:
            return _scripted(peer, puller, list(after), limit, wanted)
        except redis.exceptions.ResponseError as exc:
            if not _refused(exc):
                raise
            peer.scripted = False
            log.warning(
                "peer %s does not run the survey script (%s): its passes use pipelines, "
                "one more round trip each",
                peer.name,
                str(exc).splitlines()[0],
            )
    return _pipelined(peer, puller, list(after), limit, wanted)


def _refused(error: redis.exceptions.ResponseError) -> bool:
    """Whether the peer's Redis will never run the survey script for this user (an
    ACL without ``EVALSHA`` or ``SCRIPT LOAD``, scripting turned off), rather than
    failed this once (busy, out of memory, a corrupt key)."""
    text = str(error).lower()
    return isinstance(error, redis.exceptions.NoPermissionError) or "unknown command" in text


def _scripted(
    peer: Peer, puller: str, after: list[int], limit: int, wanted: dict[int, int]
) -> Survey | None:
    layout = KeyLayout(peer.prefix, len(after))
    keys = [layout.identity_key, layout.cursor_key(puller)]
    args: list[str | int] = [limit, INLINE_STATES, INLINE_FIELDS, GRAVE_PREFIX]
    for shard in range(len(after)):
        keys += layout.shard_keys(shard)
        args += [wanted.get(shard, "-"), layout.data_key("", shard)]
    script = peer.client.register_script(_SCRIPT)
    identity, theirs, heads, pages, states = script(keys=keys, args=args)
    fields = _pairs(_checked(identity))
    if not fields:
        return None
    source = _open(peer, fields)
    if source.identity.shards != len(after):
        return Survey(source, source.heads(puller), after, None, set())
    replies: list[Any] = [_pairs(theirs) if not _failed(theirs) else {}]
    for head, newest in heads:
        replies += [_checked(head, raise_it=False), _scores(newest)]
    read = source.parse_heads(replies, puller)
    found = [_scores(pages[shard]) for shard in wanted]
    page, trimmed = source.parse_changes(wanted, found, read.trims)
    if not states:
        return Survey(source, read, after, page, trimmed)
    objects, graves = _objects(found, states)
    return Survey(source, read, after, page, trimmed, objects, graves, registry_of(fields))


def _objects(
    found: list[Any], states: list[Any]
) -> tuple[dict[str, dict[str, str] | Exception], dict[str, str]]:
    """The script's states by name: it read them in page order, shard by shard."""
    listed = [name for entries in found if isinstance(entries, list) for name, _ in entries]
    objects: dict[str, dict[str, str] | Exception] = {}
    graves: dict[str, str] = {}
    for name, (kind, value) in zip(listed, states, strict=True):
        if kind == "h":
            value = _checked(value, raise_it=False)
            objects[name] = value if isinstance(value, Exception) else _pairs(value)
        else:
            objects[name] = {}
            if isinstance(value, str):
                graves[name] = value
    return objects, graves


def _pipelined(
    peer: Peer, puller: str, after: list[int], limit: int, wanted: dict[int, int]
) -> Survey | None:
    """The survey as one pipeline, for a peer that runs no scripts: the page is read
    before the heads, so a trim mark that overtook it shows (see
    :meth:`PeerIncarnation.changes`)."""
    layout = KeyLayout(peer.prefix, len(after))
    shape = PeerIncarnation(peer, _NO_IDENTITY, layout)
    ahead = shape.cursor_ahead(puller)
    pipe = peer.client.pipeline(transaction=False)
    pipe.hgetall(layout.identity_key)
    shape.queue_changes(pipe, wanted, limit)
    shape.queue_heads(pipe, puller)
    replies = pipe.execute(raise_on_error=False)
    fields = replies[0]
    if isinstance(fields, Exception):
        raise fields
    if not fields:
        return None
    source = _open(peer, fields)
    if source.identity.shards != len(after):
        return Survey(source, source.heads(puller), after, None, set())
    pages = replies[1 : 1 + len(wanted)]
    heads = shape.parse_heads([*ahead, *replies[1 + len(wanted) :]], puller)
    page, trimmed = shape.parse_changes(wanted, pages, heads.trims)
    return Survey(source, heads, after, page, trimmed)


def _open(peer: Peer, fields: dict[str, str]) -> PeerIncarnation:
    where = f"peer {peer.name} ({peer.where})"
    identity = RegionIdentity.from_fields(fields, where).check_layout(where)
    return PeerIncarnation(peer, identity, KeyLayout(peer.prefix, identity.shards))


def _failed(reply: Any) -> bool:
    """A read the script caught failing: ``{'!', error, '!'}`` (odd length, unlike a reply)."""
    return isinstance(reply, list) and len(reply) == 3 and reply[0] == "!" and reply[2] == "!"


def _checked(reply: Any, *, raise_it: bool = True) -> Any:
    """``reply``, or the error the script caught in its place (raised, or given)."""
    if not _failed(reply):
        return reply
    error = redis.exceptions.ResponseError(str(reply[1]))
    if raise_it:
        raise error
    return error


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _scores(flat: Any) -> Any:
    """A ``WITHSCORES`` reply as (member, score) pairs, or the error read in its place."""
    if _failed(flat):
        return _checked(flat, raise_it=False)
    return [(flat[i], int(float(flat[i + 1]))) for i in range(0, len(flat), 2)]
