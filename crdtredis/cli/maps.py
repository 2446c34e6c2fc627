"""Commands on counter maps: ``crdtredis map incr|decr|get|top|items|del``."""

from __future__ import annotations

import click

from crdtredis.cli.app import BadInput, Settings, pass_settings
from crdtredis.store.types import RedisCounterMap


@click.group("map")
def map_group() -> None:
    """Counter maps: named counters in one key (views:<day> -> page -> count)."""


def _map(settings: Settings, key: str) -> RedisCounterMap:
    return settings.region().counter_map(key)


def _by(by: int) -> int:
    if by < 0:
        raise BadInput(f"--by must be >= 0, got {by}; use map decr to count down")
    return by


@map_group.command("incr")
@click.argument("key")
@click.argument("field")
@click.option("--by", default=1, show_default=True, help="Amount to add (>= 0).")
@click.option(
    "--ttl",
    type=click.IntRange(min=1),
    help="Seconds the key lives, set when it has no expiry yet (a daily bucket's lifetime).",
)
@pass_settings
def map_incr(settings: Settings, key: str, field: str, by: int, ttl: int | None) -> None:
    """Add to FIELD of the map KEY; print the field's new count."""
    views = _map(settings, key)
    click.echo(views.incr(field, _by(by)))
    if ttl is not None and by:
        views.region.expire(key, ttl, only_new=True)


@map_group.command("decr")
@click.argument("key")
@click.argument("field")
@click.option("--by", default=1, show_default=True, help="Amount to subtract (>= 0).")
@pass_settings
def map_decr(settings: Settings, key: str, field: str, by: int) -> None:
    """Subtract from FIELD of the map KEY; print the field's new count."""
    if by < 0:
        raise BadInput(f"--by must be >= 0, got {by}")
    click.echo(_map(settings, key).decr(field, by))


@map_group.command("get")
@click.argument("key")
@click.argument("fields", nargs=-1, required=True)
@pass_settings
def map_get(settings: Settings, key: str, fields: tuple[str, ...]) -> None:
    """Print the count of each FIELD (0 for a field never counted), one per line."""
    views = _map(settings, key)
    for field in fields:
        click.echo(views.get(field))


@map_group.command("top")
@click.argument("key")
@click.option("-n", "count", default=10, show_default=True, help="How many fields.")
@pass_settings
def map_top(settings: Settings, key: str, count: int) -> None:
    """Print the N largest counts, largest first: FIELD<tab>COUNT per line."""
    if count < 0:
        raise BadInput(f"-n must be >= 0, got {count}")
    for field, n in _map(settings, key).top(count):
        click.echo(f"{field}\t{n}")


@map_group.command("items")
@click.argument("key")
@pass_settings
def map_items(settings: Settings, key: str) -> None:
    """Print every field with a count other than 0, by field name: FIELD<tab>COUNT."""
    for field, n in _map(settings, key).items().items():
        click.echo(f"{field}\t{n}")


@map_group.command("del")
@click.argument("key")
@click.argument("fields", nargs=-1, required=True)
@pass_settings
def map_delete(settings: Settings, key: str, fields: tuple[str, ...]) -> None:
    """Reset FIELDs as this region has seen them; print 1 if a count was reset, else 0.

    Views counted concurrently in another region and not yet pulled here survive.
    """
    click.echo(int(_map(settings, key).delete_field(*fields)))
