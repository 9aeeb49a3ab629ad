"""A FastAPI event stream that yields each event in pieces: socket reads are not events.

    GET /events?n=20&interval=0.1&pieces=1&pause=0

- ``pieces``: how many yields carry one event. 2 yields the data line, then the blank line
  that ends the event; 3 or more cut it into equal pieces, anywhere in a line (as a proxy,
  a tokenizer or a slow producer may). uvicorn writes each yield to the socket on its own.
- ``pause``: seconds between the pieces of one event.
- ``interval=0`` yields every event back to back.

    uvicorn servers.net_pieces:app --port 8000
    curl -N 'http://127.0.0.1:8000/events?n=5&interval=0.5&pieces=3&pause=0.1'

Introduced in notebooks/03_network.ipynb.
"""

import asyncio

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.net_raw import pieces as cut
from servers.stamp import stamped

app = FastAPI(title="events in pieces")


@app.get("/events")
async def events(n: int = Query(20, ge=1, le=10_000), interval: float = Query(0.1, ge=0, le=60),
                 pieces: int = Query(1, ge=1, le=100), pause: float = Query(0.0, ge=0, le=10)):
    async def event_generator():
        for seq in range(n):
            if seq and interval:
                await asyncio.sleep(interval)
            for i, piece in enumerate(cut(stamped(seq).encode(), pieces)):
                if i and pause:
                    await asyncio.sleep(pause)
                yield piece

    return StreamingResponse(event_generator(), media_type="text/event-stream")
