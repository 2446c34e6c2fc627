"""``crdtredis demo``: regions converging on this machine, with nothing installed by hand."""
