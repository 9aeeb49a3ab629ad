"""A stamped clock stream to deploy behind YOUR proxy, so the probe measures that exact path.

Your own endpoint's events carry no send stamps, so the probe can only see their arrival
pattern. Run this one file next to your app (same host, same proxy, same path rules), then
probe it through the proxy and directly, and compare::

    uvicorn servers.clock:app --host 127.0.0.1 --port 8000
    curl -N 'http://127.0.0.1:8000/clock?n=5&interval=0.5'
    python -m sselab probe 'https://your.site/clock?n=20' --compare 'http://127.0.0.1:8000/clock?n=20'

It needs only FastAPI (copy the file anywhere; it imports nothing from this repository).
Every event is one SSE frame whose data is the lab's stamp, one JSON object::

    id: 3
    data: {"seq": 3, "sent": 81234.567891, "pad": "xxxx"}

- ``seq``: the event's number, from 0;
- ``sent``: the server's ``time.monotonic()`` when the event was yielded (seconds);
- ``pad``: present only with ``pad=N``: N bytes of filler, to make events big enough to fill
  a proxy buffer quickly (buffers are counted in bytes, not events).

The probe computes ``delay = arrival - sent``. On the same machine (loopback URL) the clock is
shared and the delay is exact. Across machines the clocks differ, so the probe shifts the
stamps to make the fastest event's delay 0: every difference between events stays exact,
a lag that every event shares does not show.

Query (GET) or JSON body (POST, as LLM relays are called): ``n`` events (0 = endless, stop
the client yourself or use ``--max-seconds``), one every ``interval`` seconds, ``pad`` bytes.

``/plain`` sends the same ticks *without* stamps (``data: tick 3``): what your own endpoint
looks like to the probe, which then judges by the arrival pattern alone.

Introduced in notebooks/12_diagnose.ipynb.
"""

import asyncio
import json
import time

from fastapi import Body, FastAPI, Query
from fastapi.responses import StreamingResponse

app = FastAPI(title="clock")

Count = Query(20, ge=0, le=1_000_000, description="how many events; 0 = endless")
Interval = Query(0.25, ge=0.0, le=3600.0, description="seconds between events")
Padding = Query(0, ge=0, le=1_000_000, description="filler bytes in each event")


def frame(seq: int, pad: int = 0) -> str:
    """One stamped SSE frame: ``id: seq`` and ``data: {"seq": ..., "sent": ...}``."""
    stamp = {"seq": seq, "sent": time.monotonic()}
    if pad:
        stamp["pad"] = "x" * pad
    return f"id: {seq}\ndata: {json.dumps(stamp)}\n\n"


async def ticks(n: int, interval: float, pad: int):
    seq = 0
    while n == 0 or seq < n:
        if seq:
            await asyncio.sleep(interval)
        yield frame(seq, pad)
        seq += 1


async def plain_ticks(n: int, interval: float):
    seq = 0
    while n == 0 or seq < n:
        if seq:
            await asyncio.sleep(interval)
        yield f"data: tick {seq}\n\n"
        seq += 1


def stream(n: int, interval: float, pad: int) -> StreamingResponse:
    return StreamingResponse(ticks(n, interval, pad), media_type="text/event-stream")


@app.get("/clock")
async def clock(n: int = Count, interval: float = Interval, pad: int = Padding):
    return stream(n, interval, pad)


@app.post("/clock")
async def clock_post(n: int = Body(20, ge=0, le=1_000_000), interval: float = Body(0.25, ge=0.0, le=3600.0),
                     pad: int = Body(0, ge=0, le=1_000_000)):
    return stream(n, interval, pad)


@app.get("/plain")
async def plain(n: int = Count, interval: float = Interval):
    return StreamingResponse(plain_ticks(n, interval), media_type="text/event-stream")
