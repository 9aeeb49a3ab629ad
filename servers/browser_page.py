"""A page that opens an EventSource in a real browser and draws when each event arrived.

``/`` serves ``servers/static/clients_page.html``: it opens ``new EventSource("events?...")``
on this same server (the ticker's stamped stream, see ``servers/ticker.py``), notes each
event's arrival with ``performance.now()``, maps that onto the server's clock and draws
sent vs arrived, like the lab's plots. ``/clock`` returns the server's ``time.monotonic()``:
the page asks it a few times and keeps the answer with the shortest round trip, so its
arrival times are on the same clock as the stamps (to within half that round trip).
Every URL in the page is relative, so it works behind nginx or Jupyter's ``/proxy/<port>/``.

    uvicorn servers.browser_page:app --port 8000
    open 'http://127.0.0.1:8000/?n=20&interval=0.2'

Introduced in notebooks/08_clients.ipynb; the results are in ``window.sselab`` for a test
(``sselab.HeadlessBrowser`` reads them).
"""

import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from servers import ticker

STATIC = Path(__file__).with_name("static")

app = FastAPI(title="browser page")
app.mount("/static", StaticFiles(directory=STATIC), name="static")
app.add_api_route("/events", ticker.events)  # the ticker's stamped stream, same origin


@app.get("/")
async def page():
    return FileResponse(STATIC / "clients_page.html", headers={"Cache-Control": "no-store"})


@app.get("/clock")
async def clock():
    return {"now": time.monotonic()}
