"""Measure the clients people really use: httpx, httpx-sse, requests, curl, an in-process test client.

Defined in notebooks/08_clients.ipynb. ``sselab.probe`` measures what reaches the socket;
these functions measure what a *client library* hands to your code, with that library's
own loop, so a client that holds bytes back shows up as late or batched events.

Each function is the idiomatic loop for its client, timed: every item the client yields
is one ``Read`` (its time and size), and the items are fed to the lab's SSE parser to find
the events, exactly as the probe does. The result is an ordinary ``Timeline`` with a
computed verdict. All clients here talk to servers on this machine (or in this process),
so the stamp clock is shared and ``delay = arrived - sent`` is exact.

``sselab.measure_client(name, url)`` runs one by name (``CLIENTS`` lists the names);
``await sselab.measure_asgi(app, path)`` and ``sselab.measure_testclient(app, path)``
measure the two in-process test clients.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterable

import httpx

from ._recorder import Recorder  # the probe's own recorder: SSE parser and stamp reader
from ._timeline import Timeline

HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)
"""httpx's own default: 5 s each for connect, read, write and pool."""

MAX_SECONDS = 30.0
"""No measured client may run longer than this (each stream in the lab is far shorter)."""


def _timeline(recorder: Recorder, url: str, status: int, headers, ended_by: str) -> Timeline:
    """A Timeline with the shared clock: every client here runs on the server's machine."""
    headers = {k.lower(): v for k, v in dict(headers).items()}
    t = recorder.timeline("http://127.0.0.1/", status, headers, ended_by)  # loopback: "shared"
    t.url = url
    return t


def _timed(items: Iterable, recorder: Recorder, deadline: float, as_line: bool = False) -> str:
    """Feed every item a client yields to the recorder, stamped with its arrival time."""
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        recorder.feed(data + b"\n" if as_line else data, time.monotonic())
        if time.monotonic() > deadline:
            return "max_seconds"
    return "eof"


# -- httpx ---------------------------------------------------------------------------------
def httpx_stream(url: str, how: str = "iter_raw", *, timeout=HTTPX_DEFAULT_TIMEOUT,
                 max_seconds: float = MAX_SECONDS) -> Timeline:
    """``httpx.Client().stream("GET", url)`` read with ``response.<how>()``.

    ``how`` is ``iter_raw``, ``iter_bytes``, ``iter_text`` or ``iter_lines`` (lines come
    without their line break; it is put back so the parser sees the same stream). The
    default ``timeout`` is httpx's own default: 5 s for connect, read, write and pool.
    A read timeout ends the timeline with ``ended_by="timeout"`` (verdict ``cut``).
    """
    recorder = Recorder(time.monotonic())
    with httpx.Client(trust_env=False, timeout=timeout) as client:
        with client.stream("GET", url) as response:
            items = getattr(response, how)()
            try:
                ended_by = _timed(items, recorder, recorder.t0 + max_seconds, as_line=how == "iter_lines")
            except httpx.ReadTimeout:
                ended_by = "timeout"
            return _timeline(recorder, url, response.status_code, response.headers, ended_by)


def httpx_sse_stream(url: str, *, timeout=HTTPX_DEFAULT_TIMEOUT, max_seconds: float = MAX_SECONDS) -> Timeline:
    """``httpx_sse.connect_sse(client, "GET", url)`` and ``iter_sse()``: one read per event.

    httpx-sse hands over parsed events, not bytes, so each event is re-written as the
    SSE frame it came in (``data: ...``); the sizes are those of the re-written frames.
    """
    from httpx_sse import connect_sse

    recorder = Recorder(time.monotonic())
    with httpx.Client(trust_env=False, timeout=timeout) as client:
        with connect_sse(client, "GET", url) as source:
            frames = (f"event: {e.event}\ndata: {e.data}\n\n" for e in source.iter_sse())
            try:
                ended_by = _timed(frames, recorder, recorder.t0 + max_seconds)
            except httpx.ReadTimeout:
                ended_by = "timeout"
            response = source.response
            return _timeline(recorder, url, response.status_code, response.headers, ended_by)


async def measure_asgi(app, path: str, *, max_seconds: float = MAX_SECONDS) -> Timeline:
    """The app called in-process through ``httpx.ASGITransport``, read with ``aiter_raw()``.

    This is how FastAPI/Starlette apps are often tested. httpx 0.28's
    ``ASGITransport.handle_async_request`` (httpx/_transports/asgi.py) awaits the whole app,
    collecting every body part, before it returns the response; ``ASGIResponseStream``
    then yields them joined as one piece. So the stream is always "held until the end",
    and an endless stream never returns (hence the ``max_seconds`` guard).
    """
    import asyncio

    recorder = Recorder(time.monotonic())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        async with asyncio.timeout(max_seconds):
            async with client.stream("GET", path) as response:
                async for chunk in response.aiter_raw():
                    recorder.feed(chunk, time.monotonic())
    return _timeline(recorder, f"ASGITransport {path}", response.status_code, response.headers, "eof")


def measure_testclient(app, path: str, *, max_seconds: float = MAX_SECONDS) -> Timeline:
    """The app called in-process through Starlette's (FastAPI's) ``TestClient``, ``iter_raw()``.

    Unlike ``ASGITransport``, Starlette 1.x's ``_TestClientTransport.handle_request``
    (starlette/testclient.py) returns as soon as the app sent its headers and hands each
    body part over through an in-memory stream (``iter_body``) as the app sends it.
    (Starlette 1.x warns that its TestClient will move to ``httpx2``; silenced here.)
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
        from starlette.testclient import TestClient

    recorder = Recorder(time.monotonic())
    with TestClient(app) as client:
        with client.stream("GET", path) as response:
            ended_by = _timed(response.iter_raw(), recorder, recorder.t0 + max_seconds)
    return _timeline(recorder, f"TestClient {path}", response.status_code, response.headers, ended_by)


# -- requests ------------------------------------------------------------------------------
def requests_stream(url: str, how: str = "iter_lines", *, chunk_size: int | None = 512,
                    max_seconds: float = MAX_SECONDS) -> Timeline:
    """``requests.get(url, stream=True)`` read with ``iter_lines(chunk_size)`` or
    ``iter_content(chunk_size)``. ``iter_lines``' default chunk_size is 512
    (``requests.models.ITER_CHUNK_SIZE``); ``iter_content(chunk_size=None)`` means
    "whatever arrives". Which one waits for what depends on how the body is framed:
    see urllib3's ``HTTPResponse.stream`` (chunked: ``read_chunked``, one chunk at a time;
    otherwise ``read(amt)``, which blocks until ``amt`` bytes or the end of the body).
    """
    import requests

    recorder = Recorder(time.monotonic())
    with requests.Session() as session:
        session.trust_env = False
        with session.get(url, stream=True, timeout=(5, max_seconds)) as response:
            if how == "iter_lines":
                items = response.iter_lines(chunk_size=chunk_size or 512)
            else:
                items = response.iter_content(chunk_size=chunk_size)
            ended_by = _timed(items, recorder, recorder.t0 + max_seconds, as_line=how == "iter_lines")
            return _timeline(recorder, url, response.status_code, response.headers, ended_by)


# -- curl ----------------------------------------------------------------------------------
def find_curl() -> str | None:
    """The curl binary, or None."""
    return shutil.which("curl")


def curl_stream(url: str, *, no_buffer: bool = False, max_seconds: float = MAX_SECONDS) -> Timeline:
    """``curl -s [-N] URL`` with its output going into a pipe, as in ``curl URL | program``.

    Every read of the pipe is one ``Read``. Without ``-N`` (``--no-buffer``) curl writes
    the body with stdio's ``fwrite``, which is fully buffered when stdout is not a terminal;
    ``-N`` makes curl flush after every write.
    """
    binary = find_curl()
    if binary is None:
        raise FileNotFoundError("curl is not installed (sudo apt-get install curl)")
    command = [binary, "-sS", "--noproxy", "*", "--max-time", f"{max_seconds:g}", "-D", "/dev/stderr"]
    command += ["-N"] if no_buffer else []
    recorder = Recorder(time.monotonic())
    with subprocess.Popen([*command, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        head = _read_pipe(proc, recorder)
        proc.wait(5)
    status, headers = _parse_head(head)
    return _timeline(recorder, f"curl{' -N' if no_buffer else ''} {url}", status, headers,
                     "eof" if proc.returncode == 0 else f"curl exit {proc.returncode}")


def _read_pipe(proc: subprocess.Popen, recorder: Recorder) -> bytes:
    """Time every read of curl's stdout; collect its stderr (the response head)."""
    stderr = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    recorder.feed(data, time.monotonic())
                else:
                    stderr += data
    return stderr


def _parse_head(raw: bytes) -> tuple[int, dict]:
    """Status and headers from what ``curl -D`` wrote (the last response, after any 1xx)."""
    blocks = [b for b in raw.decode("latin-1").split("\r\n\r\n") if b.startswith("HTTP/")]
    lines = blocks[-1].split("\r\n") if blocks else [""]
    status = 0
    with contextlib.suppress(IndexError, ValueError):
        status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, headers


# -- by name ---------------------------------------------------------------------------------
CLIENTS = {
    "httpx iter_raw": lambda url, **kw: httpx_stream(url, "iter_raw", **kw),
    "httpx iter_bytes": lambda url, **kw: httpx_stream(url, "iter_bytes", **kw),
    "httpx iter_lines": lambda url, **kw: httpx_stream(url, "iter_lines", **kw),
    "httpx-sse": httpx_sse_stream,
    "requests iter_lines()": lambda url, **kw: requests_stream(url, "iter_lines", **kw),
    "requests iter_content(None)": lambda url, **kw: requests_stream(url, "iter_content", chunk_size=None, **kw),
    "curl": lambda url, **kw: curl_stream(url, no_buffer=False, **kw),
    "curl -N": lambda url, **kw: curl_stream(url, no_buffer=True, **kw),
}
"""Every client ``measure_client`` knows, by the name the notebook's tables use."""


def measure_client(name: str, url: str, **options) -> Timeline:
    """Stream ``url`` with the client called ``name`` (a key of ``CLIENTS``); return its Timeline."""
    if name not in CLIENTS:
        raise ValueError(f"unknown client {name!r}; choose one of: {', '.join(CLIENTS)}")
    return CLIENTS[name](url, **options)


def client_versions() -> dict[str, str | None]:
    """The versions this notebook's results depend on beyond ``sselab.versions()``; None = missing."""
    from importlib.metadata import PackageNotFoundError, version

    from ._browser import find_chromium

    found = {}
    for name in ("requests", "urllib3", "jupyter_server", "jupyter-server-proxy", "tornado", "playwright"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    for name, binary in (("curl", find_curl()), ("chromium", find_chromium())):
        found[name] = _binary_version(binary) if binary else None
    return found


def _binary_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    words = out.split()
    return next((w for w in words if w[:1].isdigit()), None)
