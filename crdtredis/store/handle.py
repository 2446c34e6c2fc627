"""What every Redis-backed object shares: its key, typed reads, export and merge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from crdtredis.crdt.interface import CRDT, StateDict
from crdtredis.errors import InvalidStateError, WrongTypeError
from crdtredis.store import codec
from crdtredis.store.layout import TYPE_CODES, TYPE_NAMES, check_name
from crdtredis.store.refusal import refusal_error
from crdtredis.store.scripts import LuaScript, ScriptError, script
from crdtredis.store.validation import validate

if TYPE_CHECKING:
    from crdtredis.store.region import RegionStore

Pure = TypeVar("Pure", bound=CRDT)


class RedisObject(Generic[Pure]):
    """One replicated object in a region's Redis, behaving like its pure twin.

    Reads fetch the object's hash (one round trip); writes are one Lua script
    each. Reading or writing an object stored as another type raises
    :class:`~crdtredis.errors.WrongTypeError` and changes nothing.
    """

    pure_type: ClassVar[type[Any]]

    def __init__(self, region: RegionStore, name: str) -> None:
        self.region = region
        self.name = check_name(name)
        self.key = region.layout.data_key(name)
        self.shard = region.layout.shard_of(name)
        #: KEYS of every write script on this object: shard head, index, the hash.
        self.keys = [*region.layout.shard_keys(self.shard), self.key]

    @property
    def type_name(self) -> str:
        return str(self.pure_type.type_name)

    @property
    def code(self) -> str:
        return TYPE_CODES[self.type_name]

    def _fields(self) -> dict[str, str]:
        """The object's hash, after checking it is of this type (empty if missing)."""
        fields: dict[str, str] = self.region.client.hgetall(self.key)
        self._check_code(fields.get(""))
        return fields

    def _check_code(self, stored: str | None) -> None:
        if stored is not None and stored != self.code:
            raise WrongTypeError(self.name, TYPE_NAMES.get(stored, stored), self.type_name)

    def _write(self, lua_name: str, *args: str) -> Any:
        """Run a write script on this object; turn a refusal into the domain error."""
        return self._write_with(script(lua_name), lambda: list(args))

    def _write_with(self, lua: LuaScript, build: Any) -> Any:
        try:
            return self.region.write(self.shard, self.keys, lua, build)
        except ScriptError as exc:
            raise self.refusal(exc) from None

    def refusal(self, exc: ScriptError) -> Exception:
        """The error a script's refusal means for this object."""
        return refusal_error(exc.code, exc.detail.split("\t", 1)[0], self.name, self.type_name)

    def exists(self) -> bool:
        return bool(self._fields())

    def to_dict(self) -> StateDict:
        """The replicated state, as the pure type's ``to_dict`` gives it."""
        fields = self._fields()
        try:
            return self.pure_type.from_dict(  # type: ignore[no-any-return]
                codec.decode(self.type_name, fields), self.region.replica
            ).to_dict()
        except ValueError as exc:
            raise InvalidStateError(self.name, f"stored state is corrupt: {exc}") from None

    def state(self) -> Pure:
        """A pure copy of the object, writing as this region's replica."""
        return self.pure_type.from_dict(self.to_dict(), self.region.replica)  # type: ignore[no-any-return]

    def merge(self, other: Pure | Mapping[str, Any]) -> bool:
        """Join another replica's state in; True when anything changed.

        Raises:
            InvalidStateError: the state is malformed; nothing was written.
            WrongTypeError: the state or the stored object is of another type.
        """
        raw = other.to_dict() if hasattr(other, "to_dict") else other
        validate(self.name, raw)
        state = cast(StateDict, raw)
        if state["type"] != self.type_name:
            raise WrongTypeError(self.name, state["type"], self.type_name)
        report = self.region.merge_many({self.name: state})
        report.raise_for(self.name)
        return self.name in report.changed

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, region={self.region.name!r})"
