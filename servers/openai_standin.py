"""A local stand-in for the OpenAI streaming API, as the real ``openai`` SDK reads it.

The unmodified SDK (``OpenAI`` and ``AsyncOpenAI``) talks to it through ``base_url``::

    client = OpenAI(api_key="demo-key", base_url="http://127.0.0.1:8002/v1")

Two endpoints, with ``"stream": true`` (notes on which SDK function reads which field:
``servers/OPENAI_PROTOCOL.md``):

- ``POST /v1/chat/completions``: ``data:`` lines only (no ``event:``), each a
  ``chat.completion.chunk``: a first chunk with ``delta.role``, one chunk per token with
  ``delta.content``, a last one with ``finish_reason: "stop"``; with
  ``stream_options: {"include_usage": true}`` every chunk has ``"usage": null`` and one more
  chunk with ``choices: []`` carries the usage; then ``data: [DONE]``.
- ``POST /v1/responses``: typed events, an ``event:`` line and a ``data:`` line whose
  ``type`` repeats it, with a rising ``sequence_number``: ``response.created``,
  ``response.in_progress``, ``response.output_item.added``, ``response.content_part.added``,
  one ``response.output_text.delta`` per token, then the ``.done`` events and
  ``response.completed``. No ``[DONE]``: the body ends.

The key ``demo-key`` is accepted (the environment variable ``OPENAI_STANDIN_KEY``, read at
each request, replaces it); any other key gets OpenAI's 401 body (``invalid_api_key``), which
the SDK raises as ``openai.AuthenticationError``. Any model name is accepted. Scenarios, by a
word in the last user message (so they pass through any relay):

- ``#429``: HTTP 429 ``rate_limit_exceeded`` with ``retry-after: 0`` (the SDK retries it
  ``max_retries`` times, then raises ``openai.RateLimitError``);
- ``#500``: HTTP 500 before the stream (retried likewise, then ``openai.InternalServerError``);
- ``#error``: after a few tokens, an error in the stream (chat: a ``data:`` object with
  ``error``; responses: an ``error`` event), then the body ends;
- ``#cut``: after a few tokens the connection closes mid-body.

``app.ledger`` records every request like the Coze stand-in's (``servers/coze_standin.py``):
when each token was generated and how the answer ended (``client left`` when the caller hung
up mid-answer). Cadence: ``OpenAIStandIn(first_delay=..., interval=..., tokens=...)``.

    uvicorn servers.openai_standin:app --port 8002
    curl -N http://127.0.0.1:8002/v1/chat/completions -H 'Authorization: Bearer demo-key' \\
         -H 'Content-Type: application/json' \\
         -d '{"model": "any", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'

Introduced in notebooks/11_openai.ipynb.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from servers.coze_standin import _QUIET, TOKENS, ChatRecord, Ledger, _Cut, _cut_here

SCENARIOS = ("#429", "#500", "#error", "#cut")


def openai_error(status: int, message: str, kind: str, code: str | None, headers=None) -> JSONResponse:
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}},
                        status_code=status, headers={"x-request-id": "req_" + secrets.token_hex(16),
                                                     **(headers or {})})


def data(obj) -> str:
    return f"data: {json.dumps(obj, separators=(',', ':'))}\n\n"


def typed(obj) -> str:
    return f"event: {obj['type']}\n" + data(obj)


class OpenAIStandIn:
    """The ASGI app: FastAPI routes in ``.api``, every answer in ``.ledger``."""

    def __init__(self, *, key: str | None = None, first_delay: float = 0.3, interval: float = 0.04,
                 tokens: int = 15, fail_after: int = 4) -> None:
        self.key, self.first_delay, self.interval = key, first_delay, interval
        self.tokens, self.fail_after = min(tokens, len(TOKENS)), fail_after
        self.ledger = Ledger()
        self.api = FastAPI(title="OpenAI stand-in: chat completions and responses (stream)")
        self.api.post("/v1/chat/completions")(self.chat_completions)
        self.api.post("/v1/responses")(self.responses)
        logging.getLogger("uvicorn.error").addFilter(_QUIET)  # deliberate cuts are not errors

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.api(scope, receive, send)
        except _Cut:
            _cut_here.set(True)  # uvicorn closes the socket mid-body and logs nothing (_QUIET)

    def accepted_key(self) -> str:
        return self.key or os.environ.get("OPENAI_STANDIN_KEY") or "demo-key"

    async def _start(self, request: Request, messages_field: str):
        """Check the key and the body; return (record, body) or an error response."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(key, self.accepted_key()):
            shown = (key[:3] + "*" * 4 + key[-4:]) if len(key) > 8 else "*" * len(key)
            return None, openai_error(401, f"Incorrect API key provided: {shown}.", "invalid_request_error",
                                      "invalid_api_key")
        try:
            body = await request.json()
            question = _last_user_text(body[messages_field])
            str(body["model"])
        except (ValueError, KeyError, IndexError, TypeError):
            return None, openai_error(400, "stand-in: expected model and messages/input", "invalid_request_error",
                                      None)
        if body.get("stream") is not True:
            return None, openai_error(400, "this stand-in only implements streaming (stream: true)",
                                      "invalid_request_error", None)
        scenario = next((s for s in SCENARIOS if s in question), "")
        record = ChatRecord("req_" + secrets.token_hex(8), question, scenario, time.monotonic())
        self.ledger.chats.append(record)
        if scenario == "#429":
            record.how, record.ended = "429", time.monotonic()
            return None, openai_error(429, "Rate limit reached (stand-in).", "requests", "rate_limit_exceeded",
                                      {"retry-after": "0"})
        if scenario == "#500":
            record.how, record.ended = "500", time.monotonic()
            return None, openai_error(500, "The server had an error (stand-in).", "server_error", None)
        return record, body

    async def _tokens(self, record: ChatRecord):
        """Yield each token at its time; record it; stop at a failure scenario."""
        await asyncio.sleep(self.first_delay)  # the model "thinks" before its first token
        for i, token in enumerate(TOKENS[:self.tokens]):
            if i:
                await asyncio.sleep(self.interval)
            if i == self.fail_after and record.scenario in ("#error", "#cut"):
                record.how = record.scenario[1:]
                if record.scenario == "#cut":
                    raise _Cut()
                yield None  # the caller sends its error frame
                return
            record.deltas.append(time.monotonic())
            yield token

    def _respond(self, frames) -> StreamingResponse:
        return StreamingResponse(frames, media_type="text/event-stream",
                                 headers={"x-request-id": "req_" + secrets.token_hex(16)})

    # -- POST /v1/chat/completions ------------------------------------------------------
    async def chat_completions(self, request: Request):
        record, body = await self._start(request, "messages")
        if record is None:
            return body
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return self._respond(self._chat_frames(record, body["model"], usage))

    async def _chat_frames(self, record: ChatRecord, model: str, include_usage: bool):
        base = {"id": "chatcmpl-" + secrets.token_hex(12), "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model, "system_fingerprint": "fp_standin"}

        def chunk(delta: dict, finish=None) -> str:
            out = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            return data({**out, "usage": None} if include_usage else out)

        try:
            yield chunk({"role": "assistant", "content": "", "refusal": None})
            async for token in self._tokens(record):
                if token is None:
                    yield data({"error": {"message": "stand-in: the model failed mid-answer", "type": "server_error",
                                          "param": None, "code": None}})
                    return
                yield chunk({"content": token})
            yield chunk({}, finish="stop")
            if include_usage:
                n = len(record.deltas)
                yield data({**base, "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": n,
                                                             "total_tokens": 12 + n}})
            record.how = "completed"
            yield "data: [DONE]\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            record.how = "client left"
            raise
        finally:
            record.ended = time.monotonic()

    # -- POST /v1/responses -------------------------------------------------------------
    async def responses(self, request: Request):
        record, body = await self._start(request, "input")
        if record is None:
            return body
        return self._respond(self._response_frames(record, body["model"]))

    async def _response_frames(self, record: ChatRecord, model: str):
        seq = iter(range(1_000_000))
        rid, item = "resp_" + secrets.token_hex(12), "msg_" + secrets.token_hex(12)

        def response(status: str, output: list, usage=None) -> dict:
            return {"id": rid, "object": "response", "created_at": int(time.time()), "status": status,
                    "model": model, "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
                    "tools": [], "error": None, "incomplete_details": None, "usage": usage}

        def event(kind: str, **fields) -> str:
            return typed({"type": kind, "sequence_number": next(seq), **fields})

        def message(status: str, text: str) -> dict:
            content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
            return {"id": item, "type": "message", "status": status, "role": "assistant", "content": content}

        part = {"type": "output_text", "text": "", "annotations": []}
        try:
            yield event("response.created", response=response("in_progress", []))
            yield event("response.in_progress", response=response("in_progress", []))
            yield event("response.output_item.added", output_index=0, item=message("in_progress", ""))
            yield event("response.content_part.added", item_id=item, output_index=0, content_index=0, part=part)
            text = ""
            async for token in self._tokens(record):
                if token is None:
                    yield event("error", code="server_error", message="stand-in: the model failed mid-answer",
                                param=None)
                    return
                text += token
                yield event("response.output_text.delta", item_id=item, output_index=0, content_index=0,
                            delta=token, logprobs=[])
            done = {**part, "text": text}
            yield event("response.output_text.done", item_id=item, output_index=0, content_index=0, text=text,
                        logprobs=[])
            yield event("response.content_part.done", item_id=item, output_index=0, content_index=0, part=done)
            yield event("response.output_item.done", output_index=0, item=message("completed", text))
            n = len(record.deltas)
            usage = {"input_tokens": 12, "output_tokens": n, "total_tokens": 12 + n,
                     "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}
            record.how = "completed"
            yield event("response.completed", response=response("completed", [message("completed", text)], usage))
        except (asyncio.CancelledError, GeneratorExit):
            record.how = "client left"
            raise
        finally:
            record.ended = time.monotonic()


def _last_user_text(messages) -> str:
    """The text of the last user message (a string ``input`` counts as one)."""
    if isinstance(messages, str):
        return messages
    content = [m for m in messages if m.get("role") == "user"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content if isinstance(part, dict))


app = OpenAIStandIn()
