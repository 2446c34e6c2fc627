"""A small Starlette site counting its page views with crdtredis (``make example``)."""
