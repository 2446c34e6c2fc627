"""The ``crdtredis`` command line: a thin shell over the library.

Every command takes the region configuration (``--config``, environment,
flags). Every error is one line on stderr: exit code 2 for bad usage or bad
input, 1 for a failure at run time (a Redis that cannot be reached, say).
"""

from __future__ import annotations

from crdtredis.cli.app import cli
from crdtredis.cli.inspect import inspect, status
from crdtredis.cli.maps import map_group
from crdtredis.cli.objects import (
    decr,
    delete,
    expire,
    get,
    incr,
    keys,
    log_group,
    persist,
    set_group,
    ttl,
)
from crdtredis.cli.processes import demo, exporter, retire, sync, worker

for command in (
    incr,
    decr,
    get,
    delete,
    expire,
    persist,
    ttl,
    inspect,
    map_group,
    set_group,
    log_group,
    keys,
    status,
    sync,
    retire,
    worker,
    demo,
    exporter,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="crdtredis")


__all__ = ["cli", "main"]
