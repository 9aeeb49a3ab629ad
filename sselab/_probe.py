"""The probe: stream one URL with httpx and record when every read and every event arrived.

Defined in notebooks/00_quickstart.ipynb. ``aprobe`` is the implementation (top-level
``await`` in a notebook); ``probe`` runs it from plain code, and from inside a running event
loop too (it then uses a worker thread, so Jupyter needs no nest-asyncio for it).

What it asks for is pinned: ``Accept: text/event-stream`` (what a browser's EventSource
sends) and ``Accept-Encoding: identity`` unless ``accept_encoding=`` asks for compression it
can undo (``sselab/_encodings.py``). httpx on its own would advertise br and zstd whenever
those packages are importable. Proxy variables are ignored (``trust_env=False``): a proxy
sits between the lab's client and server only when ``proxy=`` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time

import httpx

from ._encodings import UnsupportedEncoding, decodable
from ._loop_thread import run_blocking
from ._recorder import Recorder
from ._timeline import Timeline

DEFAULT_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
"""What a browser's EventSource sends; some proxies buffer unless they see this Accept."""


class ProbeError(Exception):
    """The stream could not be measured. The message is one paragraph a reader can act on.

    ``status`` is the HTTP status when the server answered with an error (e.g. a proxy's 504).
    """

    status: int | None = None


def _check_response(url: str, response: httpx.Response, body: bytes) -> None:
    ctype = response.headers.get("content-type", "")
    snippet = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    if response.status_code >= 400:
        error = ProbeError(
            f"{url} answered HTTP {response.status_code} {response.reason_phrase}, so there is no "
            f"stream to measure. Check the path, the method and any headers the endpoint needs "
            f"(authorization, a POST body). The body began: {snippet!r}")
        error.status = response.status_code
        raise error
    if "text/event-stream" not in ctype:
        raise ProbeError(
            f"{url} answered with Content-Type {ctype or '(none)'!r}, not 'text/event-stream', "
            f"so it is not a Server-Sent Events stream. Point the probe at the streaming "
            f"endpoint itself (for FastAPI: a StreamingResponse with "
            f"media_type='text/event-stream'). The body began: {snippet!r}")


def _undecodable(url: str, exc: UnsupportedEncoding, asked: str) -> ProbeError:
    can = ", ".join(decodable())
    return ProbeError(
        f"{url} answered with Content-Encoding: {exc.encoding}, which this probe cannot undo "
        f"({exc}), so its events cannot be read and nothing about its timing would be "
        f"true. The probe asked for Accept-Encoding: {asked}; a server that compresses anyway "
        f"ignores that header. Probe again asking for an encoding it can decode (it can: {can}; "
        f"CLI: --compressed, Python: accept_encoding='gzip') or install the missing package. "
        f"Nothing was measured.")


def _explain(url: str, exc: Exception, connect_timeout: float, max_seconds: float) -> ProbeError:
    text = str(exc).rstrip(".")
    if isinstance(exc, httpx.ConnectTimeout):
        why = f"the connection was not accepted within {connect_timeout:g} s."
    elif isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in text:
        why = (f"the server's TLS certificate is not trusted by this probe ({text}). Give the CA "
               f"that signed it (CLI: --cacert FILE, Python: verify='ca.pem'), or, for a lab "
               f"only, skip the check (--insecure, verify=False).")
    elif isinstance(exc, httpx.ConnectError):
        why = f"the connection failed ({text}). Is the server running, and is the port right?"
    elif isinstance(exc, (httpx.ReadTimeout, TimeoutError)):
        why = (f"the server accepted the connection but sent no response headers within "
               f"{max_seconds:g} s; a proxy or app may be waiting for the whole response.")
    elif isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        why = f"the URL is not one httpx can fetch ({exc}); use http:// or https://."
    elif isinstance(exc, httpx.ProxyError):
        why = f"the proxy refused or failed the request ({text}). Check the proxy URL and its access rules."
    elif isinstance(exc, httpx.RemoteProtocolError):
        why = (f"the peer did not answer with HTTP ({text}). Is an HTTP server "
               f"listening on that port, and is the scheme (http/https) right?")
    else:
        why = f"{type(exc).__name__}: {text}."
    return ProbeError(f"Could not probe {url}: {why} Nothing was measured.")


def _tls(verify) -> ssl.SSLContext | bool:
    """httpx's ``verify``: True (system CAs), False (no check), or a CA bundle's path.

    The context is made once and shared: building one (loading the CA bundle) takes about
    30 ms of CPU, and httpx builds one per client otherwise, so a probe starting while
    another stream is being read would hold up that stream's events by that much
    (measured in notebook 06: the last event of a stream 20-56 ms late whenever the next
    probe started right after it).
    """
    if verify is False:
        return False
    if verify is True:
        return _context(None)
    if isinstance(verify, (str, bytes)) or hasattr(verify, "__fspath__"):
        return _context(str(verify))
    return verify


@functools.lru_cache(maxsize=8)
def _context(cafile: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile) if cafile else httpx.create_ssl_context()


def _client(timeout: httpx.Timeout, proxy: str | None, http2: bool, verify) -> httpx.AsyncClient:
    if http2:
        try:
            import h2  # noqa: F401  (httpx speaks HTTP/2 only with the h2 package)
        except ImportError:
            raise ProbeError("HTTP/2 was asked for, but the 'h2' package is missing "
                             "(pip install 'httpx[http2]'). Nothing was measured.") from None
    return httpx.AsyncClient(trust_env=False, timeout=timeout, proxy=proxy, http2=http2,
                             verify=_tls(verify))


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
    accept_encoding: str = "identity",
    proxy: str | None = None,
    http2: bool = False,
    verify=True,
    client: httpx.AsyncClient | None = None,
) -> Timeline:
    """Stream ``url`` and return its Timeline. Raises ProbeError with a one-paragraph reason.

    The probe stops at the end of the body, after ``max_events`` events, after
    ``max_seconds`` (the whole stream, not one read: an endless stream is fine) or after
    ``max_bytes``. A connection closed or reset mid-body ends the timeline with
    ``ended_by="cut"``. ``on_event(partial_timeline)``, if given, is called after every read
    that completed an event (``sselab.watch`` draws live timelines with it).

    - ``require_event_stream=False`` measures SSE frames sent with another content type.
    - ``accept_encoding``: ``"identity"`` (default), or e.g. ``"gzip"``, ``"br"``, ``"zstd"``;
      a compressed body is decoded before parsing, and its reads still count wire bytes.
    - ``proxy``: an explicit forward proxy (``http://127.0.0.1:3128``), as a company network
      imposes; environment proxy variables stay ignored.
    - ``http2=True`` offers HTTP/2 (over TLS, by ALPN); ``Timeline.http_version`` says what
      was negotiated. ``verify``: True, False, or the path of a CA certificate to trust.
    - ``client``: an open ``httpx.AsyncClient`` to send with (and leave open), so this stream
      shares that client's connection, e.g. one HTTP/2 connection with another stream;
      ``proxy``, ``http2`` and ``verify`` are then the client's.
    """
    timeout = httpx.Timeout(max_seconds, connect=connect_timeout)
    sent_headers = {**DEFAULT_HEADERS, "Accept-Encoding": accept_encoding, **(headers or {})}
    asked = next(v for k, v in sent_headers.items() if k.lower() == "accept-encoding")
    async with contextlib.AsyncExitStack() as owned:
        if client is None:
            client = await owned.enter_async_context(_client(timeout, proxy, http2, verify))
        request = client.build_request(method, url, headers=sent_headers, content=data, timeout=timeout)
        recorder = Recorder(time.monotonic())
        deadline = recorder.t0 + max_seconds
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _explain(url, exc, connect_timeout, max_seconds) from None
        recorder.headers_arrived(time.monotonic())
        try:
            ctype = response.headers.get("content-type", "")
            if response.status_code >= 400 or (require_event_stream and "text/event-stream" not in ctype):
                body = b""
                async for chunk in response.aiter_bytes():  # decoded: error pages may be gzipped
                    body += chunk
                    if len(body) > 200:
                        break
                _check_response(url, response, body)
            try:
                recorder.decode_as(response.headers.get("content-encoding", ""))
            except UnsupportedEncoding as exc:
                raise _undecodable(url, exc, asked) from None
            notify = on_event and (lambda: on_event(_timeline_of(recorder, url, response, "running")))
            ended_by = await _read_stream(response, recorder, deadline, max_events, max_bytes, notify)
        finally:
            await response.aclose()
    return _timeline_of(recorder, url, response, ended_by)


def _timeline_of(recorder: Recorder, url: str, response: httpx.Response, ended_by: str) -> Timeline:
    return recorder.timeline(url, response.status_code, response.headers, ended_by, response.http_version)


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
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return "cut"  # closed or reset before the body's end (chunked, Content-Length, HTTP/2)
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
    return run_blocking(aprobe, url, **options)
