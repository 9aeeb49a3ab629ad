"""Four ways to write an SSE endpoint, each with a long silence: what goes on the wire meanwhile?

Every route sends one stamped event, is silent for ``gap`` seconds (a model thinking, a tool
running), then sends a second one. Only the way the stream is written differs:

- ``/hand``: a plain async generator in ``StreamingResponse``, nothing else;
- ``/sse-starlette``: ``sse_starlette.EventSourceResponse`` with its defaults (a ``: ping``
  comment every ``DEFAULT_PING_INTERVAL`` = 15 s);
- ``/fastapi-sse``: FastAPI's ``response_class=EventSourceResponse`` (``fastapi/sse.py``,
  ``_PING_INTERVAL`` = 15 s: ``fastapi/routing.py`` waits that long for the generator's next
  item, then sends ``KEEPALIVE_COMMENT``);
- ``/recommended``: the series' pattern with a heartbeat: a comment at once, then one every
  ``heartbeat`` seconds while silent (``servers/heartbeat.py``'s ``silence``).

    uvicorn servers.quiet_patterns:app --port 8000
    curl -N 'http://127.0.0.1:8000/sse-starlette?gap=16'

Introduced in notebooks/05_servers.ipynb.
"""

import asyncio
import json
import time

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse as FastAPIEventSourceResponse
from sse_starlette import EventSourceResponse

from servers.heartbeat import silence
from servers.stamp import stamped

app = FastAPI(title="quiet patterns")
Gap = Query(16.0, ge=0, le=600, description="seconds of silence between the two events")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@app.get("/hand")
async def hand(gap: float = Gap):
    async def body():
        yield stamped(0, of=2)
        await asyncio.sleep(gap)
        yield stamped(1, of=2)

    return StreamingResponse(body(), media_type="text/event-stream")


@app.get("/sse-starlette")
async def with_sse_starlette(gap: float = Gap):
    async def body():
        yield {"data": json.dumps({"seq": 0, "sent": time.monotonic(), "of": 2})}
        await asyncio.sleep(gap)
        yield {"data": json.dumps({"seq": 1, "sent": time.monotonic(), "of": 2})}

    return EventSourceResponse(body())


@app.get("/fastapi-sse", response_class=FastAPIEventSourceResponse)
async def with_fastapi_sse(gap: float = Gap):
    yield {"seq": 0, "sent": time.monotonic(), "of": 2}
    await asyncio.sleep(gap)
    yield {"seq": 1, "sent": time.monotonic(), "of": 2}


@app.get("/recommended")
async def recommended(gap: float = Gap, heartbeat: float = Query(5.0, gt=0, le=600)):
    async def body():
        yield ": connected\n\n"  # headers and a first byte leave at once
        yield stamped(0, of=2)
        async for ping in silence(gap, heartbeat):
            yield ping
        yield stamped(1, of=2)

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)
