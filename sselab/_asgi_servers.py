"""The same FastAPI app under other ASGI servers: hypercorn, granian, daphne, gunicorn.

Defined in notebooks/05_servers.ipynb. ``sselab.serve(app, server=...)`` starts each the way
its documentation does:

- ``uvicorn`` and ``hypercorn`` run in a background thread of this kernel (uvicorn's
  ``Server.run``; hypercorn's ``hypercorn.asyncio.serve``), on port 0 read back;
- ``granian`` (a Rust HTTP server with its own worker processes), ``daphne`` (Twisted) and
  ``gunicorn`` (a process manager; here with ``uvicorn_worker.UvicornWorker``, the worker
  class uvicorn's documentation points to) each own their process, so they run as a child
  program: their command line in a temp dir, 127.0.0.1 and a reserved port, tied to the
  kernel (``sselab/_tied.py``, ``sselab/_child.py``). The child imports the app by its
  import path (``servers.ticker:app``), which ``serve`` finds from the app object.

Every one is registered with the lab's servers, so ``sselab.stop_all()`` stops it.
"""

from __future__ import annotations

import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._registry import SERVERS
from ._server import BackgroundServer, ServerError
from ._tied import TiedProgram

CHILD_SERVERS = ("granian", "daphne", "gunicorn")
SERVER_NAMES = ("uvicorn", "hypercorn", *CHILD_SERVERS)


def import_path(app) -> str:
    """``"package.module:name"`` for an app object (a child process imports it by that)."""
    if isinstance(app, str):
        return app
    for module_name, module in list(sys.modules.items()):
        for attribute, value in list(getattr(module, "__dict__", {}).items()):
            if value is app and module_name != "__main__" and not module_name.startswith("_"):
                return f"{module_name}:{attribute}"
    raise ServerError("this app is not a module attribute, so a server in another process cannot "
                      "import it: put it in a module (e.g. servers/my_app.py) and pass "
                      "'servers.my_app:app'")


class ChildServer(TiedProgram):
    """An ASGI server in its own process: ``python -m <server> ... servers.x:app``."""

    error = ServerError
    registry = SERVERS
    death_signal = "TERM"  # caught by sselab._group, which then stops the workers too
    install_hint = "It is in requirements.txt: run scripts/setup (or pip install -r requirements.txt)."

    def __init__(self, app, server: str, *, name: str | None = None, options: tuple[str, ...] = ()) -> None:
        if server not in CHILD_SERVERS:
            raise ServerError(f"unknown child server {server!r}; choose one of {', '.join(CHILD_SERVERS)}")
        self.target, self.server, self.options = import_path(app), server, tuple(options)
        self.program = server
        self.http = server
        super().__init__(name or f"{server}:{self.target}")

    def find_binary(self) -> str | None:
        import importlib.util

        return sys.executable if importlib.util.find_spec(self.server.replace("-", "_")) else None

    def command(self, binary: str, port: int, prefix: Path) -> list[str]:
        base = [binary, "-m", "sselab._group", binary, "-m", self.server]
        if self.server == "granian":
            return [*base, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                    "--workers", "1", "--log-level", "warning", "--no-ws", *self.options, self.target]
        if self.server == "daphne":
            return [*base, "-b", "127.0.0.1", "-p", str(port), "-v", "0", *self.options, self.target]
        return [*base, "-k", "uvicorn_worker.UvicornWorker", "-b", f"127.0.0.1:{port}", "-w", "1",
                "--log-level", "warning", "--graceful-timeout", "2", *self.options, self.target]

    def ready(self) -> bool:
        """Serving HTTP, not only accepting: gunicorn's master accepts before a worker is up."""
        return answers_http(self.port)

    def files(self, port, prefix) -> dict[str, str]:
        """The 'config' of a command-line server is its command line (shown as ``.config``)."""
        return {"command.txt": " ".join(self.command(sys.executable, port, Path(prefix))) + "\n"}

    def reload(self) -> None:
        """gunicorn's graceful restart (SIGHUP): new workers start, old ones finish within
        ``--graceful-timeout`` and are then killed."""
        if self.server != "gunicorn" or not self.running:
            raise ServerError("reload() is gunicorn's SIGHUP; this server is not a running gunicorn")
        self._process.send_signal(signal.SIGHUP)


def answers_http(port: int | None) -> bool:
    """Does 127.0.0.1:port answer an HTTP request (any status) within half a second?"""
    import socket

    if port is None:
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /__sselab_ready HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
            return s.recv(5) == b"HTTP/"
    except OSError:
        return False


def serve_with(app, server: str = "uvicorn", *, name: str | None = None, http: str = "h11",
               options: tuple[str, ...] = (), **uvicorn_options):
    """Start ``app`` under ``server``; return the running server (it has ``.url`` and ``.stop()``).

    ``http`` picks uvicorn's HTTP implementation; ``options`` are extra command-line
    arguments for a child server (e.g. ``("--timeout", "2")`` for gunicorn).
    """
    if server == "uvicorn":
        return BackgroundServer(app, name=name, http=http, **uvicorn_options).start()
    if server == "hypercorn":
        from ._hypercorn import HypercornServer

        return HypercornServer(app, name=name).start()
    if server in CHILD_SERVERS:
        return ChildServer(app, server, name=name, options=options).start(timeout=20)
    raise ServerError(f"unknown server {server!r}; choose one of {', '.join(SERVER_NAMES)}")


def serve_each(app, setups: dict[str, dict], *, prefix: str = "") -> dict:
    """``serve_with(app, name=prefix + label, **options)`` for every ``{label: options}``, all at once.

    A child server takes a second or two to import the app, so they start side by side.
    Returns ``{label: server}`` in the order of ``setups``; if one fails to start, the others
    are stopped and its error is raised.
    """
    with ThreadPoolExecutor(max(1, len(setups)), thread_name_prefix="sselab-serve") as pool:
        futures = {label: pool.submit(serve_with, app, name=f"{prefix}{label}", **options)
                   for label, options in setups.items()}
    errors = [f.exception() for f in futures.values() if f.exception() is not None]
    if errors:
        for future in futures.values():
            if future.exception() is None:
                future.result().stop()
        raise errors[0]
    return {label: future.result() for label, future in futures.items()}
