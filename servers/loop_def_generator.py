"""Fix 1: make the generator a plain ``def``; Starlette then runs it in a worker thread.

``StreamingResponse`` checks what it was given: an async iterable is iterated on the event
loop; anything else is wrapped in ``starlette.concurrency.iterate_in_threadpool``, which
runs every ``next()`` in a worker thread (``starlette/responses.py``,
``StreamingResponse.__init__``). The blocking ``chat_stream(...)`` (see
``servers/slow_upstream.py``) then blocks a worker thread, not the event loop.
The only change from ``servers/loop_article.py`` is ``async def`` -> ``def``.

    uvicorn servers.loop_def_generator:app --port 8000
    curl -N 'http://127.0.0.1:8000/stream?n=5&gap=0.5'

Introduced in notebooks/01_event_loop.ipynb.
"""

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.slow_upstream import chat_stream
from servers.stamp import stamped

app = FastAPI(title="loop fix: a plain def generator")

Count = Query(8, ge=1, le=1000, description="how many events")
Gap = Query(0.1, ge=0.0, le=10.0, description="seconds the upstream blocks before each event")


@app.get("/stream")
async def stream(n: int = Count, gap: float = Gap):
    def event_generator():  # plain def: each next() runs in a worker thread
        for seq in chat_stream(n, gap):
            yield stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@app.get("/health")
async def health():
    return {"ok": True}
