"""The probe: stream one URL with httpx and record when every read and every event arrived.

Defined in notebooks/00_quickstart.ipynb. ``aprobe`` is the implementation (top-level
``await`` in a notebook); ``probe`` runs it from plain code, and from inside a running event
loop too (it then uses a worker thread, so Jupyter needs no nest-asyncio for it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import json
import time
import zlib
from urllib.parse import urlsplit

import httpx

from ._sse import SSEParser
from ._timeline import Event, Read, Timeline

DEFAULT_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
"""What a browser's EventSource sends; some proxies buffer unless they see this Accept."""


class ProbeError(Exception):
    """The stream could not be measured. The message is one paragraph a reader can act on."""


def _stamp(data: str) -> tuple[int | None, float | None]:
    """Read the stamp contract ``{"seq": int, "sent": float}`` from an event's data, if any."""
    if not data.startswith("{"):
        return None, None
    try:
        obj = json.loads(data)
    except ValueError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    seq, sent = obj.get("seq"), obj.get("sent")
    seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    sent = float(sent) if isinstance(sent, (int, float)) and not isinstance(sent, bool) else None
    return seq, sent


def is_loopback(url: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only there do client and server share a clock."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Recorder:
    """Turns timed reads into Read and Event records (times relative to the request).

    A read is timed and counted as it came off the wire; its body is parsed after undoing
    gzip/deflate (``decode_as``), so a compressed stream's events are still seen.
    """

    def __init__(self, t0: float) -> None:
        self.t0, self.parser = t0, SSEParser()
        self.reads: list[Read] = []
        self.events: list[Event] = []
        self.comments = 0
        self.total = 0
        self._decoder = None

    def decode_as(self, content_encoding: str) -> None:
        """Undo this Content-Encoding before parsing (gzip and deflate; others parse as is)."""
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(content_encoding.strip().lower())
        self._decoder = zlib.decompressobj(wbits) if wbits else None

    def feed(self, chunk: bytes, now: float, wire_bytes: int | None = None) -> None:
        t = now - self.t0
        size = len(chunk) if wire_bytes is None else wire_bytes
        self.reads.append(Read(t, size))
        self.total += size
        body = self._decoder.decompress(chunk) if self._decoder else chunk
        for parsed in self.parser.feed(body):
            if parsed.comment is not None:
                self.comments += 1
                continue
            seq, sent = _stamp(parsed.data)
            self.events.append(Event(
                seq=seq, sent=None if sent is None else sent - self.t0, arrived=t,
                bytes=parsed.nbytes, read=len(self.reads) - 1, name=parsed.event,
                data=parsed.data if len(parsed.data) <= 2000 else parsed.data[:2000] + "…"))

    def timeline(self, url: str, status: int, headers: dict, ended_by: str) -> Timeline:
        events, clock = self.events, None
        if events and all(e.sent is not None for e in events):
            delays = [e.arrived - e.sent for e in events]
            plausible = min(delays) > -0.005 and max(delays) < 3600
            clock = "shared" if is_loopback(url) and plausible else "aligned"
            if clock == "aligned":
                shift = min(delays)
                events = [Event(e.seq, e.sent + shift, e.arrived, e.bytes, e.read, e.name, e.data)
                          for e in events]
        return Timeline(
            url=url, status=status, content_type=headers.get("content-type", ""),
            reads=self.reads, events=events, comments=self.comments, clock=clock,
            ended_by=ended_by, headers=dict(headers))


def _check_response(url: str, response: httpx.Response, body: bytes) -> None:
    ctype = response.headers.get("content-type", "")
    snippet = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    if response.status_code >= 400:
        raise ProbeError(
            f"{url} answered HTTP {response.status_code} {response.reason_phrase}, so there is no "
            f"stream to measure. Check the path, the method and any headers the endpoint needs "
            f"(authorization, a POST body). The body began: {snippet!r}")
    if "text/event-stream" not in ctype:
        raise ProbeError(
            f"{url} answered with Content-Type {ctype or '(none)'!r}, not 'text/event-stream', "
            f"so it is not a Server-Sent Events stream. Point the probe at the streaming "
            f"endpoint itself (for FastAPI: a StreamingResponse with "
            f"media_type='text/event-stream'). The body began: {snippet!r}")


def _explain(url: str, exc: Exception, connect_timeout: float, max_seconds: float) -> ProbeError:
    if isinstance(exc, httpx.ConnectTimeout):
        why = f"the connection was not accepted within {connect_timeout:g} s."
    elif isinstance(exc, httpx.ConnectError):
        why = f"the connection failed ({exc}). Is the server running, and is the port right?"
    elif isinstance(exc, (httpx.ReadTimeout, TimeoutError)):
        why = (f"the server accepted the connection but sent no response headers within "
               f"{max_seconds:g} s; a proxy or app may be waiting for the whole response.")
    elif isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        why = f"the URL is not one httpx can fetch ({exc}); use http:// or https://."
    elif isinstance(exc, httpx.RemoteProtocolError):
        why = (f"the peer did not answer with HTTP ({str(exc).rstrip('.')}). Is an HTTP server "
               f"listening on that port, and is the scheme (http/https) right?")
    else:
        why = f"{type(exc).__name__}: {str(exc).rstrip('.')}."
    return ProbeError(f"Could not probe {url}: {why} Nothing was measured.")


async def aprobe(
    url: str,
    *,
    method: str = "GET",
    headers: dict | None = None,
    data: str | bytes | None = None,
    max_events: int | None = None,
    max_seconds: float = 30.0,
    max_bytes: int = 100_000_000,
    connect_timeout: float = 5.0,
    on_event=None,
    require_event_stream: bool = True,
) -> Timeline:
    """Stream ``url`` and return its Timeline. Raises ProbeError with a one-paragraph reason.

    The probe stops at the end of the body, after ``max_events`` events, after
    ``max_seconds`` (the whole stream, not one read: an endless stream is fine) or after
    ``max_bytes``. A connection cut mid-stream ends the timeline with ``ended_by="cut"``.
    ``trust_env=False``: proxy variables must not put a proxy between the lab's client
    and server. ``on_event(partial_timeline)``, if given, is called after every read that
    completed an event (``sselab.watch`` draws live timelines with it).
    ``require_event_stream=False`` measures SSE frames sent with another content type
    (e.g. text/plain). A gzip- or deflate-encoded body is decoded before parsing; its reads
    still count the compressed bytes that came over the wire.
    """
    timeout = httpx.Timeout(max_seconds, connect=connect_timeout)
    sent_headers = {**DEFAULT_HEADERS, **(headers or {})}
    async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
        request = client.build_request(method, url, headers=sent_headers, content=data)
        recorder = _Recorder(time.monotonic())
        deadline = recorder.t0 + max_seconds
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _explain(url, exc, connect_timeout, max_seconds) from None
        try:
            ctype = response.headers.get("content-type", "")
            if response.status_code >= 400 or (require_event_stream and "text/event-stream" not in ctype):
                body = b""
                async for chunk in response.aiter_bytes():  # decoded: error pages may be gzipped
                    body += chunk
                    if len(body) > 200:
                        break
                _check_response(url, response, body)
            recorder.decode_as(response.headers.get("content-encoding", ""))
            notify = on_event and (lambda: on_event(_timeline_of(recorder, url, response, "running")))
            ended_by = await _read_stream(response, recorder, deadline, max_events, max_bytes, notify)
        finally:
            await response.aclose()
    return _timeline_of(recorder, url, response, ended_by)


def _timeline_of(recorder: _Recorder, url: str, response: httpx.Response, ended_by: str) -> Timeline:
    return recorder.timeline(url, response.status_code, response.headers, ended_by)


async def _read_stream(response, recorder, deadline, max_events, max_bytes, notify=None) -> str:
    """Feed every read to the recorder until a limit or the end; say which ended it."""
    chunks = response.aiter_raw()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "max_seconds"
        try:
            async with asyncio.timeout(remaining):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return "eof"
        except (TimeoutError, httpx.ReadTimeout):
            return "max_seconds"
        except httpx.RemoteProtocolError:
            return "cut"
        before = len(recorder.events)
        recorder.feed(chunk, time.monotonic())
        if notify and len(recorder.events) > before:
            notify()
        if max_events is not None and len(recorder.events) >= max_events:
            return "max_events"
        if recorder.total >= max_bytes:
            return "max_bytes"


def probe(url: str, **options) -> Timeline:
    """Blocking form of :func:`aprobe`, usable from scripts, tests and notebook cells alike."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(aprobe(url, **options))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sselab-probe") as pool:
        return pool.submit(asyncio.run, aprobe(url, **options)).result()
