"""A local stand-in for Coze's streaming chat API: ``POST /v3/chat`` with ``"stream": true``.

The real, unmodified ``cozepy`` SDK (``Coze`` and ``AsyncCoze``) talks to it through
``base_url``, so the series can relay a "bot" with no network and no token::

    coze = Coze(auth=TokenAuth("demo-token"), base_url="http://127.0.0.1:8001")

The wire format follows cozepy 0.20.0's parser (``cozepy/model.py``, ``Stream``): every
event is exactly one ``event:`` line and one single-line ``data:`` line, no comments, and
the body ends (the connection is not held) after ``event:done``. The events are the real
service's: ``conversation.chat.created``, ``...in_progress``, one
``conversation.message.delta`` per token, ``conversation.message.completed``,
``conversation.chat.completed`` with usage, ``done``. Ids are 19-digit strings and logids
look like Coze's (``X-Tt-Logid``). Cadence: ``first_delay`` seconds of "thinking", then one
delta every ``interval`` seconds (``CozeStandIn(first_delay=..., interval=..., deltas=...)``).

Tokens: ``demo-token`` is accepted (the environment variable ``COZE_STANDIN_TOKEN``, read at
each request, replaces it). Any other token gets Coze's answer to a bad token: HTTP 401,
``{"code": 4100, "msg": "authentication is invalid"}`` and an ``X-Tt-Logid`` header, which
cozepy raises as ``CozeAPIError`` with that logid.

Failure scenarios are chosen by a word in the user's last message, so they pass through any
relay unchanged (the SDK always sends ``?conversation_id=`` and no other query parameter):

- ``#failed``: after a few deltas, ``conversation.chat.failed`` with ``last_error`` (an
  ordinary event for the SDK: ``event.chat.last_error``), then ``done``;
- ``#error``: after a few deltas, an ``error`` event (cozepy raises
  ``Exception("error event: ...")`` mid-iteration) and the body ends;
- ``#cut``: after a few deltas the connection is closed without ending the body
  (cozepy's loop raises ``httpx.RemoteProtocolError``).

Every chat is written in ``app.ledger``: when each delta was generated and how the chat
ended (``completed``, ``failed``, ``error``, ``cut``, or ``client left`` when the caller hung
up mid-answer). ``app.ledger.open`` counts the chats still streaming: notebook 10 reads it
to see whether a relay abandons an upstream chat that keeps generating for nobody.

    uvicorn servers.coze_standin:app --port 8001
    curl -N -X POST 'http://127.0.0.1:8001/v3/chat?conversation_id=' \\
         -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
         -d '{"bot_id": "7379462189365198898", "user_id": "me", "stream": true,
              "additional_messages": [{"role": "user", "content": "hi", "content_type": "text"}]}'

Introduced in notebooks/10_coze.ipynb.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import random
import re
import secrets
import time
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

ANSWER = (
    "A stream arrives late when something between the generator and the browser holds it back."
    " It may be a blocked event loop, a buffering proxy, or a client that waits for the whole"
    " body. Measure each hop, then fix the one that holds."
)
TOKENS = re.findall(r"\s*\S+", ANSWER)
SCENARIOS = ("#failed", "#error", "#cut")


# -- the ledger: what the "bot" generated, and for how long ---------------------------
@dataclass
class ChatRecord:
    """One chat as the stand-in served it (monotonic times, like the stamp contract)."""

    id: str
    question: str
    scenario: str
    started: float
    deltas: list[float] = field(default_factory=list)
    ended: float | None = None
    how: str = "streaming"

    def generated_after(self, t: float) -> int:
        """Deltas generated after time ``t`` (e.g. after the user left the relay)."""
        return sum(d > t for d in self.deltas)

    def __repr__(self) -> str:
        took = f" in {self.ended - self.started:.2f} s" if self.ended else ""
        return f"<Chat {self.id} {self.question[:40]!r}: {self.how}, {len(self.deltas)} deltas{took}>"


class Ledger:
    """Every chat this stand-in served, oldest first."""

    def __init__(self) -> None:
        self.chats: list[ChatRecord] = []

    @property
    def open(self) -> int:
        """Upstream chats still streaming right now."""
        return sum(c.how == "streaming" for c in self.chats)

    def latest(self) -> ChatRecord | None:
        return self.chats[-1] if self.chats else None

    def __repr__(self) -> str:
        return f"<Ledger: {len(self.chats)} chats, {self.open} open>"


# -- wire helpers ---------------------------------------------------------------------
def new_id() -> str:
    """A 19-digit id like Coze's (ids are strings on the wire)."""
    return str(random.randint(7_380_000_000_000_000_000, 7_499_999_999_999_999_999))


def new_logid() -> str:
    """A logid like Coze's X-Tt-Logid: a timestamp and 20 hex digits."""
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def frame(event: str, data) -> str:
    """One event as cozepy parses it: an ``event:`` line and ONE ``data:`` line."""
    return f"event:{event}\ndata:{json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"


def coze_error(status: int, code: int, msg: str) -> JSONResponse:
    logid = new_logid()
    return JSONResponse({"code": code, "msg": msg, "detail": {"logid": logid}},
                        status_code=status, headers={"X-Tt-Logid": logid})


class _Cut(Exception):
    """Raised by the ``#cut`` scenario to end the response mid-body."""


_cut_here = contextvars.ContextVar("coze_standin_cut", default=False)


class _QuietAboutDeliberateCuts(logging.Filter):
    """uvicorn logs an error when an app ends a response early; the stand-in does it on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _cut_here.get()


_QUIET = _QuietAboutDeliberateCuts()


# -- the app --------------------------------------------------------------------------
class CozeStandIn:
    """The ASGI app: FastAPI routes in ``.api``, every chat in ``.ledger``."""

    def __init__(self, *, token: str | None = None, first_delay: float = 0.3,
                 interval: float = 0.04, deltas: int = 15, fail_after: int = 4) -> None:
        self.token, self.first_delay, self.interval = token, first_delay, interval
        self.deltas, self.fail_after = min(deltas, len(TOKENS)), fail_after
        self.ledger = Ledger()
        self.api = FastAPI(title="Coze stand-in: POST /v3/chat (stream)")
        self.api.post("/v3/chat")(self.chat)
        logging.getLogger("uvicorn.error").addFilter(_QUIET)

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.api(scope, receive, send)
        except _Cut:
            _cut_here.set(True)  # uvicorn now closes the socket mid-body, and logs nothing

    def accepted_token(self) -> str:
        return self.token or os.environ.get("COZE_STANDIN_TOKEN") or "demo-token"

    async def chat(self, request: Request, conversation_id: str = ""):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token, self.accepted_token()):
            return coze_error(401, 4100, "authentication is invalid")
        try:
            body = await request.json()
            question = str(body["additional_messages"][-1]["content"])
            bot_id, _user_id = str(body["bot_id"]), str(body["user_id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return coze_error(400, 4000, "The field http body provided is not a valid json or chat request.")
        if body.get("stream") is not True:
            return coze_error(400, 4000, "this stand-in only implements the streaming chat (stream: true)")
        scenario = next((s for s in SCENARIOS if s in question), "")
        record = ChatRecord(new_id(), question, scenario, time.monotonic())
        self.ledger.chats.append(record)
        ids = {"conversation_id": conversation_id or new_id(), "bot_id": bot_id}
        logid = new_logid()
        return StreamingResponse(
            self.events(record, ids, question), media_type="text/event-stream",
            headers={"X-Tt-Logid": logid, "Cache-Control": "no-cache"})

    async def events(self, record: ChatRecord, ids: dict, question: str):
        created_at = int(time.time())
        message_id = new_id()
        usage_in = 600 + len(question) // 4  # a bot's prompt costs input tokens too

        def chat(status: str, **extra) -> dict:
            out = len(record.deltas)
            return {"id": record.id, **ids, "created_at": created_at, "status": status,
                    "last_error": {"code": 0, "msg": ""},
                    "usage": {"token_count": usage_in + out if out else 0, "output_count": out,
                              "input_count": usage_in if out else 0}, **extra}

        def message(content: str, kind: str = "answer") -> dict:
            return {"id": message_id, **ids, "chat_id": record.id, "role": "assistant",
                    "type": kind, "content": content, "content_type": "text"}

        try:
            yield frame("conversation.chat.created", chat("created"))
            yield frame("conversation.chat.in_progress", chat("in_progress"))
            await asyncio.sleep(self.first_delay)  # the model "thinks" before its first token
            for i, token in enumerate(TOKENS[:self.deltas]):
                if i:
                    await asyncio.sleep(self.interval)
                if i == self.fail_after and record.scenario:
                    yield self.fail(record, chat)
                    return
                record.deltas.append(time.monotonic())
                yield frame("conversation.message.delta", message(token))
            answer = "".join(TOKENS[:self.deltas])
            yield frame("conversation.message.completed", message(answer))
            yield frame("conversation.message.completed", message(
                json.dumps({"msg_type": "generate_answer_finish", "data": "", "from_module": None,
                            "from_unit": None}), kind="verbose"))
            record.how = "completed"
            yield frame("conversation.chat.completed", chat("completed", completed_at=int(time.time())))
            yield frame("done", "[DONE]")
        except (asyncio.CancelledError, GeneratorExit):
            record.how = "client left"  # the caller hung up: the chat stops here
            raise
        finally:
            record.ended = time.monotonic()

    def fail(self, record: ChatRecord, chat) -> str:
        """The last frame of a failure scenario (for ``#cut``: none, the connection drops)."""
        record.how = record.scenario[1:]
        if record.scenario == "#failed":
            failed = chat("failed", failed_at=int(time.time()))
            failed["last_error"] = {"code": 5000, "msg": "stand-in: the model call failed (simulated)"}
            return frame("conversation.chat.failed", failed) + frame("done", "[DONE]")
        if record.scenario == "#error":
            return frame("error", {"code": 5000, "msg": "stand-in: internal error (simulated)"})
        raise _Cut()


app = CozeStandIn()
