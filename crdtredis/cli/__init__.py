"""The ``crdtredis`` command line: a thin shell over the library.

Every command takes the region configuration (``--config``, environment,
flags). Every error is one line on stderr: exit code 2 for bad usage or bad
input, 1 for a failure at run time (a Redis that cannot be reached, say).
"""

from __future__ import annotations

from crdtredis.cli.app import cli
from crdtredis.cli.replication import exporter, sync, worker

cli.add_command(sync)
cli.add_command(worker)
cli.add_command(exporter)


def main() -> None:
    cli(prog_name="crdtredis")


__all__ = ["cli", "main"]
