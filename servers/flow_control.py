"""A producer faster than its reader, for HTTP/2 flow control (notebook 07).

``/bulk?mb=40`` streams ``mb`` megabytes of SSE comments, 64 KiB per ``yield``, as fast as
the server takes them; ``PROGRESS`` counts what the generator has yielded so far, so a
notebook that runs this app in a background thread can see how far the app got while its
client reads nothing. ``/events?n=20`` is a stamped stream that announces its length (the
``of`` field, ``servers/stamp.py``), to run beside it on the same HTTP/2 connection: a client
can then tell a stream that stopped from one that ended.

    hypercorn servers.flow_control:app --certfile cert.pem --keyfile key.pem
"""

import asyncio

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="flow control")

CHUNK = ": " + "x" * (64 * 1024 - 4) + "\n\n"  # one SSE comment of 64 KiB
PROGRESS = {"yielded": 0, "finished": False}
"""Bytes the /bulk generator has handed to the server, and whether it got to the end."""


@app.get("/events")
async def events(n: int = Query(20, ge=1, le=10_000), interval: float = Query(0.05, ge=0, le=60)):
    async def body():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield stamped(seq, of=n)

    return StreamingResponse(body(), media_type="text/event-stream")


@app.get("/bulk")
async def bulk(mb: int = Query(40, ge=1, le=1000)):
    async def body():
        PROGRESS.update(yielded=0, finished=False)
        for _ in range(mb * 16):
            yield CHUNK
            PROGRESS["yielded"] += len(CHUNK)
            await asyncio.sleep(0)  # let the server send (or refuse to)
        PROGRESS["finished"] = True

    return StreamingResponse(body(), media_type="text/event-stream")
