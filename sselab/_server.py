"""Run an ASGI app under a real uvicorn in a background thread, on 127.0.0.1.

Defined in notebooks/00_quickstart.ipynb. The pattern is httpx's own test server
(tests/conftest.py there): ``uvicorn.Server`` in a thread, wait for ``started``, set
``should_exit`` and join. Signal handlers are not installed off the main thread (uvicorn's
``Server.capture_signals`` checks), so Jupyter's Ctrl-C keeps working.

Servers are kept in a registry by name: starting a server under a name that is already
running stops the old one first, so re-running a notebook cell never leaks a thread or a port.
"""

from __future__ import annotations

import threading
import time

import uvicorn

from ._registry import SERVERS


class ServerError(RuntimeError):
    """A background server could not start or stop; the message says why."""


class BackgroundServer:
    """A uvicorn server in a daemon thread. Use as a context manager or start()/stop().

    ``http`` is uvicorn's HTTP implementation: ``"h11"`` (plain ``pip install uvicorn``) or
    ``"httptools"`` (added by ``uvicorn[standard]``); ``loop`` is ``"asyncio"`` or
    ``"uvloop"``. Some results in this series differ between them.
    """

    def __init__(self, app, *, name: str | None = None, http: str = "h11",
                 loop: str = "asyncio", **uvicorn_options) -> None:
        self.app, self.http, self.loop = app, http, loop
        self.name = name or f"{type(app).__name__}@{id(app):x}/{http}/{loop}"
        self._options = uvicorn_options
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError(f"server {self.name!r} is not running; call start() first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving on a port the OS picks; return once it accepts connections."""
        if self.running:
            return self
        SERVERS.replace(self.name)
        options = {"log_level": "warning", "timeout_graceful_shutdown": 1, **self._options}
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0,  # port 0: the OS picks a free port, no race
            http=self.http, loop=self.loop, **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"sselab-server-{self.name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"server {self.name!r} did not start within {timeout:g} s; "
                                  "see the uvicorn messages above for the cause")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        SERVERS.add(self.name, self)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the thread; safe to call twice or before start()."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None and thread.is_alive():
            server.should_exit = True
            thread.join(timeout / 2)
            if thread.is_alive():
                server.force_exit = True  # open streams would otherwise hold shutdown
                thread.join(timeout / 2)
            if thread.is_alive():
                raise ServerError(f"server {self.name!r} did not stop within {timeout:g} s")
        SERVERS.discard(self.name, self)
        self._server = self._thread = None
        self.port = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<BackgroundServer {self.name} ({self.http}, {self.loop}) {where}>"


def serve(app, *, name: str | None = None, server: str = "uvicorn", **options) -> BackgroundServer:
    """Start ``app`` in the background and return the running server (see BackgroundServer).

    ``server`` picks the ASGI server: ``"uvicorn"`` (default), ``"hypercorn"``, ``"granian"``,
    ``"daphne"`` or ``"gunicorn"`` (with uvicorn workers); see ``sselab/_asgi_servers.py``.
    """
    if server != "uvicorn":
        from ._asgi_servers import serve_with

        return serve_with(app, server, name=name, **options)
    return BackgroundServer(app, name=name, **options).start()


def running_servers() -> list[BackgroundServer]:
    return SERVERS.running()


def stop_servers() -> None:
    """Stop every background server this process started."""
    SERVERS.stop_all()
