"""Four ways to serve one chat answer, for a client that gets cut off and comes back.

The prompt is sent once (``POST /answers``, which returns an answer id); the answer is then
streamed from ``GET /answers/{id}/<pattern>``. Every event carries ``id: <seq>`` and the
stamp (``servers/stamp.py``), the first one of each connection a ``retry:`` hint, and the
last one is ``event: done``, so a client knows the answer is over and does not reconnect.

- ``rerun``: the usual ``StreamingResponse(generate(prompt))``. Each connection runs the
  model again from the first token: a client that reconnects gets everything twice, and
  the tokens are paid for twice. It sends ``id:`` but ignores ``Last-Event-ID``.
- ``live``: the model runs once (``servers/answer_store.py``); a connection gets the tokens
  written from the moment it connects. A client that reconnects misses the gap.
- ``resume``: the model runs once; a connection first gets every token after its
  ``Last-Event-ID`` header, then follows live. Nothing lost, nothing repeated. A client
  that reconnects after the end gets ``204 No Content`` (an ``EventSource`` then stops).

    uvicorn servers.reconnect_patterns:app --port 8000
    curl -s -X POST localhost:8000/answers -H 'content-type: application/json' -d '{"prompt": "hi"}'
    curl -N localhost:8000/answers/a1/resume -H 'Last-Event-ID: 7'

- ``POST /chat`` (no id): the prompt in the body, the answer streamed back, the model run
  inside the request. A client can only reconnect by sending the prompt again.

``/`` is a page that follows an answer in a real browser (``servers/static/reconnect.js``);
``/ledger`` counts prompts received and model runs. Introduced in notebooks/09_reconnect.ipynb.
"""

import asyncio
import json
import time
from pathlib import Path

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import FileResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from servers.answer_store import Answer, AnswerStore

STATIC = Path(__file__).with_name("static")
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy may hold it
POLL = 0.005  # seconds between looks at the answer's token list


class Prompt(BaseModel):
    prompt: str
    n: int = 16
    interval: float = 0.06
    pause_at: int | None = None
    pause: float = 0.0


def frame(seq: int, sent: float, of: int, retry_ms: int | None) -> str:
    retry = f"retry: {retry_ms}\n" if retry_ms is not None else ""
    return f"{retry}id: {seq}\ndata: {json.dumps({'seq': seq, 'sent': sent, 'of': of})}\n\n"


def done(answer: Answer) -> str:
    return f"event: done\ndata: {json.dumps({'of': answer.n})}\n\n"


def make_app(store: AnswerStore | None = None, *, retry_ms: int = 300) -> FastAPI:
    """One app over ``store``; pass the same store to a restarted app to keep the answers."""
    store = store if store is not None else AnswerStore()
    app = FastAPI(title="reconnect patterns")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def find(answer_id: str) -> Answer:
        if answer_id not in store.answers:
            raise HTTPException(404, f"no answer {answer_id} on this server")
        return store.answers[answer_id]

    async def follow(answer: Answer, start: int):
        """Every token from ``start`` on: those already written, then each as it comes."""
        seq, first = start, True
        while True:
            while seq < len(answer.tokens):
                yield frame(*answer.tokens[seq], answer.n, retry_ms if first else None)
                seq, first = seq + 1, False
            if answer.done:
                yield done(answer)
                return
            await asyncio.sleep(POLL)

    @app.post("/answers")
    async def new_answer(prompt: Prompt):
        answer_id, _ = store.new(prompt.prompt, n=prompt.n, interval=prompt.interval,
                                 pause_at=prompt.pause_at, pause=prompt.pause)
        return {"id": answer_id}

    @app.get("/answers/{answer_id}")
    async def ledger(answer_id: str):
        answer = find(answer_id)
        return {"model_runs": answer.model_runs, "requests": answer.requests,
                "tokens": len(answer.tokens), "done": answer.done}

    @app.get("/answers/{answer_id}/reply")
    async def reply(answer_id: str, status: int = 200, media: str = "text/event-stream"):
        """Answer with ``status`` and ``media``: what does a client do next? (A 200 event
        stream sends two events and ends without ``done``, as a cut stream would.)"""
        find(answer_id).requests += 1
        if status == 200 and media == "text/event-stream":
            body = "".join(frame(seq, time.monotonic(), 2, retry_ms) for seq in range(2))
        else:
            body = "data: not for you\n\n" if status == 200 else ""
        return Response(body, status_code=status, media_type=media, headers=HEADERS)

    async def run_model_here(answer: Answer):
        """The model, inside this connection: it starts again from the first token each time."""
        answer.model_runs += 1
        for seq in range(answer.n):
            if seq:
                await asyncio.sleep(answer.interval)
            if seq == answer.pause_at:
                await asyncio.sleep(answer.pause)
            yield frame(seq, time.monotonic(), answer.n, retry_ms if seq == 0 else None)
        yield done(answer)

    @app.get("/answers/{answer_id}/rerun")
    async def rerun(answer_id: str):
        answer = find(answer_id)
        answer.requests += 1
        return StreamingResponse(run_model_here(answer), media_type="text/event-stream", headers=HEADERS)

    @app.post("/chat")
    async def chat(prompt: Prompt):
        """The commonest chat endpoint: POST the prompt, get the answer streamed back. A
        client that reconnects must POST the prompt again, and the model runs again."""
        _, answer = store.new(prompt.prompt, n=prompt.n, interval=prompt.interval,
                              pause_at=prompt.pause_at, pause=prompt.pause)
        answer.requests += 1
        return StreamingResponse(run_model_here(answer), media_type="text/event-stream", headers=HEADERS)

    @app.get("/ledger")
    async def totals():
        """What this server's store has seen: prompts received, model runs (the cost)."""
        return {"store": store.name, "prompts": store.prompts, "model_runs": store.model_runs}

    @app.get("/answers/{answer_id}/live")
    async def live(answer_id: str):
        now = len(find(answer_id).tokens)  # before the model may start: token 0 is not "past"
        store.answers[answer_id].requests += 1
        answer = store.run_once(answer_id)
        return StreamingResponse(follow(answer, now), media_type="text/event-stream",
                                 headers=HEADERS)

    @app.get("/answers/{answer_id}/resume")
    async def resume(answer_id: str, last_event_id: str | None = Header(None)):
        find(answer_id).requests += 1
        answer = store.run_once(answer_id)
        start = int(last_event_id) + 1 if (last_event_id or "").isdigit() else 0
        if answer.done and start >= answer.n:
            return Response(status_code=204)  # nothing left: EventSource stops reconnecting
        return StreamingResponse(follow(answer, start), media_type="text/event-stream",
                                 headers=HEADERS)

    @app.get("/")
    async def page():
        return FileResponse(STATIC / "reconnect.html", headers={"Cache-Control": "no-store"})

    @app.get("/clock")
    async def clock():
        return {"now": time.monotonic()}

    return app


app = make_app()
