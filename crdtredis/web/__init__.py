"""Web shells over the asyncio API: the ASGI page-view middleware."""

from crdtredis.web.buffer import ViewBuffer
from crdtredis.web.pageviews import PageViews, day_bucket, request_path

__all__ = ["PageViews", "ViewBuffer", "day_bucket", "request_path"]
