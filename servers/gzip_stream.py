"""Starlette's GZipMiddleware in front of two streams: an event stream and a text/plain one.

Both endpoints send the same stamped frames (``servers/stamp.py``), one every ``interval``
seconds; only the media type differs. Whether the middleware compresses a stream, and
whether it then holds it, depends on the media type and on the Starlette version
(notebook 03 prints the version and measures both).

    uvicorn servers.gzip_stream:app --port 8000
    curl -N --compressed 'http://127.0.0.1:8000/events?n=5&interval=0.5'
    curl -N --compressed 'http://127.0.0.1:8000/text?n=5&interval=0.5'

``gzip_app(**options)`` builds the same app with other ``GZipMiddleware`` options, e.g.
``exclude_content_types=()`` (Starlette 1.5 and later) to compress event streams too.

Introduced in notebooks/03_network.ipynb.
"""

import asyncio

from fastapi import FastAPI, Query
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import StreamingResponse

from servers.stamp import stamped


async def frames(n: int, interval: float):
    for seq in range(n):
        if seq:
            await asyncio.sleep(interval)
        yield stamped(seq)


def gzip_app(**gzip_options) -> FastAPI:
    app = FastAPI(title="gzip stream")
    app.add_middleware(GZipMiddleware, **gzip_options)

    @app.get("/events")
    async def events(n: int = Query(10, ge=1, le=10_000), interval: float = Query(0.1, ge=0, le=60)):
        return StreamingResponse(frames(n, interval), media_type="text/event-stream")

    @app.get("/text")
    async def text(n: int = Query(10, ge=1, le=10_000), interval: float = Query(0.1, ge=0, le=60)):
        return StreamingResponse(frames(n, interval), media_type="text/plain")

    return app


app = gzip_app()
