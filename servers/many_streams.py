"""A page that opens N EventSources at once, for the browser's per-host connection limit.

``/?n=8&events=5&interval=0.2`` serves ``servers/static/many_streams.html``: it opens ``n``
``EventSource``s on this server's ``/events`` (the ticker's stamped stream) at the same
moment and notes, for each, when ``open`` fired and when its first event arrived
(``performance.now()``, milliseconds since the page started them). Over HTTP/1.1 a browser
opens at most 6 connections to one host (Chromium: ``g_max_sockets_per_group`` in
``net/socket/client_socket_pool_manager.cc``); each stream holds one, so the seventh waits.
Over HTTP/2 they share one connection.

    uvicorn servers.many_streams:app --port 8000
    open 'http://127.0.0.1:8000/?n=8'

Introduced in notebooks/07_https_http2.ipynb; results are in ``window.sselab``.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from servers import ticker

STATIC = Path(__file__).with_name("static")

app = FastAPI(title="many streams")
app.mount("/static", StaticFiles(directory=STATIC), name="static")
app.add_api_route("/events", ticker.events)


@app.get("/")
async def page():
    return FileResponse(STATIC / "many_streams.html", headers={"Cache-Control": "no-store"})
