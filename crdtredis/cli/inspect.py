"""``crdtredis inspect KEY`` and ``crdtredis status``: tables for people, JSON for scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crdtredis.cli.app import BadInput, Settings, pass_settings
from crdtredis.replication.inspection import inspect_key, region_status
from crdtredis.replication.leases import LEASE_SECONDS


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _value_text(entry: dict[str, Any]) -> str:
    if not entry.get("exists"):
        return "(missing)"
    if "value" in entry:
        return str(entry["value"])
    if "members" in entry:
        shown = ", ".join(entry["members"][:8]) + (" ..." if len(entry["members"]) > 8 else "")
        return f"{len(entry['members'])} members: {shown}"
    return f"{entry['length']} events"


def _lag(peer: dict[str, Any]) -> str:
    age = peer["seconds_since_success"]  # the lag is taken by the last successful pass
    return str(peer["lag_changes"]) + ("" if age is None else f" ({age:.0f}s ago)")


@click.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON instead.")
@pass_settings
def inspect(settings: Settings, key: str, as_json: bool) -> None:
    """Show a key's type and value, every replica slot, and each peer's view of it."""
    region = settings.region()
    report = inspect_key(region, key)
    if report["type"] is None and not any(p.get("exists") for p in report["peers"]):
        raise BadInput(f"key {key!r} does not exist in region {region.name} or any reachable peer")
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    console = _console()
    console.print(
        f"[bold]{key}[/bold]  {report['type'] or '(not here)'} in region {report['region']} "
        f"(replica {report['replica']}, shard {report['shard']}): {_value_text(report)}"
    )
    if report.get("ttl") is not None and report["ttl"] >= 0:
        console.print(f"expires in {report['ttl']:.0f}s (in every region)")
    if report.get("tombstones"):
        console.print(f"tombstones: {report['tombstones']}")
    if report.get("last"):
        console.print("last events: " + json.dumps(report["last"], ensure_ascii=False))
    if report["replicas"]:
        slots = Table(title="replica slots", title_justify="left")
        for column in ("replica", "region", "incarnation", "P", "N"):
            slots.add_column(column, justify="right" if column in ("P", "N") else "left")
        for row in report["replicas"]:
            mark = " (this region)" if row["current"] else ""
            slots.add_row(
                row["replica"] + mark,
                row["region"],
                str(row["incarnation"]),
                str(row["p"]),
                str(row["n"]),
            )
        console.print(slots)
    peers = Table(title="peers", title_justify="left")
    for column in ("peer", "reachable", "value", "it lacks", "we lack", "note"):
        peers.add_column(column)
    for entry in report["peers"]:
        peers.add_row(
            entry["peer"],
            "yes" if entry["reachable"] else "NO",
            _value_text(entry) if entry["reachable"] else "-",
            str(entry.get("missing_there", "-")),
            str(entry.get("missing_here", "-")),
            entry.get("error", ""),
        )
    console.print(peers)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_settings
def status(settings: Settings, as_json: bool) -> None:
    """Show the region's identity, its peers, their sync statistics and lag."""
    config = settings.config
    # A peer is stalled once no pass succeeded (nor failed) for longer than the longest
    # backoff, a pass and two leases allow.
    stalled_after = config.max_backoff + config.sync_interval + 2 * LEASE_SECONDS
    report = region_status(settings.region(), stalled_after)
    if as_json:
        click.echo(json.dumps(report))
        return
    console = _console()
    console.print(
        f"region [bold]{report['region']}[/bold]: replica {report['replica']}, created "
        f"{_when(report['created'])}, {report['shards']} shards, prefix {report['prefix']!r}, "
        f"{report['keys']} keys"
    )
    table = Table(title="peers", title_justify="left")
    for column in (
        "peer",
        "state",
        "reachable",
        "last success",
        "lag",
        "failures",
        "merged",
        "errors",
        "last error",
    ):
        table.add_column(column)
    for peer in report["peers"]:
        table.add_row(
            f"{peer['peer']} ({peer['url']})",
            peer["state"].upper() if peer["state"] != "ok" else "ok",
            "yes" if peer["reachable"] else "NO",
            _when(peer["last_success"]),
            _lag(peer),
            str(peer["consecutive_failures"]),
            str(peer["keys_merged_total"]),
            str(peer["errors_total"]),
            peer["last_error"] or "",
        )
    console.print(table)
    waiting = report["collection"]
    behind = ", ".join(f"{p} {n}" for p, n in waiting["unmerged"].items() if n)
    if waiting["graves"] or behind:
        console.print(
            f"waiting for collection: {waiting['graves']} graves of expired keys; "
            f"changes not yet merged by: {behind or 'none'}"
        )
