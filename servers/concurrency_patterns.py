"""Six ways to stream the same ticker, one route each, compared under load.

Every route sends ``n`` stamped events, one every ``interval`` seconds (see
``servers/stamp.py``); only the way the stream is written differs:

- ``/recommended``: a plain async generator in a ``StreamingResponse`` with the headers
  proxies look for; its ``finally`` runs when the stream ends or the client leaves.
- ``/complete``: the recommended pattern, complete (``servers/recommended_stream.py``): a
  comment at once, ``: ping`` after ``heartbeat`` seconds of silence, ``id:`` on every event.
- ``/hand``: the source article's code: the same generator with ``await asyncio.sleep(0)``
  after every ``yield`` ("to flush") and no extra headers.
- ``/sse-starlette``: ``sse_starlette.EventSourceResponse`` (ping every 15 s, four tasks per
  connection).
- ``/fastapi-sse``: FastAPI's own ``response_class=EventSourceResponse`` (``fastapi.sse``).
- ``/blocking``: the article's failing case: a *synchronous* iterator (standing in for
  ``cozepy``'s ``coze.chat.stream``) inside an async generator. ``time.sleep`` blocks the
  whole event loop, so every other stream waits too.

``streams`` counts the generators producing right now and the events they produced; the
reliability tests use it to check that a client who leaves stops the work.

    uvicorn servers.concurrency_patterns:app --port 8000
    curl -N 'http://127.0.0.1:8000/recommended?n=5&interval=0.5'

Measured in benchmarks/concurrency.py (figures in benchmarks/README.md).
"""

import asyncio
import json
import time

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse as FastAPIEventSourceResponse
from sse_starlette import EventSourceResponse

from servers.recommended_stream import event_stream
from servers.stamp import stamped

app = FastAPI(title="concurrency patterns")

Count = Query(10, ge=1, le=100_000, description="how many events")
Interval = Query(0.1, ge=0.0, le=60.0, description="seconds between events")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
"""What the series recommends sending with every stream (nginx reads X-Accel-Buffering)."""

streams = {"open": 0, "produced": 0}
"""Generators of /recommended running right now, and the events they produced so far."""


@app.get("/recommended")
async def recommended(n: int = Count, interval: float = Interval):
    async def event_generator():
        streams["open"] += 1
        try:
            for seq in range(n):
                if seq:
                    await asyncio.sleep(interval)
                streams["produced"] += 1
                yield stamped(seq)
        finally:  # runs at the end, and when the client disconnects (CancelledError)
            streams["open"] -= 1

    return StreamingResponse(event_generator(), media_type="text/event-stream", headers=SSE_HEADERS)


@app.get("/complete")
async def complete(n: int = Count, interval: float = Interval, heartbeat: float = Query(15.0, gt=0, le=3600)):
    return StreamingResponse(event_stream(n, interval, heartbeat), media_type="text/event-stream",
                             headers=SSE_HEADERS)


@app.get("/hand")
async def hand(n: int = Count, interval: float = Interval):
    async def event_generator():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield stamped(seq)
            await asyncio.sleep(0)  # the article's "force a flush"

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@app.get("/sse-starlette")
async def with_sse_starlette(n: int = Count, interval: float = Interval):
    async def event_generator():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield {"data": json.dumps({"seq": seq, "sent": time.monotonic()})}

    return EventSourceResponse(event_generator())


@app.get("/fastapi-sse", response_class=FastAPIEventSourceResponse)
async def with_fastapi_sse(n: int = Count, interval: float = Interval):
    for seq in range(n):
        if seq:
            await asyncio.sleep(interval)
        yield {"seq": seq, "sent": time.monotonic()}


def blocking_source(n: int, interval: float):
    """A synchronous stream, like an SDK's blocking iterator: each item takes time.sleep."""
    for seq in range(n):
        if seq:
            time.sleep(interval)
        yield seq


@app.get("/blocking")
async def blocking(n: int = Count, interval: float = Interval):
    async def event_generator():
        for seq in blocking_source(n, interval):  # blocks the event loop between items
            yield stamped(seq)
            await asyncio.sleep(0)

    return StreamingResponse(event_generator(), media_type="text/event-stream")
