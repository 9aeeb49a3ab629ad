"""The article's pattern served with FastAPI's own SSE support (``fastapi.sse``).

With ``response_class=EventSourceResponse`` the path operation itself is the generator:
FastAPI JSON-encodes each yielded object into a ``data:`` line, adds ``Cache-Control:
no-cache`` and ``X-Accel-Buffering: no``, and a ``: ping`` comment every 15 s. Here the
generator loops over the blocking ``chat_stream(...)`` (see ``servers/slow_upstream.py``),
without (``/stream``) and with (``/stream-sleep0``) ``await asyncio.sleep(0)`` after
every ``yield``. ``/health`` answers at once.

    uvicorn servers.loop_fastapi_sse:app --port 8000
    curl -N 'http://127.0.0.1:8000/stream?n=5&gap=0.5'

Introduced in notebooks/01_event_loop.ipynb.
"""

import asyncio
import time

from fastapi import FastAPI, Query
from fastapi.sse import EventSourceResponse

from servers.slow_upstream import chat_stream

app = FastAPI(title="loop: the article's pattern with fastapi.sse")

Count = Query(8, ge=1, le=1000, description="how many events")
Gap = Query(0.1, ge=0.0, le=10.0, description="seconds the upstream blocks before each event")


@app.get("/stream", response_class=EventSourceResponse)
async def stream(n: int = Count, gap: float = Gap):
    for seq in chat_stream(n, gap):  # a sync iterator: blocks the event loop for `gap`
        yield {"seq": seq, "sent": time.monotonic()}


@app.get("/stream-sleep0", response_class=EventSourceResponse)
async def stream_sleep0(n: int = Count, gap: float = Gap):
    for seq in chat_stream(n, gap):
        yield {"seq": seq, "sent": time.monotonic()}
        await asyncio.sleep(0)  # the article's "force a flush"


@app.get("/health")
async def health():
    return {"ok": True}
