"""The Lua scripts every write goes through, loaded once and run by SHA.

Each ``lua/*.lua`` file is one script (its header states KEYS and ARGV);
``lua/_prelude.lua`` is prepended to each. Scripts run with ``EVALSHA``; a
server that does not know a script (``NOSCRIPT``: restarted, failed over, or
a cluster node added) gets it loaded and the call is repeated, alone or inside
a pipeline. Errors a script raises on purpose (``CRDT <CODE> <detail>``) come
back as :class:`ScriptError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import redis
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    NoScriptError,
    ResponseError,
    TryAgainError,
)

Client = Any  # redis.Redis | redis.RedisCluster, with decode_responses=True

#: Replies of a cluster node meaning "not here, or not now": re-run through the cluster client.
REDIRECTS = (MovedError, AskError, TryAgainError, ClusterDownError)
Call = tuple["LuaScript", Sequence[str], Sequence[str | int]]


@dataclass(frozen=True)
class LuaScript:
    name: str
    text: str
    sha: str


@cache
def script(name: str) -> LuaScript:
    """The script ``lua/<name>.lua`` with the prelude in front."""
    folder = resources.files("crdtredis.store") / "lua"
    prelude = (folder / "_prelude.lua").read_text()
    text = prelude + "\n" + (folder / f"{name}.lua").read_text()
    return LuaScript(name, text, hashlib.sha1(text.encode()).hexdigest())


def all_scripts() -> list[LuaScript]:
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


class ScriptRunner:
    """Runs scripts on one client, alone or many in one round trip."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def load(self, lua: LuaScript) -> None:
        # On a cluster, SCRIPT LOAD goes to every primary.
        self.client.script_load(lua.text)

    def load_all(self) -> None:
        """Load every script now, so the first batches do not meet NOSCRIPT.

        One round trip on a single server; on a cluster, SCRIPT LOAD per
        script goes to every primary.
        """
        if is_cluster(self.client):
            for lua in all_scripts():
                self.load(lua)
            return
        pipe = self.client.pipeline(transaction=False)
        for lua in all_scripts():
            pipe.script_load(lua.text)
        pipe.execute()

    def call(self, lua: LuaScript, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """Run one script; raise :class:`ScriptError` when it refuses."""
        try:
            try:
                return self.client.evalsha(lua.sha, len(keys), *keys, *args)
            except NoScriptError:
                self.load(lua)
                return self.client.evalsha(lua.sha, len(keys), *keys, *args)
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
        for _attempt in range(2):
            pipe = client.pipeline(transaction=False)
            for i in pending:
                lua, keys, args = calls[i]
                pipe.evalsha(lua.sha, len(keys), *keys, *args)
            outcome = pipe.execute(raise_on_error=False)
            missing = []
            for i, result in zip(pending, outcome, strict=True):
                if isinstance(result, NoScriptError):
                    missing.append(i)
                else:
                    results[i] = _translate(result)
            if not missing:
                return results
            for lua in {calls[i][0] for i in missing}:
                client.script_load(lua.text)
            pending = missing
        for i in pending:
            results[i] = NoScriptError(f"script {calls[i][0].name} could not be loaded")
        return results


def is_cluster(client: Client) -> bool:
    return isinstance(client, redis.RedisCluster)
