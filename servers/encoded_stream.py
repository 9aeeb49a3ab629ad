"""Stamped events, compressed with the encoding you name, flushed after every event.

Real servers compress streams too: Cloudflare serves brotli, Caddy's ``encode`` serves zstd
or gzip. Flushing the compressor after each event (``Z_SYNC_FLUSH`` for gzip/deflate,
``flush()`` for brotli, ``FLUSH_BLOCK`` for zstd) puts every event on the wire at once, so a
client that can decode it sees a real-time stream. This server compresses whatever the
client asked for (it ignores ``Accept-Encoding``, as a misconfigured one does), which is
how a probe that cannot decode the body meets one.

    uvicorn servers.encoded_stream:app --port 8000
    curl -N --compressed 'http://127.0.0.1:8000/events?encoding=gzip&n=5&interval=0.5'

``encoding`` is gzip, deflate, br or zstd; ``encoding=x-unknown`` labels plain bytes with an
encoding no client knows.

Introduced in notebooks/03_network.ipynb.
"""

import asyncio
import zlib

import brotli
import zstandard
from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="encoded stream")


def compressor(encoding: str):
    """A function frame -> bytes that compresses and flushes one event."""
    if encoding in ("gzip", "deflate"):
        z = zlib.compressobj(6, zlib.DEFLATED, (16 if encoding == "gzip" else 0) + zlib.MAX_WBITS)
        return lambda frame: z.compress(frame) + z.flush(zlib.Z_SYNC_FLUSH)
    if encoding == "br":
        b = brotli.Compressor()
        return lambda frame: b.process(frame) + b.flush()
    if encoding == "zstd":
        z = zstandard.ZstdCompressor().compressobj()
        return lambda frame: z.compress(frame) + z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    return lambda frame: frame  # an encoding label with nothing behind it


@app.get("/events")
async def events(encoding: str = Query("gzip", pattern="^(gzip|deflate|br|zstd|x-unknown)$"),
                 n: int = Query(10, ge=1, le=10_000), interval: float = Query(0.05, ge=0, le=60)):
    squeeze = compressor(encoding)

    async def event_generator():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield squeeze(stamped(seq, of=n).encode())

    return StreamingResponse(event_generator(), media_type="text/event-stream",
                             headers={"Content-Encoding": encoding, "Cache-Control": "no-cache"})
