"""The same specimens under each ASGI server: when the headers leave, framing, and a client that leaves.

Defined in notebooks/05_servers.ipynb, with ``servers/first_token.py``:

- **headers**: a stream whose first event comes ``first`` seconds late, as
  ``text/event-stream`` and as ``text/plain``; the probe records when the response headers
  arrived and when the first event did. A server that holds its headers until the first body
  chunk makes a proxy's first-byte timeout (nginx's ``proxy_read_timeout`` also covers the
  response header) fire before anything reached it.
- **framing**: the answer's head to an HTTP/1.0 and an HTTP/1.1 request on a plain socket,
  which is what nginx (HTTP/1.0 by default, notebook 04) sees.
- **leaving**: a client reads two events of ``/endless`` and closes; ``/closed`` says when
  the generator's ``finally`` ran, on the same monotonic clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import httpx

from ._loop_thread import LoopThread
from ._probe import ProbeError, aprobe
from ._table import Table
from ._timeline import Timeline
from ._wire import response_head

STAGGER = 0.025
"""Seconds between the starts of streams measured side by side (see :func:`ameasure_servers`)."""

HEADERS_HELD = 0.5
"""Headers count as 'held until the first event' when they came this close to it (s),
while the first event was more than ``2 * HEADERS_HELD`` late."""


@dataclass
class ServerRun:
    """One server, measured with the first-token specimen."""

    server: str
    by_media: dict[str, Timeline]  # media type -> the late-first-event stream
    framing: dict[str, str]  # "HTTP/1.0" / "HTTP/1.1" -> chunked, content-length, close-delimited
    stopped_after: float | None  # seconds from the client leaving to the generator's finally

    def headers_held(self, media: str) -> bool:
        """Did the headers wait for the first event? (computed from the run, not the Server header)"""
        t = self.by_media[media]
        first = t.summary["first_event"]
        return (t.headers_at is not None and first is not None and first > 2 * HEADERS_HELD
                and first - t.headers_at < HEADERS_HELD)


async def seconds_until_stopped(url: str, *, events: int = 2, timeout: float = 3.0) -> float | None:
    """Read ``events`` events of ``url/endless``, leave, and return how long the work went on."""
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        async with client.stream("GET", url + "/endless?interval=0.2") as response:
            seen = 0
            async for chunk in response.aiter_raw():
                seen += chunk.count(b"\n\n")
                if seen >= events:
                    break
            left = time.monotonic()
        deadline = left + timeout
        while time.monotonic() < deadline:
            at = (await client.get(url + "/closed")).json()["at"]
            if at is not None and at > left:
                return at - left
            await asyncio.sleep(0.01)
    return None


async def _astreams(label: str, server, first: float, media) -> ServerRun:
    """The headers measurements of one server (``STAGGER`` apart), then its framing."""
    async def stream(index: int, medium: str) -> Timeline:
        await asyncio.sleep(index * STAGGER)
        return await aprobe(f"{server.url}/events?first={first}&n=10&interval=0.05&media={medium}",
                            require_event_stream=False)

    by_media = dict(zip(media, await asyncio.gather(*(stream(i, m) for i, m in enumerate(media)))))
    framing = {}
    for version in ("1.0", "1.1"):
        head = await asyncio.to_thread(response_head, server.port, "/events?first=0&n=2&interval=0", version)
        framing[f"HTTP/{version}"] = head.framing
    return ServerRun(label, by_media, framing, None)


async def ameasure_server(label: str, server, *, first: float = 1.0,
                          media=("text/event-stream", "text/plain")) -> ServerRun:
    """Run the three measurements on ``server`` (anything with ``.url`` and ``.port``)."""
    run = await _astreams(label, server, first, media)
    run.stopped_after = await seconds_until_stopped(server.url)
    return run


async def ameasure_servers(servers: dict, *, first: float = 1.0,
                           media=("text/event-stream", "text/plain")) -> list[ServerRun]:
    """:func:`ameasure_server` for every ``{label: server}``, the streams of all at the same time.

    The late first event is a second of silence per stream, so every server's streams run
    at once (each server answers its own), each started ``STAGGER`` after the one before:
    started together, a request's headers time would include the time this process took to
    send the others (tens of milliseconds). The client that leaves runs one server after
    the other: servers in this process share the app module, and so its ``/closed`` time.
    """
    async def later(index: int, label: str, server) -> ServerRun:
        await asyncio.sleep(index * len(media) * STAGGER)
        return await _astreams(label, server, first, media)

    runs = await asyncio.gather(*(later(i, label, server) for i, (label, server) in enumerate(servers.items())))
    for run, server in zip(runs, servers.values()):
        run.stopped_after = await seconds_until_stopped(server.url)
    return list(runs)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


class ServerTable(Table):
    COLUMNS = ("server", "media type", "headers at", "first event at", "headers", "delivery",
               "HTTP/1.0 framing", "HTTP/1.1 framing", "work stopped after client left")

    def __init__(self, runs: list[ServerRun]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        out = []
        for run in self.runs:
            for media, t in run.by_media.items():
                out.append((run.server, media, _ms(t.headers_at), _ms(t.summary["first_event"]),
                            "held until first event" if run.headers_held(media) else "at once",
                            t.verdict, run.framing["HTTP/1.0"], run.framing["HTTP/1.1"],
                            _ms(run.stopped_after) if run.stopped_after is not None else "not within 3 s"))
        return out


def server_table(runs: list[ServerRun]) -> ServerTable:
    """One row per server and media type, every figure from the run."""
    return ServerTable(runs)


@dataclass
class QuietRun:
    """A stream whose first event comes after a proxy's read timeout, with or without a heartbeat."""

    label: str
    timeline: Timeline | None  # None when the proxy answered an error instead of the stream
    status: int

    @property
    def outcome(self) -> str:
        if self.timeline is None:
            return f"HTTP {self.status} from the proxy: no headers before its timeout"
        t = self.timeline
        return f"{t.verdict}: {len(t.events)} events, {t.comments} comments"


async def aquiet(label: str, url: str, **probe_options) -> QuietRun:
    """Probe ``url``; a proxy's error answer (504) is a result here, not a failure."""
    try:
        t = await aprobe(url, **probe_options)
    except ProbeError as error:
        if error.status is None:
            raise
        return QuietRun(label, None, error.status)
    return QuietRun(label, t, t.status)


class QuietTable(Table):
    COLUMNS = ("server · stream", "headers at", "outcome")

    def __init__(self, runs: list[QuietRun]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        return [(r.label, _ms(r.timeline.headers_at) if r.timeline else "never", r.outcome) for r in self.runs]


def quiet_table(runs: list[QuietRun]) -> QuietTable:
    return QuietTable(runs)


@dataclass
class Reload:
    """A long stream during gunicorn's graceful restart (SIGHUP)."""

    timeline: Timeline
    reloaded_at: float  # seconds since the request

    @property
    def cut_after(self) -> float | None:
        """Seconds from the SIGHUP to the end of a stream that was cut; None if it was not."""
        t = self.timeline
        return t.ended_at - self.reloaded_at if t.verdict == "cut" and t.ended_at else None

    def __str__(self) -> str:
        cut = self.cut_after
        what = f"cut {cut:.2f} s after the SIGHUP" if cut is not None else self.timeline.verdict
        return f"reload at {self.reloaded_at:.2f} s: {len(self.timeline.events)} events, {what}"

    __repr__ = __str__


async def awhile_reloading(server, url: str, *, after: float = 1.0, **probe_options) -> Reload:
    """Probe ``url`` on a gunicorn ``server`` and send it SIGHUP ``after`` seconds in."""
    start = time.monotonic()

    async def reload_later() -> float:
        await asyncio.sleep(after)
        server.reload()
        return time.monotonic() - start

    task = asyncio.create_task(reload_later())
    timeline = await aprobe(url, **probe_options)
    return Reload(timeline, await task)


class BackgroundProbes:
    """Probes that run in a thread of their own, with its own event loop, while the notebook goes on.

    For a measurement that is mostly waiting (notebook 05's 16 s of silence). On the kernel's
    own event loop its reads would wait whenever a cell draws a figure or starts a server,
    and the arrival times would shift by that much; a loop of its own reads on time.
    ``await`` it for the timelines, in the order of ``urls`` (again, once it is done).
    """

    def __init__(self, urls, *, settle: float = 5.0, **probe_options) -> None:
        self.urls = list(urls)
        self._first = [threading.Event() for _ in self.urls]

        async def every_probe() -> list[Timeline]:
            return list(await asyncio.gather(*(aprobe(url, on_event=lambda _t, f=first: f.set(), **probe_options)
                                               for url, first in zip(self.urls, self._first))))

        def release() -> None:
            for first in self._first:
                first.set()

        self._job = LoopThread(every_probe(), name="sselab-background-probes", on_done=release)
        # Return once every stream has its first event (or ``settle`` s): its start then owes
        # nothing to what the notebook does next.
        deadline = time.monotonic() + settle
        for first in self._first:
            first.wait(max(0.0, deadline - time.monotonic()))

    def done(self) -> bool:
        return self._job.done()

    def __await__(self):
        return self._job.__await__()

    def __repr__(self) -> str:
        return f"<BackgroundProbes of {len(self.urls)} URLs, {'done' if self.done() else 'running'}>"


def probe_in_background(urls, **probe_options) -> BackgroundProbes:
    """Start ``aprobe(url, **probe_options)`` for every URL in a thread of its own; ``await`` the result."""
    return BackgroundProbes(urls, **probe_options)


@dataclass
class Silence:
    """What arrived during a stream's silence: the reads that carried no event (comments)."""

    label: str
    timeline: Timeline

    @property
    def quiet_reads(self) -> list[float]:
        """Arrival times of reads that completed no event (heartbeat comments, in this lab)."""
        with_events = {e.read for e in self.timeline.events}
        return [r.t for i, r in enumerate(self.timeline.reads) if i not in with_events]

    @property
    def longest_silence(self) -> float:
        """The longest time with no byte at all, from the request to the last read (s)."""
        times = [0.0, *(r.t for r in self.timeline.reads)]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)


class SilenceTable(Table):
    COLUMNS = ("pattern", "comments", "comment reads at (s)", "longest silence", "verdict")

    def __init__(self, runs: list[Silence]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        return [(r.label, str(r.timeline.comments), ", ".join(f"{t:.1f}" for t in r.quiet_reads) or "none",
                 f"{r.longest_silence:.1f} s", r.timeline.verdict) for r in self.runs]


def silence_table(runs: list[Silence]) -> SilenceTable:
    """Per pattern: what it sent while silent, and how long the wire stayed empty."""
    return SilenceTable(runs)
