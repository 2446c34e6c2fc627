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


@click.command()
@click.option("--bind", help="Address to listen on (default 0.0.0.0, config exporter.bind).")
@click.option("--port", type=int, help="Port to listen on (default 9108, config exporter.port).")
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="A key name or glob pattern to report; repeatable (default: config exporter.keys).",
)
@click.option("--max-keys", type=int, help="Most keys reported (default 1000).")
@pass_settings
def exporter(
    settings: Settings,
    bind: str | None,
    port: int | None,
    keys: tuple[str, ...],
    max_keys: int | None,
) -> None:
    """Serve this region's Prometheus metrics on /metrics until stopped."""
    import signal
    import threading

    from crdtredis.config import with_overrides
    from crdtredis.metrics import serve

    config = with_overrides(
        settings.config,
        **{
            k: v
            for k, v in {
                "exporter_bind": bind,
                "exporter_port": port,
                "exporter_keys": list(keys) or None,
                "exporter_max_keys": max_keys,
            }.items()
            if v is not None
        },
    )
    server, _thread = serve(config)
    click.echo(
        f"crdtredis exporter for region {config.region} on "
        f"http://{config.exporter_bind}:{config.exporter_port}/metrics",
        err=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
