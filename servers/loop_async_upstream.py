"""Fix 3: a truly asynchronous upstream; nothing blocks, no thread is needed.

``achat_stream(...)`` (see ``servers/slow_upstream.py``) awaits between items, as an SDK
built on ``httpx.AsyncClient`` does (cozepy has ``AsyncCoze`` for this). The generator is
the article's, with ``async for`` instead of ``for`` and no ``sleep(0)``.

    uvicorn servers.loop_async_upstream:app --port 8000
    curl -N 'http://127.0.0.1:8000/stream?n=5&gap=0.5'

Introduced in notebooks/01_event_loop.ipynb.
"""

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.slow_upstream import achat_stream
from servers.stamp import stamped

app = FastAPI(title="loop fix: an async upstream")

Count = Query(8, ge=1, le=1000, description="how many events")
Gap = Query(0.1, ge=0.0, le=10.0, description="seconds the upstream waits before each event")


@app.get("/stream")
async def stream(n: int = Count, gap: float = Gap):
    async def event_generator():
        async for seq in achat_stream(n, gap):  # awaits: the event loop runs meanwhile
            yield stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream")


@app.get("/health")
async def health():
    return {"ok": True}
