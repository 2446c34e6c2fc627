"""Web shells over the store: page-view middleware for ASGI (asyncio) and WSGI."""

from crdtredis.web.buffer import ViewBuffer
from crdtredis.web.pageviews import PageViews, day_bucket, request_path
from crdtredis.web.wsgi import PageViewsWSGI, wsgi_path

__all__ = [
    "PageViews",
    "PageViewsWSGI",
    "ViewBuffer",
    "day_bucket",
    "request_path",
    "wsgi_path",
]
