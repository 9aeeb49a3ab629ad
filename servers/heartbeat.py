"""Stamped events with a long silence in the middle, optionally filled with SSE heartbeats.

A chat model that "thinks" for a while before answering sends nothing for seconds. A proxy
that waits longer than its read timeout (nginx: ``proxy_read_timeout``, 60 s by default)
for the next byte gives up and cuts the stream. A heartbeat is an SSE comment line
(``: ping``), which every EventSource ignores, sent during the silence to keep bytes moving.

``/events?n=6&interval=0.05&gap=2`` sends ``n // 2`` events, waits ``gap`` seconds, then
sends the rest; ``&heartbeat=0.5`` sends a ``: ping`` comment every 0.5 s during the gap.

    uvicorn servers.heartbeat:app --port 8000
    curl -N 'http://127.0.0.1:8000/events?n=6&interval=0.05&gap=2&heartbeat=0.5'

Not every client ignores comments: the Coze SDK's parser rejects them (notebooks/04_nginx.ipynb).
Introduced in notebooks/04_nginx.ipynb.
"""

import asyncio
import time

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="heartbeat")


@app.get("/events")
async def events(n: int = Query(6, ge=1, le=10_000), interval: float = Query(0.05, ge=0, le=60),
                 gap: float = Query(2.0, ge=0, le=3600), heartbeat: float = Query(0.0, ge=0, le=3600)):
    async def event_generator():
        for seq in range(n):
            if seq == n // 2:
                async for ping in silence(gap, heartbeat):
                    yield ping
            elif seq:
                await asyncio.sleep(interval)
            yield stamped(seq, of=n)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


async def silence(seconds: float, every: float):
    """Wait ``seconds``; if ``every`` > 0, yield an SSE comment that often meanwhile."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        await asyncio.sleep(min(every, left) if every else left)
        if every and time.monotonic() < end:
            yield ": ping\n\n"
