"""One answer followed across a dropped connection: what each client lost, repeated, re-ran.

Defined in notebooks/09_reconnect.ipynb, against ``servers/reconnect_patterns.py``. A run
POSTs the prompt once, then a client follows ``answers/<id>/<pattern>`` while a fault
breaks the stream (``sselab/_front.py``, nginx's ``proxy_read_timeout``, a restart). Every
event carries its ``seq`` and the server's send time; every connection its open and end.
From those alone :class:`Followed` counts the events lost and repeated, the time from the
cut to the next event, and asks the server how often the model ran.

Clients: a browser's ``EventSource`` and a ``fetch()`` reader (``servers/static/reconnect.js``,
in headless Chromium), and :func:`afollow_httpx_sse`, the retry loop httpx-sse's README
leaves to you: httpx-sse parses events and has no reconnection of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from ._table import Table

ANSWER = {"prompt": "tell me a story", "n": 16, "interval": 0.06}
"""The answer every run asks for: 16 tokens, 60 ms apart (about 1 s in all)."""


@dataclass
class Connection:
    opened: float
    ended: float | None
    how: str | None


@dataclass
class Followed:
    """One client following one answer: its events and connections, times in seconds since
    the prompt was sent, on the server's clock; plus the server's own count of model runs."""

    client: str
    pattern: str
    fault: str
    n: int
    events: list[tuple[int, float, float, int]]  # (seq, sent, arrived, connection index)
    connections: list[Connection]
    note: str
    answer_id: str = ""
    prompts: int | None = None  # prompts the server received during the run (charge())
    model_runs: int | None = None  # times it ran the model during the run
    t0: float = 0.0  # the server's time.monotonic() when the prompt had been sent
    faults: list[float] = field(default_factory=list)  # when the fault struck, since t0

    @property
    def seen(self) -> Counter:
        return Counter(seq for seq, *_ in self.events)

    @property
    def lost(self) -> int:
        """Events of the answer this client never got."""
        return sum(1 for seq in range(self.n) if seq not in self.seen)

    @property
    def repeated(self) -> int:
        """Events this client got more than once (each extra copy counts)."""
        return sum(count - 1 for count in self.seen.values())

    @property
    def cut(self) -> bool:
        """The fault bit: the first connection ended before the ``done`` event (and not
        because this run's time was up)."""
        if not self.connections:
            return False
        how = self.connections[0].how or ""
        return how != "done event" and not how.startswith("still going")

    @property
    def resumed_after(self) -> float | None:
        """Seconds from the end of the first connection to the first event on a later one."""
        if not self.connections or self.connections[0].ended is None:
            return None
        later = [arrived for _, _, arrived, conn in self.events if conn >= 1]
        return min(later) - self.connections[0].ended if later else None

    @property
    def gave_up(self) -> bool:
        return "gave up" in self.note

    @property
    def finished(self) -> bool:
        return "done" in self.note

    @property
    def outcome(self) -> str:
        """What the reader would say, from the counts alone."""
        if not self.cut:
            return "not cut (the fault missed)"
        if self.gave_up:  # a reply the client will not reconnect after (a 204, a 404)
            return "complete, then the server's reply closed it" if self.lost == 0 else f"gave up, {self.lost} lost"
        if not self.finished:
            return f"never finished: {len(self.connections)} connections"
        if self.lost == 0 and self.repeated == 0:
            return "resumed: nothing lost or repeated"
        parts = [f"{self.lost} lost" if self.lost else "", f"{self.repeated} repeated" if self.repeated else ""]
        return "resumed, " + " and ".join(p for p in parts if p)

    @property
    def model_ran(self) -> str:
        """'model ran 2x', or why the count is unknown (a restart lost the server's count with its memory)."""
        return "model runs unknown (count lost)" if self.model_runs is None else f"model ran {self.model_runs}x"

    def __str__(self) -> str:
        after = f", next event {self.resumed_after * 1000:.0f} ms after the cut" if self.resumed_after else ""
        return (f"{self.client} · {self.pattern} · {self.fault}: {self.outcome} ({len(self.events)} events "
                f"in {len(self.connections)} connections{after}; the {self.model_ran})")

    __repr__ = __str__


async def _post_answer(client: httpx.AsyncClient, base: str, answer: dict) -> str:
    reply = await client.post(f"{base}/answers", json=answer)
    reply.raise_for_status()
    return reply.json()["id"]


async def server_ledger(base: str) -> dict | None:
    """The server's totals (``GET /ledger``): prompts received and model runs; None if unreachable."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            reply = await client.get(f"{base}/ledger")
    except httpx.TransportError:
        return None
    return reply.json() if reply.status_code == 200 else None


def charge(run: Followed, before: dict | None, after: dict | None) -> Followed:
    """Set the run's prompts and model runs from the server's totals before and after it.
    Unknown (None) when the store changed: a restarted server that kept its answers in memory."""
    if before is None or after is None or after["store"] != before["store"]:
        run.prompts = run.model_runs = None
    else:
        run.prompts = after["prompts"] - before["prompts"]
        run.model_runs = after["model_runs"] - before["model_runs"]
    return run


async def afollow_httpx_sse(base: str, *, pattern: str = "resume", fault: str = "",
                            answer: dict | None = None, max_seconds: float = 8.0,
                            ledger: bool = True) -> Followed:
    """Follow one answer with httpx + httpx-sse and a hand-written retry loop.

    The loop is the one httpx-sse's README shows: remember the last ``id``, honour
    ``retry:``, reconnect after a transport error or an early end with a ``Last-Event-ID``
    header, stop on the ``done`` event or on an answer that is not an event stream.
    """
    from httpx_sse import SSEError, aconnect_sse

    answer = {**ANSWER, **(answer or {})}
    events, connections = [], []
    last_id, retry, note = None, 1.0, ""
    before = await server_ledger(base) if ledger else None
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=5.0)) as client:
        # pattern "chat": the prompt goes with every request; else it is POSTed once
        answer_id = "chat" if pattern == "chat" else await _post_answer(client, base, answer)
        url, method = ((f"{base}/chat", "POST") if pattern == "chat"
                       else (f"{base}/answers/{answer_id}/{pattern}", "GET"))
        t0 = time.monotonic()
        deadline = t0 + max_seconds
        while not note:
            if time.monotonic() > deadline:
                note = f"still going after {max_seconds:g} s: stopped"
                break
            headers = {"Last-Event-ID": last_id} if last_id is not None else {}
            how = "ended"
            try:
                async with aconnect_sse(client, method, url, headers=headers,
                                        json=answer if method == "POST" else None) as source:
                    if source.response.status_code != 200:
                        note = f"HTTP {source.response.status_code}: gave up"
                        break
                    connections.append(Connection(time.monotonic() - t0, None, None))
                    async for sse in source.aiter_sse():
                        if sse.retry is not None:
                            retry = sse.retry / 1000
                        if sse.id:
                            last_id = sse.id
                        if sse.event == "done":
                            note, how = "done event", "done event"
                            break
                        if sse.data:
                            stamp = sse.json()
                            events.append((stamp["seq"], stamp["sent"] - t0, time.monotonic() - t0,
                                           len(connections) - 1))
                        if time.monotonic() > deadline:
                            break
            except SSEError as error:
                note = f"{error}: gave up"
            except httpx.TransportError as error:
                how = f"error: {type(error).__name__}"
            if connections and connections[-1].ended is None:
                connections[-1].ended, connections[-1].how = time.monotonic() - t0, how
            if not note:
                await asyncio.sleep(retry)
    run = Followed("httpx-sse loop", pattern, fault, answer["n"], events, connections, note, answer_id, t0=t0)
    return charge(run, before, await server_ledger(base)) if ledger else run


async def afollow_browser(browser, base: str, *, client: str = "eventsource", pattern: str = "resume",
                          fault: str = "", answer: dict | None = None, max_seconds: float = 8.0,
                          close_on_done: bool = True, ledger: bool = True,
                          extra: dict | None = None) -> Followed:
    """Follow one answer in ``browser`` (a HeadlessBrowser) with ``EventSource`` or ``fetch``."""
    from urllib.parse import urlencode

    answer = {**ANSWER, **(answer or {})}
    settings = {"pattern": pattern, "client": client, "max": max_seconds,
                "close_on_done": int(close_on_done), **{k: v for k, v in answer.items() if k != "prompt"},
                **(extra or {})}
    before = await server_ledger(base) if ledger else None
    result = await browser.page_result(f"{base}/?{urlencode(settings)}", max_seconds=max_seconds + 10)
    if result.get("answer") is None:
        from ._browser import BrowserError

        raise BrowserError(f"the page at {base} did not start an answer: {result.get('note')}")
    t0 = result["started"]
    events = [(e["seq"], e["sent"] - t0, e["arrived"] - t0, e["conn"]) for e in result["events"]]
    connections = [Connection(c["opened"] - t0, None if c["ended"] is None else c["ended"] - t0, c["how"])
                   for c in result["connections"]]
    name = {"eventsource": "EventSource", "fetch": "fetch() reader"}[client]
    run = Followed(name, pattern, fault, answer["n"], events, connections, result["note"],
                   result["answer"], t0=t0)
    return charge(run, before, await server_ledger(base)) if ledger else run


class ReconnectTable(Table):
    COLUMNS = ("client", "fault", "server pattern", "connections", "lost", "repeated",
               "next event after the cut", "prompt sent", "model ran", "outcome")

    def __init__(self, runs: list[Followed]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        def times(count: int | None) -> str:
            return "?" if count is None else f"{count}x"

        def after(run: Followed) -> str:
            return "-" if run.resumed_after is None else f"{run.resumed_after * 1000:.0f} ms"

        return [(r.client, r.fault, r.pattern, str(len(r.connections)), str(r.lost), str(r.repeated),
                 after(r), times(r.prompts), times(r.model_runs), r.outcome) for r in self.runs]


def reconnect_table(runs: list[Followed]) -> ReconnectTable:
    """One row per run: client × fault × server pattern, lost / repeated / resumed / model runs."""
    return ReconnectTable(runs)
