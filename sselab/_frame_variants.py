"""Which framings of ``id:``, heartbeats and ``retry:`` each client parser copes with (notebook 09).

Defined in notebooks/09_reconnect.ipynb, against ``servers/frame_variants.py``. For each
variant the same five data events are sent; a client "copes" when it hands the application
exactly those five. The HTML standard's dispatch step returns without an event when the
data buffer is empty, so a block holding only a comment, an ``id:`` or a ``retry:`` is not
an event. Measured here:

- a browser's ``EventSource`` (headless Chromium);
- httpx-sse's ``EventSource.aiter_sse``;
- the openai SDK's parser (``openai._streaming.SSEDecoder``, which its ``Stream`` uses);
- this lab's parser (``sselab/_sse.py``).

httpx-sse's ``SSEDecoder.decode`` (``httpx_sse/_decoders.py``) and openai's
``SSEDecoder.decode`` (``openai/_streaming.py``) dispatch on a blank line unless event,
data, last id and retry are all empty, and keep the last id from event to event as the
standard says: so once a stream has sent an ``id:``, every heartbeat block comes out as an
event with empty data, and so does a lone ``retry:`` block. The openai SDK's ``Stream``
then calls ``sse.json()`` on it (``Stream.__stream__``): JSONDecodeError (notebook 11).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from ._table import Table

CLIENT_LABELS = ("EventSource (Chromium)", "httpx-sse", "openai SDK parser", "sselab parser")


@dataclass
class Parsed:
    variant: str
    client: str
    with_data: int  # events the client handed over that carry data
    empty: int  # events it handed over with empty data (a heartbeat, a lone retry:)
    expected: int

    @property
    def copes(self) -> bool:
        return self.with_data == self.expected and self.empty == 0

    @property
    def outcome(self) -> str:
        if self.copes:
            return f"{self.with_data} events"
        return f"{self.with_data} events + {self.empty} empty" if self.empty else f"{self.with_data} events"


async def _python_parsers(base: str, variant: str) -> dict[str, tuple[int, int]]:
    from httpx_sse import EventSource
    from openai._streaming import SSEDecoder as OpenAIDecoder

    from ._sse import SSEParser

    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", f"{base}/variants/{variant}") as response:
            raw = await response.aread()
        # httpx-sse on a fresh response (it reads the body itself)
        async with client.stream("GET", f"{base}/variants/{variant}") as response:
            httpx_sse = [(sse.event, sse.data) async for sse in EventSource(response).aiter_sse()]
    openai = [(sse.event or "message", sse.data) for sse in OpenAIDecoder().iter_bytes(iter([raw]))]
    ours = [(e.event, e.data) for e in SSEParser().feed(raw) if e.comment is None]

    def counts(events) -> tuple[int, int]:
        data = [d for name, d in events if name in ("", "message")]
        return sum(1 for d in data if d), sum(1 for d in data if not d)

    return {"httpx-sse": counts(httpx_sse), "openai SDK parser": counts(openai), "sselab parser": counts(ours)}


async def aframe_variants(browser, base: str, variants=None) -> list[Parsed]:
    """Every variant through every client; ``browser`` is a running HeadlessBrowser."""
    from urllib.parse import quote

    from ._browser import BrowserError

    names = variants or ("plain", "ids", "heartbeat", "retry", "ids+heartbeat", "all")

    async def parsed(variant: str) -> list[Parsed]:
        result = await browser.page_result(f"{base}/?variant={quote(variant, safe='')}", max_seconds=10)
        if result["note"] != "done event":
            raise BrowserError(f"the EventSource on variant {variant!r} ended with {result['note']!r}")
        messages = result["messages"]
        found = {"EventSource (Chromium)": (sum(1 for m in messages if m["data"]),
                                            sum(1 for m in messages if not m["data"])),
                 **await _python_parsers(base, variant)}
        return [Parsed(variant, client, *found[client], expected=5) for client in CLIENT_LABELS]

    # what each parser makes of a variant does not depend on timing: every variant at once
    return [run for runs in await asyncio.gather(*(parsed(v) for v in names)) for run in runs]


class FrameTable(Table):
    """Rows: variants; columns: clients; cells: what the client handed to the application."""

    def __init__(self, runs: list[Parsed]) -> None:
        self.runs = runs
        self.COLUMNS = ("framing", *CLIENT_LABELS)

    def rows(self) -> list[tuple[str, ...]]:
        variants = list(dict.fromkeys(r.variant for r in self.runs))
        cell = {(r.variant, r.client): r for r in self.runs}
        return [(v, *(("" if cell[(v, c)].copes else "✗ ") + cell[(v, c)].outcome for c in CLIENT_LABELS))
                for v in variants]


def frame_table(runs: list[Parsed]) -> FrameTable:
    return FrameTable(runs)
