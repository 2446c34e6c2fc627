"""Commands that run processes (``sync``, ``worker``, ``exporter``, ``demo``), and ``retire``."""

from __future__ import annotations

import json
import time

import click

from crdtredis.cli.app import BadInput, RunFailure, Settings, pass_settings


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
        raise BadInput(f"region {region.name!r} has no peers configured; add --peer NAME=URL")
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
        raise RunFailure(f"sync from {', '.join(failed)} failed (see the report above)")


@click.command()
@click.argument("name")
@pass_settings
def retire(settings: Settings, name: str) -> None:
    """Forget region NAME, retired for good and removed from every configuration.

    Its slots stay in every counter, so no value changes; this region stops
    keeping its cursor, statistics and lease for it.
    """
    region = settings.region()
    try:
        removed = region.retire_peer(name)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    click.echo(
        f"region {region.name} forgot {name}: {removed} bookkeeping keys removed; "
        "its slots stay in every counter"
    )


@click.command()
@click.option("--burst", is_flag=True, help="Run the jobs due now, then exit.")
@click.option("--name", help="Worker name (default: <region>.<host>.<pid>).")
@pass_settings
def worker(settings: Settings, burst: bool, name: str | None) -> None:
    """Run an RQ worker for this region that keeps its sync jobs scheduled."""
    from crdtredis.workers.worker import run_worker, wait_until_ready

    config = settings.config
    # Waits while the local Redis is down, full or loading; fails fast, with a
    # clear error, on bad credentials or settings.
    if not wait_until_ready(config):
        return
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


@click.command()
@click.option("--seconds", default=30.0, show_default=True, help="How long page views arrive.")
@click.option("--regions", "count", default=3, show_default=True, help="Regions (2-6).")
@click.option("--rate", default=50.0, show_default=True, help="Page views per second, in all.")
@click.option(
    "--rtt",
    default=0.0,
    show_default=True,
    help="Round trip between regions, in ms, through a delay line (80-250 for real distances).",
)
def demo(seconds: float, count: int, rate: float, rtt: float) -> None:
    """Watch regions converge: real Redis servers, RQ workers and exporters on this machine.

    Page views arrive in every region; one region is cut off from the others
    for a while and brought back. Needs no configuration; stops everything it
    started when it ends, also on Ctrl-C.
    """
    import signal

    from rich.console import Console

    from crdtredis.demo.run import Demo

    console = Console(highlight=False)
    try:
        runner = Demo(seconds=seconds, regions=count, rate=rate, console=console, rtt=rtt)
    except ValueError as exc:
        raise BadInput(str(exc)) from None

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # stop everything on SIGTERM too
    try:
        result = runner.run()
    except KeyboardInterrupt:
        console.print("demo interrupted; everything it started is stopped")
        raise SystemExit(130) from None
    cut_from, cut_until = result.cut_window or (0, 0)
    console.print()
    console.print("[bold]summary[/bold]")
    console.print(f"page views sent: {result.sent}")
    for name, value in result.values.items():
        state = "equal" if value == result.sent else "DIFFERENT"
        console.print(f"  {name}: {value} ({state})")
    console.print(
        f"{result.cut_region} was cut off from {cut_from:.1f}s to {cut_until:.1f}s and brought back"
    )
    if result.converged:
        console.print(
            f"converged: all {len(result.values)} regions equal "
            f"{result.converge_seconds:.2f}s after the last page view"
        )
    console.print(
        f"stopped: {len(result.values)} redis-servers, {len(result.values)} workers, "
        f"{len(result.values)} exporters (ports {','.join(map(str, sorted(result.ports)))})"
    )
    if not result.converged:
        raise RunFailure("the regions did not converge in time; see the worker logs")
