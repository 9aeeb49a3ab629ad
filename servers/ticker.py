"""A well-behaved SSE endpoint: ``n`` stamped events, one every ``interval`` seconds.

This is the article's "normal case" (an async generator that awaits between yields), with
the stamp every event in the series carries (see ``servers/stamp.py``).

    uvicorn servers.ticker:app --port 8000
    curl -N 'http://127.0.0.1:8000/events?n=5&interval=0.5'

``/held`` produces the same events but sends them all at the end: a known "held" stream.

Introduced in notebooks/00_quickstart.ipynb.
"""

import asyncio

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="ticker")

Count = Query(10, ge=1, le=10_000, description="how many events")
Interval = Query(0.1, ge=0.0, le=60.0, description="seconds between events")
Padding = Query(0, ge=0, le=1_000_000, description="extra bytes in each event")


@app.get("/events")
async def events(n: int = Count, interval: float = Interval, pad: int = Padding):
    async def event_generator():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield stamped(seq, pad="x" * pad) if pad else stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@app.get("/held")
async def held(n: int = Count, interval: float = Interval):
    async def event_generator():
        frames = []
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            frames.append(stamped(seq))  # stamped now, sent only at the end
        yield "".join(frames)

    return StreamingResponse(event_generator(), media_type="text/event-stream")
