"""The article's relay pattern with the OpenAI SDK: the *sync* client iterated inside ``async def``.

The same mistake as ``servers/coze_relay_article.py``, with the SDK most relays use:
``for chunk in client.chat.completions.create(..., stream=True)`` is a blocking iterator (each
step waits on the SDK's own HTTP connection) inside ``async def event_generator()``.

- ``/chat``: as is;
- ``/chat-sleep0``: with the article's fix, ``await asyncio.sleep(0)`` after every ``yield``.

Each token goes out as one stamped event (``servers/stamp.py``) with its ``text``.
``/health`` answers at once (a second client uses it). ``make_app(base_url=..., api_key=...,
model=...)`` builds it for any OpenAI-compatible API: the stand-in or a real one.

    uvicorn servers.openai_standin:app --port 8002
    OPENAI_BASE_URL=http://127.0.0.1:8002/v1 OPENAI_API_KEY=demo-key \\
        uvicorn --factory servers.openai_relay_article:from_env --port 8000

Introduced in notebooks/11_openai.ipynb; the fixes are ``servers/openai_relay_async.py`` and
``servers/openai_relay_thread.py``.
"""

import asyncio
import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from openai import OpenAI

from servers.stamp import stamped

QUESTION = "Why does my stream arrive late?"


def make_app(*, base_url: str | None, api_key: str, model: str = "gpt-4o-mini") -> FastAPI:
    client = OpenAI(api_key=api_key, base_url=base_url)
    app = FastAPI(title="OpenAI relay: the article's pattern")

    def ask(q: str):
        return client.chat.completions.create(model=model, stream=True,
                                              messages=[{"role": "user", "content": q}])

    @app.get("/chat")
    async def chat(q: str = QUESTION):
        async def event_generator():
            seq = 0
            for chunk in ask(q):  # a sync iterator: each step blocks the event loop
                if chunk.choices and chunk.choices[0].delta.content:
                    yield stamped(seq, text=chunk.choices[0].delta.content)
                    seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/chat-sleep0")
    async def chat_sleep0(q: str = QUESTION):
        async def event_generator():
            seq = 0
            for chunk in ask(q):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield stamped(seq, text=chunk.choices[0].delta.content)
                    seq += 1
                    await asyncio.sleep(0)  # the article's "force a flush"

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


def from_env() -> FastAPI:
    """The relay for ``uvicorn --factory``: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL."""
    return make_app(base_url=os.environ.get("OPENAI_BASE_URL"), api_key=os.environ["OPENAI_API_KEY"],
                    model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
