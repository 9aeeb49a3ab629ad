"""Fix A: the SDK's async client, ``AsyncOpenAI``: awaiting each chunk lets other requests run.

``async with stream:`` closes the SDK's response however the generator ends, a client that
left included, so the model stops generating for nobody. ``/chat-noclose`` is the same loop
without it, to compare: it stops the upstream too when the cancellation lands while the
relay awaits the SDK (``AsyncStream.__stream__`` closes its response in ``finally``), which
notebook 11 measures; ``async with`` also covers a cancellation that lands elsewhere.

    uvicorn servers.openai_standin:app --port 8002
    OPENAI_BASE_URL=http://127.0.0.1:8002/v1 OPENAI_API_KEY=demo-key \\
        uvicorn --factory servers.openai_relay_async:from_env --port 8000

Introduced in notebooks/11_openai.ipynb.
"""

import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from openai import AsyncOpenAI

from servers.stamp import stamped

QUESTION = "Why does my stream arrive late?"


def make_app(*, base_url: str | None, api_key: str, model: str = "gpt-4o-mini") -> FastAPI:
    client = AsyncOpenAI(api_key=api_key, base_url=base_url)
    app = FastAPI(title="OpenAI relay: AsyncOpenAI")

    async def ask(q: str):
        return await client.chat.completions.create(model=model, stream=True,
                                                    messages=[{"role": "user", "content": q}])

    @app.get("/chat")
    async def chat(q: str = QUESTION):
        async def event_generator():
            seq = 0
            async with await ask(q) as stream:  # closed on every exit, cancellation included
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield stamped(seq, text=chunk.choices[0].delta.content)
                        seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/chat-noclose")
    async def chat_noclose(q: str = QUESTION):
        async def event_generator():
            seq = 0
            async for chunk in await ask(q):  # nobody closes the SDK's response
                if chunk.choices and chunk.choices[0].delta.content:
                    yield stamped(seq, text=chunk.choices[0].delta.content)
                    seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


def from_env() -> FastAPI:
    """The relay for ``uvicorn --factory``: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL."""
    return make_app(base_url=os.environ.get("OPENAI_BASE_URL"), api_key=os.environ["OPENAI_API_KEY"],
                    model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
