"""The same five events framed six ways: with ``id:``, comment heartbeats and ``retry:``.

A resumable stream needs ``id:`` lines (for ``Last-Event-ID``), a stream behind an idle
timeout needs heartbeats, and ``retry:`` tells a browser how soon to come back. Each is
valid SSE; each client parser must still cope with them together. ``/variants/<name>``
sends five ``data: {"seq": n}`` events framed as ``name`` says, then ``event: done``:

- ``plain``: data lines only;
- ``ids``: ``id: n`` in every event;
- ``heartbeat``: a comment (``: ping``) block before every event;
- ``retry``: a block holding only ``retry: 300`` first (as some servers send at the start);
- ``ids+heartbeat``: both (what a resumable stream behind a proxy sends);
- ``all``: ``retry:`` in the first event, ``id:`` in every event, heartbeats between.

    uvicorn servers.frame_variants:app --port 8000
    curl -N localhost:8000/variants/ids+heartbeat

``/`` is a page that counts what a browser's ``EventSource`` dispatches for one variant.
Introduced in notebooks/09_reconnect.ipynb.
"""

import json
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, StreamingResponse

STATIC = Path(__file__).with_name("static")
VARIANTS = ("plain", "ids", "heartbeat", "retry", "ids+heartbeat", "all")
EVENTS = 5

app = FastAPI(title="frame variants")


def framed(name: str):
    if name == "retry":
        yield "retry: 300\n\n"
    for seq in range(EVENTS):
        if name in ("heartbeat", "ids+heartbeat", "all"):
            yield ": ping\n\n"
        retry = "retry: 300\n" if name == "all" and seq == 0 else ""
        event_id = f"id: {seq}\n" if name in ("ids", "ids+heartbeat", "all") else ""
        yield f"{retry}{event_id}data: {json.dumps({'seq': seq})}\n\n"
    yield "event: done\ndata: {}\n\n"


@app.get("/variants/{name}")
async def variant(name: str):
    if name not in VARIANTS:
        raise HTTPException(404, f"no variant {name!r}; there are {', '.join(VARIANTS)}")
    return StreamingResponse(framed(name), media_type="text/event-stream")


@app.get("/")
async def page():
    return FileResponse(STATIC / "frame_variants.html", headers={"Cache-Control": "no-store"})
