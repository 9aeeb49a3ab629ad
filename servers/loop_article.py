"""The source article's pattern: a *blocking* SDK stream iterated inside an ``async def`` generator.

Two routes, the same except for one line:

- ``/stream``: the generator loops over ``chat_stream(...)``, a synchronous iterator that
  blocks for ``gap`` seconds before each item (the stand-in for ``coze.chat.stream``, see
  ``servers/slow_upstream.py``), and yields one stamped event per item;
- ``/stream-sleep0``: the same with the article's fix, ``await asyncio.sleep(0)`` after
  every ``yield`` ("to hand control back to the event loop and flush the buffer").

``/health`` answers at once: a second client uses it to see whether the server is frozen.

    uvicorn servers.loop_article:app --port 8000
    curl -N 'http://127.0.0.1:8000/stream?n=5&gap=0.5'    # and, meanwhile, in another shell:
    curl -w ' %{time_total}s\\n' http://127.0.0.1:8000/health

Introduced in notebooks/01_event_loop.ipynb; ``servers/loop_middleware.py`` serves these
same routes behind a pass-through middleware.
"""

import asyncio

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.slow_upstream import chat_stream
from servers.stamp import stamped

router = APIRouter()

Count = Query(8, ge=1, le=1000, description="how many events")
Gap = Query(0.1, ge=0.0, le=10.0, description="seconds the upstream blocks before each event")


@router.get("/stream")
async def stream(n: int = Count, gap: float = Gap):
    async def event_generator():
        for seq in chat_stream(n, gap):  # a sync iterator: blocks the event loop for `gap`
            yield stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@router.get("/stream-sleep0")
async def stream_sleep0(n: int = Count, gap: float = Gap):
    async def event_generator():
        for seq in chat_stream(n, gap):
            yield stamped(seq)
            await asyncio.sleep(0)  # the article's "force a flush"

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@router.get("/health")
async def health():
    return {"ok": True}


app = FastAPI(title="loop: the article's pattern")
app.include_router(router)
