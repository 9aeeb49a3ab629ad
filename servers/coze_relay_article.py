"""The source article's relay: the *sync* ``cozepy`` client iterated inside an ``async def`` generator.

A FastAPI endpoint turns a Coze bot's answer into SSE for a browser, exactly as the article
writes it: ``for event in coze.chat.stream(...)`` (a blocking iterator: every step waits on
the SDK's own HTTP connection) inside ``async def event_generator()``. Two routes, the same
except for one line:

- ``/chat``: the article's loop as is;
- ``/chat-sleep0``: with the article's fix, ``await asyncio.sleep(0)`` after every ``yield``.

Each delta goes out as one stamped event, ``{"seq": n, "sent": ..., "text": "<delta>"}``
(``servers/stamp.py``). ``/health`` answers at once: a second client uses it to see whether
the server is frozen. ``make_app(base_url=..., token=..., bot_id=...)`` builds the relay for
any Coze API: the local stand-in (``servers/coze_standin.py``) or the real service.

    uvicorn servers.coze_standin:app --port 8001
    COZE_API_BASE=http://127.0.0.1:8001 COZE_API_TOKEN=demo-token \\
        uvicorn --factory servers.coze_relay_article:from_env --port 8000
    curl -N 'http://127.0.0.1:8000/chat?q=hello'

Introduced in notebooks/10_coze.ipynb; the fixes are ``servers/coze_relay_async.py`` and
``servers/coze_relay_thread.py``.
"""

import asyncio
import os
import warnings

from authlib.deprecate import AuthlibDeprecationWarning
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)  # printed by `import cozepy`
from cozepy import COZE_COM_BASE_URL, ChatEventType, Coze, Message, TokenAuth  # noqa: E402

from servers.stamp import stamped  # noqa: E402

QUESTION = "Why does my stream arrive late?"


def make_app(*, base_url: str, token: str, bot_id: str, user_id: str = "sselab-learner") -> FastAPI:
    coze = Coze(auth=TokenAuth(token), base_url=base_url)
    app = FastAPI(title="Coze relay: the article's pattern")

    @app.get("/chat")
    async def chat(q: str = QUESTION):
        async def event_generator():
            seq = 0
            for event in coze.chat.stream(  # a sync iterator: each step blocks the event loop
                bot_id=bot_id, user_id=user_id,
                additional_messages=[Message.build_user_question_text(q)],
            ):
                if event.event == ChatEventType.CONVERSATION_MESSAGE_DELTA:
                    yield stamped(seq, text=event.message.content)
                    seq += 1

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/chat-sleep0")
    async def chat_sleep0(q: str = QUESTION):
        async def event_generator():
            seq = 0
            for event in coze.chat.stream(
                bot_id=bot_id, user_id=user_id,
                additional_messages=[Message.build_user_question_text(q)],
            ):
                if event.event == ChatEventType.CONVERSATION_MESSAGE_DELTA:
                    yield stamped(seq, text=event.message.content)
                    seq += 1
                    await asyncio.sleep(0)  # the article's "force a flush"

        return StreamingResponse(event_generator(), media_type="text/event-stream")

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


def from_env() -> FastAPI:
    """The relay for ``uvicorn --factory``: COZE_API_TOKEN, COZE_BOT_ID, COZE_API_BASE."""
    return make_app(base_url=os.environ.get("COZE_API_BASE", COZE_COM_BASE_URL),
                    token=os.environ["COZE_API_TOKEN"], bot_id=os.environ.get("COZE_BOT_ID", "0"))
