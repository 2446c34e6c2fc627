"""The ``crdtredis`` command line (grows with the replication and CLI issues)."""

from __future__ import annotations

import click

from crdtredis import __version__


@click.group()
@click.version_option(__version__, prog_name="crdtredis")
def main() -> None:
    """Conflict-free replicated counters, sets and event logs on plain Redis."""
