"""A stream whose first event comes late, as a chat model's first token does (notebook 05).

- ``/events?first=1.0&n=10&interval=0.05&media=text/event-stream``: the app starts the
  response at once (Starlette sends ``http.response.start`` before it iterates the body),
  then waits ``first`` seconds before the first event. When do the headers leave? That is
  the server's choice, and the servers differ. ``&heartbeat=0.5`` sends a comment at once
  (``: connected``) and another every 0.5 s while it waits: bytes on the wire from the start.
- ``/endless?interval=0.05``: stamped events until the client leaves. The generator's
  ``finally`` notes when it was closed; ``/closed`` returns that time (``time.monotonic()``,
  one clock for every process on the machine), so a client in another process can tell how
  long the server took to stop the work after it left.
- ``/blocking?seconds=3``: one blocking call (``time.sleep``, like a synchronous SDK) inside
  the async generator, before its events: the event loop stops for that long.

    uvicorn servers.first_token:app --port 8000
    curl -N -i 'http://127.0.0.1:8000/events?first=2'
"""

import asyncio
import time

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="first token")
CLOSED = {"at": None}


@app.get("/events")
async def events(first: float = Query(1.0, ge=0, le=600), n: int = Query(10, ge=1, le=10_000),
                 interval: float = Query(0.05, ge=0, le=60), media: str = "text/event-stream",
                 heartbeat: float = Query(0.0, ge=0, le=60)):
    async def body():
        if heartbeat:
            yield ": connected\n\n"  # the headers, and a first byte, leave now
        end = time.monotonic() + first
        while (left := end - time.monotonic()) > 0:  # "the model is thinking"
            await asyncio.sleep(min(heartbeat, left) if heartbeat else left)
            if heartbeat and time.monotonic() < end:
                yield ": ping\n\n"
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield stamped(seq, of=n)

    return StreamingResponse(body(), media_type=media)


@app.get("/endless")
async def endless(interval: float = Query(0.05, ge=0.001, le=60)):
    async def body():
        seq = 0
        try:
            while True:
                yield stamped(seq)
                seq += 1
                await asyncio.sleep(interval)
        finally:  # the end of the work: cancelled or closed when the client has gone
            CLOSED["at"] = time.monotonic()

    return StreamingResponse(body(), media_type="text/event-stream")


@app.get("/closed")
async def closed():
    return CLOSED


@app.get("/blocking")
async def blocking(seconds: float = Query(3.0, ge=0, le=60), n: int = Query(10, ge=1, le=1000)):
    async def body():
        time.sleep(seconds)  # a blocking call in async code: the whole event loop waits
        for seq in range(n):
            yield stamped(seq, of=n)
            await asyncio.sleep(0.05)

    return StreamingResponse(body(), media_type="text/event-stream")
