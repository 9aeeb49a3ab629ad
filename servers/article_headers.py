"""The ticker, plus the source article's three response headers, each switchable on its own.

Part 2 of the source article tells the app to send three headers so that nginx passes a
stream on at once: ``Cache-Control: no-cache``, ``Connection: keep-alive`` and
``X-Accel-Buffering: no``. ``send=`` picks which ones this endpoint adds (a comma-separated
list of header names, or ``all``), so a notebook can measure each header alone:

    uvicorn servers.article_headers:app --port 8000
    curl -N -i 'http://127.0.0.1:8000/events?n=5&interval=0.5&send=x-accel-buffering'
    curl -N -i 'http://127.0.0.1:8000/events?n=5&interval=0.5&send=all'

Introduced in notebooks/04_nginx.ipynb.
"""

import asyncio

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

ARTICLE_HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}

app = FastAPI(title="article headers")


def chosen_headers(send: str) -> dict:
    """The article's headers named in ``send`` ("" for none, "all" for the three)."""
    if send == "all":
        return dict(ARTICLE_HEADERS)
    by_name = {name.lower(): (name, value) for name, value in ARTICLE_HEADERS.items()}
    names = [n.strip().lower() for n in send.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise HTTPException(400, f"send= takes {', '.join(by_name)} or all; not {unknown}")
    return dict(by_name[n] for n in names)


@app.get("/events")
async def events(n: int = Query(10, ge=1, le=10_000), interval: float = Query(0.1, ge=0, le=60),
                 pad: int = Query(0, ge=0, le=1_000_000), send: str = ""):
    headers = chosen_headers(send)

    async def event_generator():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield stamped(seq, pad="x" * pad) if pad else stamped(seq)

    return StreamingResponse(event_generator(), media_type="text/event-stream", headers=headers)
