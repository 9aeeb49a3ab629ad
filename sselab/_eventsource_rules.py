"""What a browser's ``EventSource`` does when a stream ends, measured rather than assumed.

Defined in notebooks/09_reconnect.ipynb, against ``servers/reconnect_patterns.py``'s
``/answers/<id>/reply`` (answers with any status and media type) in headless Chromium.
Chromium's code (``third_party/blink/renderer/modules/eventsource/event_source.cc``):
``EventSource::DidReceiveResponse`` accepts only status 200 with MIME type
``text/event-stream``; anything else (a 204, a 503, ``text/plain``) is cancelled and
``AbortConnectionAttempt`` sets ``readyState`` CLOSED for good. A valid stream that ends or
breaks goes to ``NetworkRequestEnded`` -> ``ScheduleReconnect``, after ``reconnect_delay_``
(``retry:``, else ``kDefaultReconnectDelay = 3000`` ms), and ``Connect`` sends the parser's
last id as ``Last-Event-ID``. :func:`areply_reactions` measures the first part by counting
the requests the server saw; :func:`aretry_delays` times the reconnect for each hint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from ._reconnect import afollow_browser
from ._table import Table

REPLIES = ((200, "text/event-stream"), (204, "text/event-stream"), (200, "text/plain"),
           (500, "text/html"), (503, "text/event-stream"))


@dataclass
class Reaction:
    status: int
    media: str
    requests: int  # stream requests the server saw in ``seconds``
    seconds: float
    note: str

    @property
    def reconnects(self) -> bool:
        return self.requests > 1

    def __str__(self) -> str:
        then = (f"reconnected {self.requests - 1} times in {self.seconds:g} s" if self.reconnects
                else "gave up after one request")
        return f"{self.status} {self.media}: {then}"

    __repr__ = __str__


async def areply_reactions(browser, base: str, *, replies=REPLIES, seconds: float = 1.5) -> list[Reaction]:
    """Open an EventSource on a reply of each (status, media type), all at once (each page
    follows an answer of its own, and the server counts requests per answer); count what follows."""
    async def reaction(status: int, media: str) -> Reaction:
        run = await afollow_browser(browser, base, pattern="reply", max_seconds=seconds, close_on_done=False,
                                    ledger=False, extra={"status": status, "media": media})
        async with httpx.AsyncClient(timeout=5) as client:
            requests = (await client.get(f"{base}/answers/{run.answer_id}")).json()["requests"]
        return Reaction(status, media, requests, seconds, run.note)

    return list(await asyncio.gather(*(reaction(status, media) for status, media in replies)))


class ReactionTable(Table):
    COLUMNS = ("server's answer", "requests in the window", "what the EventSource did")

    def __init__(self, reactions: list[Reaction]) -> None:
        self.reactions = reactions

    def rows(self) -> list[tuple[str, ...]]:
        return [(f"{r.status} {r.media}", str(r.requests),
                 f"reconnected every time (window {r.seconds:g} s)" if r.reconnects else "gave up (readyState CLOSED)")
                for r in self.reactions]


def reaction_table(reactions: list[Reaction]) -> ReactionTable:
    return ReactionTable(reactions)


@dataclass
class RetryDelay:
    hint: str  # the retry: the server sent, or "none"
    waited: float | None  # seconds from the cut to the browser's next connection


async def aretry_delays(browser, servers: dict[str, object], cut) -> list[RetryDelay]:
    """For each ``{hint: server}``, cut one stream (``cut(server)`` -> a NetworkCut) and time the
    reconnect; the servers all at once (each has its own cut)."""
    from ._faults import afollow

    async def delay(hint: str, server) -> RetryDelay:
        async with cut(server) as path:
            run = await afollow("eventsource", path, browser=browser, max_seconds=8)
        first, *rest = run.connections or [None]
        waited = rest[0].opened - first.ended if rest and first.ended is not None else None
        return RetryDelay(hint, waited)

    return list(await asyncio.gather(*(delay(hint, server) for hint, server in servers.items())))


class RetryTable(Table):
    COLUMNS = ("retry: sent by the server", "EventSource reconnected after")

    def __init__(self, delays: list[RetryDelay]) -> None:
        self.delays = delays

    def rows(self) -> list[tuple[str, ...]]:
        return [(d.hint, "did not reconnect" if d.waited is None else f"{d.waited * 1000:.0f} ms")
                for d in self.delays]


def retry_table(delays: list[RetryDelay]) -> RetryTable:
    return RetryTable(delays)
