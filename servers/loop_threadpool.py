"""Fix 2: keep the ``async def`` generator, move only the blocking iterator to a thread.

``starlette.concurrency.iterate_in_threadpool(iterator)`` turns a sync iterator into an
async one: each ``next()`` runs in a worker thread via ``anyio.to_thread.run_sync`` and is
awaited, so the event loop runs while the SDK waits. Useful when the generator also awaits
other things (a database, a queue) and so must stay ``async def``.

``/stream-closing`` adds ``contextlib.closing(...)`` so the SDK stream is closed when the
generator stops for any reason (the end, an error, or the client leaving), instead of
whenever the garbage collector gets to it.

    uvicorn servers.loop_threadpool:app --port 8000
    curl -N 'http://127.0.0.1:8000/stream?n=5&gap=0.5'

Introduced in notebooks/01_event_loop.ipynb; /stream-closing in notebooks/02_leaving_early.ipynb.
"""

from contextlib import closing

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from servers.slow_upstream import chat_stream
from servers.stamp import stamped

app = FastAPI(title="loop fix: iterate_in_threadpool")

Count = Query(8, ge=1, le=1000, description="how many events")
Gap = Query(0.1, ge=0.0, le=10.0, description="seconds the upstream blocks before each event")


@app.get("/stream")
async def stream(n: int = Count, gap: float = Gap):
    async def event_generator():
        async for seq in iterate_in_threadpool(chat_stream(n, gap)):  # next() in a thread
            yield stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@app.get("/stream-closing")
async def stream_closing(n: int = Count, gap: float = Gap):
    async def event_generator():
        with closing(chat_stream(n, gap)) as upstream:  # close() it however we leave
            async for seq in iterate_in_threadpool(upstream):
                yield stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@app.get("/health")
async def health():
    return {"ok": True}
