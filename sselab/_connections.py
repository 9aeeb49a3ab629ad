"""N EventSources in one real browser at once: how many connect, and when (notebook 07).

Defined in notebooks/07_https_http2.ipynb. ``servers/many_streams.py``'s page opens ``n``
``EventSource``s on one host at the same instant and notes when each fired ``open`` and got
its first event. Over HTTP/1.1 each open stream holds a connection and Chromium keeps at most
6 per host (``g_max_sockets_per_group`` in ``net/socket/client_socket_pool_manager.cc``); over
HTTP/2 all streams share one connection. :func:`aopen_many` runs the page and
:class:`ManyStreams` says, from the times alone, which streams waited for a free connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._table import Table

WAITED_AFTER = 0.25
"""A stream 'waited' when it opened this many seconds after the first did (the page opens
all of them within a few ms; a stream that waits for a connection waits for another stream to end)."""


@dataclass
class Stream:
    index: int
    opened: float | None  # seconds since the page created the EventSources
    first_event: float | None
    events: int


@dataclass
class ManyStreams:
    """When each of ``n`` EventSources opened, over one protocol."""

    label: str
    url: str
    streams: list[Stream]
    events_each: int

    @property
    def opened_at_once(self) -> int:
        """Streams that opened with the first one, i.e. got a connection (or an HTTP/2 stream) at once."""
        opened = [s.opened for s in self.streams if s.opened is not None]
        if not opened:
            return 0
        return sum(1 for t in opened if t - min(opened) < WAITED_AFTER)

    @property
    def waited(self) -> list[Stream]:
        return [s for s in self.streams if s.opened is None
                or s.opened - min(x.opened for x in self.streams if x.opened is not None) >= WAITED_AFTER]

    @property
    def complete(self) -> bool:
        return all(s.events >= self.events_each for s in self.streams)

    @property
    def last_open(self) -> float | None:
        opened = [s.opened for s in self.streams if s.opened is not None]
        return max(opened) if opened else None

    def __str__(self) -> str:
        return (f"{self.label}: {self.opened_at_once} of {len(self.streams)} EventSources opened at once, "
                f"{len(self.waited)} waited (last open at {self.last_open or 0:.2f} s)")

    __repr__ = __str__


def many_streams_result(label: str, url: str, result: dict, events_each: int) -> ManyStreams:
    """The page's ``window.sselab`` (milliseconds) as a ManyStreams (seconds)."""
    def seconds(value):
        return None if value is None else value / 1000

    streams = [Stream(s["index"], seconds(s["opened"]), seconds(s["first"]), s["events"])
               for s in result["streams"]]
    return ManyStreams(label, url, streams, events_each)


async def aopen_many(browser, page_url: str, *, label: str, n: int = 8, events: int = 5,
                     interval: float = 0.15, max_seconds: float = 30.0) -> ManyStreams:
    """Open ``n`` EventSources at once in ``browser`` (a HeadlessBrowser) on ``page_url``'s host."""
    url = f"{page_url.rstrip('/')}/?n={n}&events={events}&interval={interval}"
    result = await browser.page_result(url, max_seconds=max_seconds)
    return many_streams_result(label, url, result, events)


class ManyStreamsTable(Table):
    COLUMNS = ("protocol", "EventSources", "opened at once", "waited", "last open", "all complete")

    def __init__(self, runs: list[ManyStreams]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        return [(r.label, str(len(r.streams)), str(r.opened_at_once), str(len(r.waited)),
                 f"{(r.last_open or 0) * 1000:.0f} ms", "yes" if r.complete else "no") for r in self.runs]


def many_streams_table(runs: list[ManyStreams]) -> ManyStreamsTable:
    """One row per protocol: how many EventSources opened at once, how many waited."""
    return ManyStreamsTable(runs)
