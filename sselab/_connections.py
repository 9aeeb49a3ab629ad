"""N EventSources in one real browser at once: how many connect, and when (notebook 07).

Defined in notebooks/07_https_http2.ipynb. ``servers/many_streams.py``'s page opens ``n``
``EventSource``s on one host at the same instant and notes when each fired ``open`` and got
its first event. Over HTTP/1.1 each open stream holds a connection and Chromium keeps at most
6 per host (``g_max_sockets_per_group`` in ``net/socket/client_socket_pool_manager.cc``); over
HTTP/2 all streams share one connection. :func:`aopen_many` runs the page and
:class:`ManyStreams` says, from the times alone, which streams waited for a free connection:
a stream that opened only after another had ended (and closed its connection). A rule on the
open times alone ("opened 0.25 s after the first") called streams "waited" that were merely
slow to be answered on a busy machine (three of eight at 0.3 s, with six connections open).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._table import Table

WAITED_AFTER = 0.25
"""For results without end times (older pages): a stream 'waited' when it opened this many
seconds after the first did."""


@dataclass
class Stream:
    index: int
    opened: float | None  # seconds since the page created the EventSources
    first_event: float | None
    events: int
    ended: float | None = None  # when the page closed it, after its last event


@dataclass
class ManyStreams:
    """When each of ``n`` EventSources opened, over one protocol."""

    label: str
    url: str
    streams: list[Stream]
    events_each: int

    def _waited(self, stream: Stream) -> bool:
        """It never opened, or it opened after another stream had ended: it needed that one's connection."""
        if stream.opened is None:
            return True
        ends = [s.ended for s in self.streams if s is not stream and s.ended is not None]
        if ends:
            return stream.opened > min(ends)
        return stream.opened - min(s.opened for s in self.streams if s.opened is not None) >= WAITED_AFTER

    @property
    def opened_at_once(self) -> int:
        """Streams that got a connection (or an HTTP/2 stream) without waiting for another to end."""
        return sum(1 for s in self.streams if not self._waited(s))

    @property
    def waited(self) -> list[Stream]:
        return [s for s in self.streams if self._waited(s)]

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

    streams = [Stream(s["index"], seconds(s["opened"]), seconds(s["first"]), s["events"], seconds(s.get("ended")))
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
