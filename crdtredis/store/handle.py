"""What every Redis-backed object shares: its key, typed reads, export and merge."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from redis.exceptions import ResponseError

from crdtredis.crdt.interface import CRDT, StateDict
from crdtredis.errors import CRDTRedisError, InvalidStateError, ObstructedKeyError, WrongTypeError
from crdtredis.store.expiry import ExpirySetting, now_ms
from crdtredis.store.layout import check_name
from crdtredis.store.refusal import refusal_error
from crdtredis.store.scripts import LuaScript, ScriptError, script

if TYPE_CHECKING:
    from crdtredis.store.region import RegionStore
    from crdtredis.store.types.contract import StoredType

Pure = TypeVar("Pure", bound=CRDT)

#: A write on an object, ready to run: its script and the builder of its arguments
#: (after the incarnation; called again after an identity change). The blocking
#: handles run it, and the asyncio ones await it (:mod:`crdtredis.aio`).
WriteCall = tuple[LuaScript, Callable[[], list[str]]]


class RedisObject(Generic[Pure]):
    """One replicated object in a region's Redis, behaving like its pure twin.

    Reads fetch the object's hash (one round trip); writes are one Lua script
    each. Reading or writing an object stored as another type raises
    :class:`~crdtredis.errors.WrongTypeError` and changes nothing.
    """

    #: The stored type this handle is for.
    stored: ClassVar[StoredType]

    def __init__(self, region: RegionStore, name: str) -> None:
        self.region = region
        self.name = check_name(name)
        self.key = region.layout.data_key(name)
        self.shard = region.layout.shard_of(name)
        #: KEYS of every write script on this object: shard head, index, the hash.
        self.keys = [*region.layout.shard_keys(self.shard), self.key]

    @property
    def type_name(self) -> str:
        return self.stored.name

    @property
    def code(self) -> str:
        return self.stored.code

    def _fields(self) -> dict[str, str]:
        """The object's hash, after checking it is of this type (empty if missing)."""
        with self.domain_errors():
            fields: dict[str, str] = self.region.client.hgetall(self.key)
        self._check_code(fields.get(""))
        return fields

    @contextmanager
    def domain_errors(self) -> Iterator[None]:
        """Redis's and the scripts' errors about this object as the errors of the domain:
        a script's refusal (:meth:`refusal`), a bare ``WRONGTYPE`` (:meth:`obstacle`)."""
        try:
            yield
        except ScriptError as exc:
            raise self.refusal(exc) from None
        except ResponseError as exc:
            raise self.obstacle(exc) from None

    def obstacle(self, exc: ResponseError) -> Exception:
        """Redis's bare ``WRONGTYPE`` as an error that names the key and what to do.

        Any other error is given back as it is.
        """
        if "WRONGTYPE" not in str(exc):
            return exc
        kind = self.region.client.type(self.key)
        if kind not in ("hash", "none"):
            return ObstructedKeyError(self.name, kind)
        return CRDTRedisError(
            f"key {self.name!r}: a bookkeeping key of its shard ({self.keys[0]} or "
            f"{self.keys[1]}) is not what crdtredis wrote ({exc}); nothing was written"
        )

    def _check_code(self, stored: str | None) -> None:
        if stored is not None and stored != self.code:
            raise WrongTypeError(self.name, self.region.types.name_of_code(stored), self.type_name)

    def _write(self, lua_name: str, *args: str) -> Any:
        """Run a write script on this object; turn a refusal into the domain error."""
        return self._write_with(script(lua_name), lambda: list(args))

    def _write_with(self, lua: LuaScript, build: Callable[[], list[str]]) -> Any:
        with self.domain_errors():
            return self.region.write(self.shard, self.keys, lua, build)

    def refusal(self, exc: ScriptError) -> Exception:
        """The error a script's refusal means for this object."""
        detail = exc.detail.split("\t", 1)[0]
        return refusal_error(exc.code, detail, self.name, self.type_name, self.region.types)

    def exists(self) -> bool:
        """True when the object holds anything visible (False after a delete, until written)."""
        return self.exists_in(self._fields())

    def exists_in(self, fields: Mapping[str, str]) -> bool:
        """Whether the object's hash ``fields`` hold anything visible."""
        return bool(fields) and self.stored.live(self.decoded(fields))

    def decoded(self, fields: Mapping[str, str]) -> StateDict:
        """The state of the object's hash ``fields`` (``InvalidStateError`` when corrupt)."""
        try:
            return self.stored.decode_hash(fields)
        except ValueError as exc:
            raise InvalidStateError(self.name, f"stored state is corrupt: {exc}") from None

    def set_expiry(self, expire_ms: int, only_new: bool = False) -> bool:
        """Store an expiry setting taken now by this region (0: none); False if missing."""

        def build() -> list[str]:
            now = now_ms(self.region.clock)
            setting = ExpirySetting(now, self.region.replica, expire_ms).encode()
            return [self.name, setting, str(now), "1" if only_new else "0"]

        return bool(self._write_with(script("expire"), build))

    def delete(self) -> bool:
        """Remove what this region has observed of the object; True when anything was visible.

        An observed remove: what another region adds concurrently (an
        increment, an add, an append not yet pulled here) survives the merge,
        in every region alike. A counter is reset: it counts on from zero
        plus those concurrent increments. Deleting a missing or already
        empty object writes nothing.

        Raises:
            ValueError: the type has no delete (a grow-only set).
        """
        return bool(self._write_with(self.region.types.delete_script(), lambda: [self.name]))

    def to_dict(self) -> StateDict:
        """The replicated state, as the pure type's ``to_dict`` gives it."""
        return self.state_in(self._fields())

    def state_in(self, fields: Mapping[str, str]) -> StateDict:
        """The replicated state of the object's hash ``fields`` (pure ``to_dict`` form)."""
        return dict(self.pure_in(fields).to_dict())

    def pure_in(self, fields: Mapping[str, str]) -> Pure:
        """A pure copy of the object's hash ``fields``, writing as this region's replica."""
        state = self.decoded(fields)
        try:
            pure: Pure = self.stored.pure.from_dict(state, self.region.replica)
        except ValueError as exc:
            raise InvalidStateError(self.name, f"stored state is corrupt: {exc}") from None
        return pure

    def state(self) -> Pure:
        """A pure copy of the object, writing as this region's replica."""
        return self.pure_in(self._fields())

    def merge(self, other: Pure | Mapping[str, Any]) -> bool:
        """Join another replica's state in; True when anything changed.

        Raises:
            InvalidStateError: the state is malformed; nothing was written.
            WrongTypeError: the state or the stored object is of another type.
        """
        state: Any = other.to_dict() if hasattr(other, "to_dict") else other
        found = state.get("type") if isinstance(state, Mapping) else None
        if found in self.region.types.names() and found != self.type_name:
            raise WrongTypeError.for_state(self.name, found, self.type_name)
        report = self.region.merge_many({self.name: state})
        report.raise_for(self.name)
        return self.name in report.changed

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, region={self.region.name!r})"
