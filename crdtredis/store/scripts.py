"""The Lua scripts every write goes through, loaded once and run by SHA.

Each ``lua/*.lua`` file is one script (its header states KEYS and ARGV);
``lua/_prelude.lua`` is prepended to each. Scripts run with ``EVALSHA``; a
server that does not know a script (``NOSCRIPT``: restarted, failed over, or
a cluster node added) gets it loaded and the call is repeated, alone or inside
a pipeline. Before anything is loaded again the runner tells its
``on_lost`` hook: a server that forgot its scripts may have restarted from an
older copy of its data, and the region's guard must know that before any
write script can run there again. Errors a script raises on purpose (``CRDT <CODE> <detail>``) come
back as :class:`ScriptError`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    NoScriptError,
    ResponseError,
    TryAgainError,
)
from redis.retry import Retry

Client = Any  # redis.Redis | redis.RedisCluster, with decode_responses=True

#: Replies of a cluster node meaning "not here, or not now": re-run through the cluster client.
REDIRECTS = (MovedError, AskError, TryAgainError, ClusterDownError)
Call = tuple["LuaScript", Sequence[str], Sequence[str | int]]


@dataclass(frozen=True)
class LuaScript:
    name: str
    text: str
    sha: str


def lua_source(path: str) -> str:
    """The text of ``lua/<path>``, a file of this package."""
    return (resources.files("crdtredis.store") / "lua" / path).read_text()


def compose(name: str, *parts: str) -> LuaScript:
    """A script made of the prelude, the counter maps' index helpers and ``parts``, in order."""
    text = "\n".join([lua_source("_prelude.lua"), lua_source("_index.lua"), *parts])
    return LuaScript(name, text, hashlib.sha1(text.encode()).hexdigest())


@cache
def script(name: str) -> LuaScript:
    """The script ``lua/<name>.lua`` with the prelude in front."""
    return compose(name, lua_source(f"{name}.lua"))


def all_scripts() -> list[LuaScript]:
    """Every script of ``lua/`` (files starting with ``_`` are parts, not scripts)."""
    folder = resources.files("crdtredis.store") / "lua"
    return [
        script(entry.name.removesuffix(".lua"))
        for entry in folder.iterdir()
        if entry.name.endswith(".lua") and not entry.name.startswith("_")
    ]


class ScriptError(Exception):
    """A script refused the call on purpose: ``code`` says why, ``detail`` about what."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code} {detail}")
        self.code, self.detail = code, detail

    @classmethod
    def parse(cls, error: ResponseError) -> ScriptError | None:
        message = str(error)
        at = message.find("CRDT ")
        if at < 0:
            return None
        code, _, detail = message[at + 5 :].partition(" ")
        # The server may append " script: <sha>, on @user_script:..." to the message.
        detail = detail.split(" script: ", 1)[0].strip()
        return cls(code, detail)


def _translate(result: Any) -> Any:
    if isinstance(result, ResponseError):
        return ScriptError.parse(result) or result
    return result


class ScriptsMissing(NoScriptError):
    """Calls of a pipeline met ``NOSCRIPT``: these scripts are to be loaded."""

    def __init__(self, scripts: set[LuaScript]) -> None:
        super().__init__(f"scripts not loaded: {sorted(s.name for s in scripts)}")
        self.scripts = scripts


#: The one reload policy: a call that met ``NOSCRIPT`` loads its scripts and runs once more.
RELOAD = Retry(NoBackoff(), 1, (NoScriptError,))


def before_retry(
    policy: Retry, fail: Callable[[Exception], object]
) -> Callable[[Exception, int], None]:
    """A ``fail`` for ``policy.call_with_retry`` that acts before a retry, not after the last try.

    redis-py's ``Retry`` calls ``fail`` after every failure, the last one too;
    loading or healing when no attempt follows would be work for nothing. Use
    it with ``with_failure_count=True``.
    """

    def on_failure(error: Exception, failures: int) -> None:
        if failures <= policy.get_retries():
            fail(error)

    return on_failure


class ScriptRunner:
    """Runs scripts on one client, alone or many in one round trip.

    Args:
        client: the Redis (or cluster) client scripts run on.
        extra: scripts made elsewhere (the registry's merge script) that
            :meth:`load_all` loads with the files of ``lua/``.

    Attributes:
        on_lost: called before scripts are loaded again after a server
            answered ``NOSCRIPT`` (the region's guard checks whether the
            server restarted). Calls made from inside it load what they need
            without calling it again.
    """

    def __init__(self, client: Client, extra: Callable[[], Sequence[LuaScript]] = tuple) -> None:
        self.client = client
        self._extra = extra
        self.on_lost: Callable[[], object] | None = None
        self._inside = threading.local()

    def _lost(self) -> None:
        if self.on_lost is None or getattr(self._inside, "hook", False):
            return
        self._inside.hook = True
        try:
            self.on_lost()
        finally:
            self._inside.hook = False

    def load(self, lua: LuaScript) -> None:
        """Load one script after a ``NOSCRIPT`` (``on_lost`` first)."""
        self._lost()
        # On a cluster, SCRIPT LOAD goes to every primary.
        self.client.script_load(lua.text)

    def load_all(self) -> None:
        """Load every script now, so the first batches do not meet NOSCRIPT.

        One round trip on a single server; on a cluster, SCRIPT LOAD per
        script goes to every primary. ``on_lost`` is not called: a region
        loads its scripts right after its guard looked at the server.
        """
        scripts = [*all_scripts(), *self._extra()]
        if is_cluster(self.client):
            for lua in scripts:
                self.client.script_load(lua.text)
            return
        pipe = self.client.pipeline(transaction=False)
        for lua in scripts:
            pipe.script_load(lua.text)
        pipe.execute()

    def call(self, lua: LuaScript, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """Run one script; raise :class:`ScriptError` when it refuses."""
        try:
            return RELOAD.call_with_retry(
                lambda: self.client.evalsha(lua.sha, len(keys), *keys, *args),
                before_retry(RELOAD, lambda _error: self.load(lua)),
                with_failure_count=True,
            )
        except ResponseError as exc:
            raise _translate(exc) from None

    def call_many(self, calls: Sequence[Call]) -> list[Any]:
        """Run several scripts in one round trip per server (a pipeline, not a transaction).

        Returns one result per call, in order; a call that failed has its
        exception (a :class:`ScriptError` when refused on purpose) in place
        of a result. Calls the server did not know the script for are loaded
        and run again; no call runs twice. On a cluster, calls are grouped by
        the node that owns their first key; a call the node redirects (the
        slot moved) is re-run alone through the cluster client.
        """
        if not is_cluster(self.client):
            return self._pipelined(self.client, calls)
        by_node: dict[str, list[int]] = {}
        nodes: dict[str, Any] = {}
        for i, (_lua, keys, _args) in enumerate(calls):
            node = self.client.get_node_from_key(keys[0])
            by_node.setdefault(node.name, []).append(i)
            nodes[node.name] = node
        results: list[Any] = [None] * len(calls)
        for name, indices in by_node.items():
            connection = self.client.get_redis_connection(nodes[name])
            outcome = self._pipelined(connection, [calls[i] for i in indices])
            for i, result in zip(indices, outcome, strict=True):
                if isinstance(result, REDIRECTS):
                    try:
                        result = self.call(*calls[i])
                    except (ScriptError, ResponseError) as exc:
                        result = exc
                results[i] = result
        return results

    def _pipelined(self, client: Client, calls: Sequence[Call]) -> list[Any]:
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))

        def run() -> list[Any]:
            nonlocal pending
            pipe = client.pipeline(transaction=False)
            for i in pending:
                lua, keys, args = calls[i]
                pipe.evalsha(lua.sha, len(keys), *keys, *args)
            missing = []
            for i, result in zip(pending, pipe.execute(raise_on_error=False), strict=True):
                if isinstance(result, NoScriptError):
                    missing.append(i)
                else:
                    results[i] = _translate(result)
            pending = missing
            if missing:
                raise ScriptsMissing({calls[i][0] for i in missing})
            return results

        def load(error: Exception) -> None:
            self._lost()
            for lua in getattr(error, "scripts", ()):
                client.script_load(lua.text)

        try:
            return RELOAD.call_with_retry(run, before_retry(RELOAD, load), with_failure_count=True)
        except ScriptsMissing as exc:
            for i in pending:
                results[i] = NoScriptError(f"script {calls[i][0].name} could not be loaded: {exc}")
            return results


def is_cluster(client: Client) -> bool:
    return isinstance(client, redis.RedisCluster)
