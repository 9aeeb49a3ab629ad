"""A relay that re-serves an OpenAI-style stream with the additions relays make, for the SDK as client.

``POST /v1/chat/completions`` forwards the request to ``upstream`` (the stand-in, or any
OpenAI-compatible API) and passes its SSE body on line by line, adding what relays and
gateways add, chosen by query parameters:

- ``?heartbeat=1``: a comment (``: ping``) before every event, as sse-starlette's and
  ``fastapi.sse``'s keep-alive pings and many gateways send;
- ``?ids=1``: an ``id: <n>`` line in every event (for ``Last-Event-ID`` resumption);
- ``?retry=1``: a ``retry: 3000`` field once, at the start.

Point the SDK at it (``OpenAI(base_url=relay + "/v1", default_query={"heartbeat": 1})``) to
see what its own SSE parser does with each.

Introduced in notebooks/11_openai.ipynb.
"""

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse


def make_app(*, upstream: str) -> FastAPI:
    app = FastAPI(title="OpenAI re-serving relay")

    @app.post("/v1/chat/completions")
    async def chat(request: Request, heartbeat: bool = False, ids: bool = False, retry: bool = False):
        client = httpx.AsyncClient(timeout=60, trust_env=False)
        upstream_request = client.build_request(
            "POST", f"{upstream}/chat/completions", content=await request.body(),
            headers={"authorization": request.headers.get("authorization", ""), "content-type": "application/json"})
        response = await client.send(upstream_request, stream=True)
        if response.status_code >= 400:
            body = await response.aread()
            await client.aclose()
            return Response(body, status_code=response.status_code, media_type="application/json")

        async def frames():
            n = 0
            try:
                if retry:
                    yield "retry: 3000\n\n"
                async for line in response.aiter_lines():
                    if not line:
                        continue
                    yield (": ping\n\n" if heartbeat else "") + (f"id: {n}\n" if ids else "") + line + "\n\n"
                    n += 1
            finally:
                await response.aclose()
                await client.aclose()

        return StreamingResponse(frames(), media_type="text/event-stream")

    return app
