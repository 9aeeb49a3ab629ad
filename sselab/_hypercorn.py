"""Run an ASGI app under hypercorn in a background thread: an ASGI server that speaks HTTP/2.

Defined in notebooks/07_https_http2.ipynb. uvicorn speaks HTTP/1.1 only; hypercorn (the
``h2`` library's author's server) negotiates HTTP/2 by ALPN over TLS, so a browser or
``httpx(http2=True)`` reaches the app over HTTP/2 with no proxy in between. The pattern is
hypercorn's documented programmatic one, ``hypercorn.asyncio.serve(app, config,
shutdown_trigger=...)``, in a thread with its own event loop. The socket is bound here to
127.0.0.1 port 0 and handed over as ``fd://`` (hypercorn's ``Config.create_sockets``), so
the port is the OS's choice and there is no race.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from ._registry import SERVERS
from ._server import ServerError


class HypercornServer:
    """hypercorn in a daemon thread; ``tls`` (a LabCertificates) makes it HTTPS with h2 + http/1.1.

    Registered with the uvicorn servers: ``sselab.stop_all()`` stops it too.
    """

    http = "hypercorn"

    def __init__(self, app, *, name: str | None = None, tls=None) -> None:
        self.app, self.tls = app, tls
        self.name = name or f"hypercorn-{id(app):x}"
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError(f"server {self.name!r} is not running; call start() first")
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _config(self, fd: int):
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{fd}"]
        config.loglevel = "WARNING"
        config.accesslog = None
        config.graceful_timeout = 1.0
        if self.tls:
            config.certfile, config.keyfile = str(self.tls.cert_path), str(self.tls.key_path)
        return config

    def _run(self, config) -> None:
        from hypercorn.asyncio import serve

        async def main():
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
            await serve(self.app, config, shutdown_trigger=self._stopping.wait)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start()
            self._failure = exc

    def start(self, timeout: float = 10.0) -> HypercornServer:
        """Serve on a port the OS picks; return once a TCP connection is accepted."""
        if self.running:
            return self
        SERVERS.replace(self.name)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        config = self._config(listener.detach())  # hypercorn owns the socket from here
        self._thread = threading.Thread(target=self._run, args=(config,),
                                        name=f"sselab-hypercorn-{self.name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._accepts():
            if not self._thread.is_alive() or time.monotonic() > deadline:
                failure = self._failure
                self.stop()
                raise ServerError(f"hypercorn {self.name!r} did not start within {timeout:g} s"
                                  + (f": {failure!r}" if failure else ""))
            time.sleep(0.01)
        SERVERS.add(self.name, self)
        return self

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return self._stopping is not None
        except OSError:
            return False

    def stop(self, timeout: float = 5.0) -> None:
        """Ask for a graceful shutdown (open streams get 1 s) and wait; safe to call twice."""
        thread, loop = self._thread, self._loop
        if thread is not None and thread.is_alive() and loop is not None:
            loop.call_soon_threadsafe(self._stopping.set)
            thread.join(timeout)
            if thread.is_alive():
                raise ServerError(f"hypercorn {self.name!r} did not stop within {timeout:g} s")
        SERVERS.discard(self.name, self)
        self._thread = self._loop = self._stopping = None
        self.port = None

    def __enter__(self) -> HypercornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<HypercornServer {self.name} {self.url if self.running else 'stopped'}>"


def serve_hypercorn(app, *, name: str | None = None, tls=None) -> HypercornServer:
    """Start ``app`` under hypercorn in the background (HTTPS + HTTP/2 when ``tls`` is given)."""
    return HypercornServer(app, name=name, tls=tls).start()
