"""Fix A: the async client. ``AsyncCoze`` with ``async for``: nothing blocks the event loop.

The article's relay (``servers/coze_relay_article.py``) with two changes: the client is
``AsyncCoze`` (built on ``httpx.AsyncClient``), and the loop is ``async for`` (in cozepy
0.20.0 ``AsyncChatClient.stream`` is an async generator: iterate it, do not ``await`` it).
While the SDK waits for the bot's next token, the event loop serves everyone else. No
``sleep(0)`` is needed. When the browser leaves, Starlette cancels the generator, the
cancellation reaches the SDK's ``await`` and httpx closes the upstream response.

    uvicorn servers.coze_standin:app --port 8001
    COZE_API_BASE=http://127.0.0.1:8001 COZE_API_TOKEN=demo-token \\
        uvicorn --factory servers.coze_relay_async:from_env --port 8000
    curl -N 'http://127.0.0.1:8000/chat?q=hello'

Introduced in notebooks/10_coze.ipynb.
"""

import os
import warnings

from authlib.deprecate import AuthlibDeprecationWarning
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)  # printed by `import cozepy`
from cozepy import COZE_COM_BASE_URL, AsyncCoze, AsyncTokenAuth, ChatEventType, Message  # noqa: E402

from servers.stamp import stamped  # noqa: E402

QUESTION = "Why does my stream arrive late?"


def make_app(*, base_url: str, token: str, bot_id: str, user_id: str = "sselab-learner") -> FastAPI:
    coze = AsyncCoze(auth=AsyncTokenAuth(token), base_url=base_url)
    app = FastAPI(title="Coze relay: AsyncCoze")

    @app.get("/chat")
    async def chat(q: str = QUESTION):
        async def event_generator():
            seq = 0
            async for event in coze.chat.stream(  # awaits: the event loop runs meanwhile
                bot_id=bot_id, user_id=user_id,
                additional_messages=[Message.build_user_question_text(q)],
            ):
                if event.event == ChatEventType.CONVERSATION_MESSAGE_DELTA:
                    yield stamped(seq, text=event.message.content)
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
