"""Fix B: keep the sync ``OpenAI`` client and move it off the event loop.

- ``/chat-def``: the generator is a plain ``def``; ``StreamingResponse`` runs each ``next()``
  in a worker thread (``starlette.concurrency.iterate_in_threadpool``). Its ``with stream:``
  closes the SDK's response only when the generator is closed, and nothing closes it when the
  client leaves: ``iterate_in_threadpool`` never calls ``close()`` on the iterator it wraps.
- ``/chat-threadpool-closing``: an ``async def`` generator that hands each ``next()`` to a
  thread itself and closes the SDK's stream in ``finally``, so a client that leaves (Starlette
  cancels the generator) closes the upstream at once.

    uvicorn servers.openai_standin:app --port 8002
    OPENAI_BASE_URL=http://127.0.0.1:8002/v1 OPENAI_API_KEY=demo-key \\
        uvicorn --factory servers.openai_relay_thread:from_env --port 8000

Introduced in notebooks/11_openai.ipynb.
"""

import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from openai import OpenAI
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from servers.stamp import stamped

QUESTION = "Why does my stream arrive late?"


def make_app(*, base_url: str | None, api_key: str, model: str = "gpt-4o-mini") -> FastAPI:
    client = OpenAI(api_key=api_key, base_url=base_url)
    app = FastAPI(title="OpenAI relay: the sync SDK in worker threads")

    @app.get("/chat-def")
    async def chat_def(q: str = QUESTION):
        def event_generator():  # plain def: each next() runs in a worker thread
            seq = 0
            with client.chat.completions.create(model=model, stream=True,
                                                messages=[{"role": "user", "content": q}]) as stream:
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield stamped(seq, text=chunk.choices[0].delta.content)
                        seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/chat-threadpool-closing")
    async def chat_threadpool_closing(q: str = QUESTION):
        async def event_generator():
            seq = 0
            stream = await run_in_threadpool(  # sending the request blocks too: a thread
                client.chat.completions.create, model=model, stream=True,
                messages=[{"role": "user", "content": q}])
            try:
                async for chunk in iterate_in_threadpool(stream):  # each read in a thread
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield stamped(seq, text=chunk.choices[0].delta.content)
                        seq += 1
            finally:  # however we leave, a client that hung up included: close the upstream
                stream.close()

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


def from_env() -> FastAPI:
    """The relay for ``uvicorn --factory``: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL."""
    return make_app(base_url=os.environ.get("OPENAI_BASE_URL"), api_key=os.environ["OPENAI_API_KEY"],
                    model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
