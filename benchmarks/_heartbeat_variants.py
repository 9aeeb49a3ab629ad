"""Two other ways to add the heartbeat to the recommended route, measured against it, not shipped.

benchmarks/concurrency.py serves these next to servers/concurrency_patterns.py's routes
(patterns ``complete-timeout`` and ``complete-queue``). Same frames as ``/complete``
(servers/recommended_stream.py): a comment at once, ``id:`` on every event, ``: ping`` when
idle; only the waiting differs:

- ``/complete-timeout``: ``asyncio.timeout(heartbeat)`` around ``anext(source)``: a timer armed
  and cancelled per event. When it fires it cancels the source mid-read (here the ticker's
  sleep, which ends the source): it is measured for its cost, not recommended.
- ``/complete-queue``: one producer task per stream puts items into an ``asyncio.Queue``; the
  generator waits on ``queue.get()`` under ``asyncio.timeout(heartbeat)`` (a cancelled ``get``
  loses nothing): correct for any source, a hand-over and a timer per event.
"""

import asyncio

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from servers.concurrency_patterns import SSE_HEADERS, Count, Interval
from servers.stamp import stamped

router = APIRouter()
Heartbeat = Query(15.0, gt=0, le=3600)


async def ticks(n: int, interval: float):
    for seq in range(n):
        if seq:
            await asyncio.sleep(interval)
        yield seq


def respond(frames) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/complete-timeout")
async def complete_timeout(n: int = Count, interval: float = Interval, heartbeat: float = Heartbeat):
    async def frames():
        source = ticks(n, interval)
        yield ": connected\n\n"
        while True:
            try:
                async with asyncio.timeout(heartbeat):
                    seq = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                yield ": ping\n\n"
                continue
            yield f"id: {seq}\n" + stamped(seq)

    return respond(frames())


@router.get("/complete-queue")
async def complete_queue(n: int = Count, interval: float = Interval, heartbeat: float = Heartbeat):
    queue: asyncio.Queue = asyncio.Queue(1)

    async def produce():
        async for seq in ticks(n, interval):
            await queue.put(seq)
        await queue.put(None)

    async def frames():
        producer = asyncio.create_task(produce())
        yield ": connected\n\n"
        try:
            while True:
                try:
                    async with asyncio.timeout(heartbeat):
                        seq = await queue.get()
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if seq is None:
                    return
                yield f"id: {seq}\n" + stamped(seq)
        finally:
            producer.cancel()

    return respond(frames())
