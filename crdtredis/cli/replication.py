"""``crdtredis sync`` and ``crdtredis worker``."""

from __future__ import annotations

import json
import time

import click

from crdtredis.cli.app import Failure, Settings, pass_settings


@click.command()
@click.option("--once/--loop", default=True, help="One pass (default), or a pass every interval.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--peer", "only", multiple=True, help="Only this peer (repeatable).")
@pass_settings
def sync(settings: Settings, once: bool, as_json: bool, only: tuple[str, ...]) -> None:
    """Pull what the peers changed and merge it in; print a report per peer.

    Exits 1 when a peer failed (its error is in the report).
    """
    region = settings.region()
    names = list(only) or [p.name for p in settings.config.peers]
    for name in names:
        settings.config.peer(name)
    if not names:
        raise Failure(f"region {region.name!r} has no peers configured; add --peer NAME=URL", 2)
    while True:
        reports = [region.sync_peer(name) for name in names]
        if as_json:
            click.echo(json.dumps([r.to_dict() for r in reports]))
        else:
            for report in reports:
                click.echo(report.summary())
        if once:
            break
        time.sleep(settings.config.sync_interval)
    failed = [r.peer for r in reports if not r.ok]
    if failed:
        raise Failure(f"sync from {', '.join(failed)} failed (see the report above)", 1)


@click.command()
@click.option("--burst", is_flag=True, help="Run the jobs due now, then exit.")
@click.option("--name", help="Worker name (default: RQ's).")
@pass_settings
def worker(settings: Settings, burst: bool, name: str | None) -> None:
    """Run an RQ worker for this region that keeps a sync job per peer scheduled."""
    from workers.worker import run_worker

    config = settings.config
    settings.region()  # fail fast, with a clear error, when the local Redis is unreachable
    click.echo(
        f"crdtredis worker for region {config.region}: peers "
        f"{', '.join(p.name for p in config.peers) or '(none)'}, "
        f"every {config.sync_interval:g}s",
        err=True,
    )
    run_worker(config, burst=burst, name=name)
