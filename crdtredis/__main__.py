"""``python -m crdtredis``: the command line."""

from crdtredis.cli import main

main()
