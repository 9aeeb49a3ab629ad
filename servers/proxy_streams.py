"""The three streams a proxy is tested with, behind one port, so one proxy fronts them all.

- ``/ticker/events?n=10&interval=0.05``: stamped events (servers/article_headers.py; ``&send=``
  adds the article's headers, e.g. ``send=cache-control`` for ``Cache-Control: no-cache``);
- ``/quiet/events?gap=1.5&heartbeat=0.25``: a silence mid-stream, with or without ``: ping``
  comments (servers/heartbeat.py): does the proxy's idle timer cut it?
- ``/late/events?first=1``: the first event comes late (servers/first_token.py): when do the
  headers get through?

    uvicorn servers.proxy_streams:app --port 8000
    curl -N 'http://127.0.0.1:8000/quiet/events?gap=1.5&heartbeat=0.25'

Introduced in notebooks/06_other_proxies.ipynb.
"""

from fastapi import FastAPI

from servers import article_headers, first_token, heartbeat

app = FastAPI(title="proxy streams")
app.mount("/ticker", article_headers.app)
app.mount("/quiet", heartbeat.app)
app.mount("/late", first_token.app)
