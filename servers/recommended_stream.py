"""The series' recommended SSE endpoint, complete: first byte at once, heartbeat when idle, ids.

A plain ``async def`` generator in a ``StreamingResponse`` with the headers proxies read
(``Cache-Control: no-cache``; ``X-Accel-Buffering: no`` for nginx), and:

- a comment (``: connected``) first, so the headers and a first byte leave at once, before
  the first event is ready;
- a comment (``: ping``) whenever ``heartbeat`` seconds would pass without a byte, so a proxy
  with an idle timeout (nginx's ``proxy_read_timeout``, 60 s) never sees a quiet stream;
- ``id: <seq>`` on every event, which a browser sends back as ``Last-Event-ID`` when it
  reconnects;
- a ``finally`` that runs when the stream ends *and* when the client leaves (Starlette's
  ``StreamingResponse`` cancels the generator on ``http.disconnect``).

The heartbeat is a deadline check in the generator's own wait: it waits at most
``heartbeat`` seconds at a time. Per event that is one comparison; no timer, no task.
``asyncio.timeout()`` around the next item would arm a timer per event (88 instead of 61 µs
of server CPU per event at 1000 streams, and nearly twice the garbage collections) and, when it fires, cancel
what the generator was awaiting: an upstream SDK stream would die of it. For such a source,
sse-starlette's ping task is the cheaper safe choice (benchmarks/README.md, sections 4 and 6).

    uvicorn servers.recommended_stream:app --port 8000
    curl -N 'http://127.0.0.1:8000/events?n=3&interval=2&heartbeat=0.5'

Measured in benchmarks/concurrency.py (pattern ``complete``); figures in benchmarks/README.md.
"""

import asyncio

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="recommended stream")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
streams = {"open": 0}
"""Generators running right now: the tests check that a client who leaves closes one."""


async def event_stream(n: int, interval: float, heartbeat: float):
    """``n`` stamped events ``interval`` s apart, with ``: ping`` after ``heartbeat`` s of silence."""
    loop = asyncio.get_running_loop()
    streams["open"] += 1
    try:
        yield ": connected\n\n"
        for seq in range(n):
            if seq:
                due = loop.time() + interval
                while (left := due - loop.time()) > heartbeat:
                    await asyncio.sleep(heartbeat)
                    yield ": ping\n\n"
                await asyncio.sleep(left)
            yield f"id: {seq}\n" + stamped(seq)
    finally:  # the stream ended, or the client left (CancelledError): release what it held
        streams["open"] -= 1


@app.get("/events")
async def events(n: int = Query(10, ge=1, le=100_000), interval: float = Query(0.1, ge=0, le=3600),
                 heartbeat: float = Query(15.0, gt=0, le=3600)):
    return StreamingResponse(event_stream(n, interval, heartbeat), media_type="text/event-stream",
                             headers=SSE_HEADERS)
