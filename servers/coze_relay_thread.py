"""Fix B: keep the sync client, move it off the event loop into worker threads.

Two routes, both with the article's sync ``Coze`` client:

- ``/chat-def``: the generator is a plain ``def``. ``StreamingResponse`` then wraps it in
  ``starlette.concurrency.iterate_in_threadpool``, so every ``next()`` (the SDK's blocking
  request and reads) runs in a worker thread (``starlette/responses.py``,
  ``StreamingResponse.__init__``). The smallest change: ``async def`` -> ``def``.
- ``/chat-threadpool``: the generator stays ``async def`` (useful when it must also await
  other things) and hands the SDK to threads explicitly. Mind that cozepy's sync
  ``coze.chat.stream(...)`` sends its request when it is *called*, not when it is first
  iterated: the call goes to a thread too (``run_in_threadpool``), then each step
  (``iterate_in_threadpool``).

    uvicorn servers.coze_standin:app --port 8001
    COZE_API_BASE=http://127.0.0.1:8001 COZE_API_TOKEN=demo-token \\
        uvicorn --factory servers.coze_relay_thread:from_env --port 8000
    curl -N 'http://127.0.0.1:8000/chat-def?q=hello'

Introduced in notebooks/10_coze.ipynb.
"""

import os
import warnings
from contextlib import closing

from authlib.deprecate import AuthlibDeprecationWarning
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)  # printed by `import cozepy`
from cozepy import COZE_COM_BASE_URL, ChatEventType, Coze, Message, TokenAuth  # noqa: E402

from servers.stamp import stamped  # noqa: E402

QUESTION = "Why does my stream arrive late?"


def make_app(*, base_url: str, token: str, bot_id: str, user_id: str = "sselab-learner") -> FastAPI:
    coze = Coze(auth=TokenAuth(token), base_url=base_url)
    app = FastAPI(title="Coze relay: the sync SDK in worker threads")

    def ask(q: str):
        return coze.chat.stream(bot_id=bot_id, user_id=user_id,
                                additional_messages=[Message.build_user_question_text(q)])

    @app.get("/chat-def")
    async def chat_def(q: str = QUESTION):
        def event_generator():  # plain def: each next() runs in a worker thread
            seq = 0
            for event in ask(q):
                if event.event == ChatEventType.CONVERSATION_MESSAGE_DELTA:
                    yield stamped(seq, text=event.message.content)
                    seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/chat-threadpool")
    async def chat_threadpool(q: str = QUESTION):
        async def event_generator():
            seq = 0
            stream = await run_in_threadpool(ask, q)  # the request itself blocks: a thread
            async for event in iterate_in_threadpool(stream):  # so does every read
                if event.event == ChatEventType.CONVERSATION_MESSAGE_DELTA:
                    yield stamped(seq, text=event.message.content)
                    seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    def deltas(q: str):
        for event in ask(q):
            if event.event == ChatEventType.CONVERSATION_MESSAGE_DELTA:
                yield event.message.content

    @app.get("/chat-threadpool-closing")
    async def chat_threadpool_closing(q: str = QUESTION):
        async def event_generator():
            seq = 0
            with closing(deltas(q)) as upstream:  # however we leave, close the SDK's stream
                async for text in iterate_in_threadpool(upstream):  # next() in a thread
                    yield stamped(seq, text=text)
                    seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


def from_env() -> FastAPI:
    """The relay for ``uvicorn --factory``: COZE_API_TOKEN, COZE_BOT_ID, COZE_API_BASE."""
    return make_app(base_url=os.environ.get("COZE_API_BASE", COZE_COM_BASE_URL),
                    token=os.environ["COZE_API_TOKEN"], bot_id=os.environ.get("COZE_BOT_ID", "0"))
