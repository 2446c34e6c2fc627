"""crdtredis for asyncio: the same regions, objects, scripts and errors over ``redis.asyncio``.

Every read and write is one awaited round trip on an asyncio client. What
is rare and needs the region's whole identity machinery (a script the
server forgot after a restart, a write refused because the identity
changed) is handed to the blocking region beside it, in a thread: one
healing path for both APIs, so they can never disagree about identity.
"""

from crdtredis.aio.objects import AsyncCounter, AsyncCounterMap, AsyncORSet
from crdtredis.aio.region import AsyncRegion

Region = AsyncRegion

__all__ = ["AsyncCounter", "AsyncCounterMap", "AsyncORSet", "AsyncRegion", "Region"]
