"""A stream whose app sends the article's ``Connection: keep-alive`` (and ``Keep-Alive``).

Both are hop-by-hop headers: they describe one connection, not the response (RFC 9110
§7.6.1), and HTTP/2 forbids them outright (RFC 9113 §8.2.2: a response carrying one is
malformed). Notebook 07 asks what each server and proxy does with them.

    hypercorn servers.hop_by_hop:app --certfile cert.pem --keyfile key.pem
"""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from servers.stamp import stamped

app = FastAPI(title="hop-by-hop headers")

HOP_BY_HOP = {"Connection": "keep-alive", "Keep-Alive": "timeout=60"}


@app.get("/events")
async def events(n: int = 10, interval: float = 0.05):
    async def body():
        for seq in range(n):
            if seq:
                await asyncio.sleep(interval)
            yield stamped(seq, of=n)

    return StreamingResponse(body(), media_type="text/event-stream", headers=HOP_BY_HOP)
