"""Timed reads in, Read and Event records out: the one measuring core every probe shares.

Defined in notebooks/00_quickstart.ipynb. ``aprobe`` (httpx), ``socket_probe`` (a plain
socket) and the client measurements in ``_clients.py`` (requests, curl, a browser...) all
feed their reads here, so every timeline in the series is parsed, stamped and timed the
same way. A read is timed and counted as it came off the wire; its body is parsed after
undoing the Content-Encoding (``sselab/_encodings.py``).
"""

from __future__ import annotations

import ipaddress
import json
import time
from urllib.parse import urlsplit

from ._encodings import decoder_for
from ._sse import SSEParser
from ._timeline import Event, Read, Timeline


def read_stamp(data: str) -> tuple[int | None, float | None, int | None]:
    """The stamp contract ``{"seq": int, "sent": float, "of": int}`` (``of`` optional), if any."""
    if not data.startswith("{"):
        return None, None, None
    try:
        obj = json.loads(data)
    except ValueError:
        return None, None, None
    if not isinstance(obj, dict):
        return None, None, None
    seq, sent, of = obj.get("seq"), obj.get("sent"), obj.get("of")

    def whole(x):
        return x if isinstance(x, int) and not isinstance(x, bool) else None

    sent = float(sent) if isinstance(sent, (int, float)) and not isinstance(sent, bool) else None
    return whole(seq), sent, whole(of)


def is_loopback(url: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only there do client and server share a clock."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Recorder:
    """Turns timed reads into Read and Event records (times relative to the request, ``t0``)."""

    def __init__(self, t0: float) -> None:
        self.t0, self.parser = t0, SSEParser()
        self.reads: list[Read] = []
        self.events: list[Event] = []
        self.comments = 0
        self.total = 0
        self.promised: int | None = None
        self.headers_at: float | None = None
        self._decode = None

    def headers_arrived(self, now: float) -> None:
        self.headers_at = now - self.t0

    def decode_as(self, content_encoding: str) -> None:
        """Undo this Content-Encoding before parsing; raises UnsupportedEncoding if it cannot."""
        self._decode = decoder_for(content_encoding)

    def feed(self, chunk: bytes, now: float, wire_bytes: int | None = None) -> None:
        t = now - self.t0
        size = len(chunk) if wire_bytes is None else wire_bytes
        self.reads.append(Read(t, size))
        self.total += size
        body = self._decode(chunk) if self._decode else chunk
        for parsed in self.parser.feed(body):
            if parsed.comment is not None:
                self.comments += 1
                continue
            seq, sent, of = read_stamp(parsed.data)
            if of is not None:
                self.promised = of
            self.events.append(Event(
                seq=seq, sent=None if sent is None else sent - self.t0, arrived=t,
                bytes=parsed.nbytes, read=len(self.reads) - 1, name=parsed.event,
                data=parsed.data if len(parsed.data) <= 2000 else parsed.data[:2000] + "…",
                id=parsed.id))

    def timeline(self, url: str, status: int, headers, ended_by: str,
                 http_version: str = "HTTP/1.1") -> Timeline:
        events, clock = list(self.events), None  # a snapshot: a live watch draws it while reads go on
        if events and all(e.sent is not None for e in events):
            delays = [e.arrived - e.sent for e in events]
            plausible = min(delays) > -0.005 and max(delays) < 3600
            clock = "shared" if is_loopback(url) and plausible else "aligned"
            if clock == "aligned":
                shift = min(delays)
                events = [Event(e.seq, e.sent + shift, e.arrived, e.bytes, e.read, e.name, e.data, e.id)
                          for e in events]
        return Timeline(
            url=url, status=status, content_type=headers.get("content-type", ""),
            reads=list(self.reads), events=events, comments=self.comments, clock=clock,
            ended_by=ended_by, headers=dict(headers), headers_at=self.headers_at,
            http_version=http_version, promised=self.promised, retry=self.parser.retry,
            ended_at=None if ended_by == "running" else time.monotonic() - self.t0)
