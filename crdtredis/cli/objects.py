"""Commands on objects: incr, decr, get, del, expire, persist, ttl, set, log, keys."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from crdtredis.cli.app import BadInput, Settings, pass_settings
from crdtredis.replication.probe import is_probe
from crdtredis.store.types import REGISTRY

COUNTER_TYPES = REGISTRY.names("counter")
SET_TYPES = REGISTRY.names("set")
#: The command that reads a key of each family.
READ_COMMAND = {"map": "map items", "set": "set members", "log": "log read"}


def _amount(by: int, down: bool = False) -> int:
    if by < 0:
        hint = "" if down else "; use decr to count down"
        raise BadInput(f"--by must be >= 0, got {by}{hint}")
    return by


@click.command()
@click.argument("key")
@click.option("--by", default=1, show_default=True, help="Amount to add (>= 0).")
@click.option(
    "--type",
    "type_name",
    type=click.Choice(COUNTER_TYPES),
    help="Counter type when the key is new (default pncounter; an existing key keeps its own).",
)
@click.option(
    "--ttl",
    type=click.IntRange(min=1),
    help="Seconds the key lives, set when it has no expiry yet (a daily bucket's lifetime).",
)
@pass_settings
def incr(settings: Settings, key: str, by: int, type_name: str | None, ttl: int | None) -> None:
    """Add to a counter; print its new value."""
    region = settings.region()
    stored = region.type_of(key)
    chosen = stored if stored in COUNTER_TYPES and type_name is None else type_name or "pncounter"
    counter: Any = region.handle(chosen, key)
    click.echo(counter.incr(_amount(by)))
    if by == 0:
        click.echo(f"--by 0: nothing was written to {key!r}", err=True)
    elif ttl is not None:
        region.expire(key, ttl, only_new=True)


@click.command()
@click.argument("key")
@click.option("--by", default=1, show_default=True, help="Amount to subtract (>= 0).")
@pass_settings
def decr(settings: Settings, key: str, by: int) -> None:
    """Subtract from a PN counter; print its new value."""
    click.echo(settings.region().counter(key).decr(_amount(by, down=True)))


@click.command()
@click.argument("key")
@pass_settings
def get(settings: Settings, key: str) -> None:
    """Print a counter's value."""
    region = settings.region()
    stored = region.type_of(key)
    if stored is None:
        raise BadInput(f"key {key!r} does not exist in region {region.name}")
    if stored not in COUNTER_TYPES:
        hint = READ_COMMAND.get(region.types.by_name(stored).family, "inspect")
        raise BadInput(f"key {key!r} has type {stored}, not a counter; use crdtredis {hint}")
    counter: Any = region.handle(stored, key)
    click.echo(counter.value())


@click.command("del")
@click.argument("names", metavar="KEY...", nargs=-1, required=True)
@pass_settings
def delete(settings: Settings, names: tuple[str, ...]) -> None:
    """Delete keys as this region has seen them; print how many held anything.

    Writes made concurrently in another region and not yet pulled here
    survive (a counter counts them from zero). A grow-only set cannot be
    deleted.
    """
    click.echo(settings.region().delete(*names))


@click.command()
@click.argument("key")
@click.argument("seconds", type=click.IntRange(min=1))
@pass_settings
def expire(settings: Settings, key: str, seconds: int) -> None:
    """Make KEY expire SECONDS from now, in every region."""
    region = settings.region()
    if not region.expire(key, seconds):
        raise BadInput(f"key {key!r} does not exist in region {region.name}; nothing to expire")
    click.echo(1)


@click.command()
@click.argument("key")
@pass_settings
def persist(settings: Settings, key: str) -> None:
    """Take KEY's expiry away, in every region."""
    region = settings.region()
    if not region.persist(key):
        raise BadInput(f"key {key!r} does not exist in region {region.name}; nothing to persist")
    click.echo(1)


@click.command()
@click.argument("key")
@pass_settings
def ttl(settings: Settings, key: str) -> None:
    """Print KEY's seconds to live (whole seconds; -1: no expiry, -2: missing), as Redis does."""
    left = settings.region().ttl(key)
    click.echo(int(left) if left < 0 else math.ceil(left))


@click.group("set")
def set_group() -> None:
    """Sets: add, remove, members (an OR-Set unless --type says otherwise)."""


def _set(settings: Settings, key: str, type_name: str | None) -> Any:
    region = settings.region()
    stored = region.type_of(key)
    chosen = type_name or (stored if stored in SET_TYPES else "orset")
    return region.handle(chosen, key)


SET_TYPE_OPTION = click.option(
    "--type",
    "type_name",
    type=click.Choice(SET_TYPES),
    help="Set type when the key is new (default orset; an existing key keeps its own).",
)


@set_group.command("add")
@click.argument("key")
@click.argument("elements", nargs=-1, required=True)
@SET_TYPE_OPTION
@pass_settings
def set_add(settings: Settings, key: str, elements: tuple[str, ...], type_name: str | None) -> None:
    """Add elements to a set."""
    target = _set(settings, key, type_name)
    for element in elements:
        target.add(element)


@set_group.command("remove")
@click.argument("key")
@click.argument("elements", nargs=-1, required=True)
@pass_settings
def set_remove(settings: Settings, key: str, elements: tuple[str, ...]) -> None:
    """Remove elements from a set (an error if one is not a member)."""
    target = _set(settings, key, None)
    for element in elements:
        target.remove(element)


@set_group.command("members")
@click.argument("key")
@pass_settings
def set_members(settings: Settings, key: str) -> None:
    """Print a set's members, one per line, sorted."""
    for member in _set(settings, key, None):
        click.echo(member)


def parse_payload(text: str) -> Any:
    """A log payload: JSON when it parses as JSON, else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.group("log")
def log_group() -> None:
    """Event logs (the Sequence): append, insert, remove, read."""


@log_group.command("append")
@click.argument("key")
@click.argument("payloads", nargs=-1, required=True)
@pass_settings
def log_append(settings: Settings, key: str, payloads: tuple[str, ...]) -> None:
    """Append events (JSON, or plain strings) to a log."""
    log = settings.region().sequence(key)
    for payload in payloads:
        log.append(parse_payload(payload))


@log_group.command("insert")
@click.argument("key")
@click.argument("index", type=int)
@click.argument("payload")
@pass_settings
def log_insert(settings: Settings, key: str, index: int, payload: str) -> None:
    """Insert an event so it becomes the one at INDEX."""
    settings.region().sequence(key).insert(index, parse_payload(payload))


@log_group.command("remove")
@click.argument("key")
@click.argument("index", type=int)
@pass_settings
def log_remove(settings: Settings, key: str, index: int) -> None:
    """Remove the event at INDEX; print it."""
    click.echo(json.dumps(settings.region().sequence(key).remove(index)))


@log_group.command("read")
@click.argument("key")
@click.option("--last", type=int, help="Only the last N events.")
@pass_settings
def log_read(settings: Settings, key: str, last: int | None) -> None:
    """Print a log's events in order, one JSON value per line."""
    region = settings.region()
    log = region.sequence(key)
    if not log.exists():
        raise BadInput(f"key {key!r} does not exist in region {region.name}")
    items = log.to_list()
    if last is not None:
        if last < 0:
            raise BadInput(f"--last must be >= 0, got {last}")
        items = items[-last:] if last else []
    for item in items:
        click.echo(json.dumps(item, ensure_ascii=False))


@click.command()
@click.argument("pattern", default="*")
@click.option("--type", "with_type", is_flag=True, help="Also print each key's type.")
@pass_settings
def keys(settings: Settings, pattern: str, with_type: bool) -> None:
    """List the region's keys matching a glob PATTERN (default: all), sorted."""
    region = settings.region()
    for name in sorted(n for n in region.names(pattern) if not is_probe(n)):
        click.echo(f"{name}\t{region.type_of(name)}" if with_type else name)
