"""Start one ASGI server for benchmarks/asgi_servers.py and ceilings.py, the way the series starts it.

Every server serves ``benchmarks/_bench_app.py`` (the patterns of servers/concurrency_patterns.py,
recording loop lag and GC pauses in each serving process) on 127.0.0.1:

- ``uvicorn`` (h11 or httptools; asyncio or uvloop) and ``hypercorn`` run as the series runs them,
  ``sselab.serve(app, ...)`` in a background thread, here inside a spawned process of their own
  (as benchmarks/concurrency.py does), so the benchmark's own process is not measured with them;
- granian, daphne and gunicorn (``uvicorn_worker.UvicornWorker``) run as the series runs them,
  ``sselab._asgi_servers.ChildServer`` (their command line, tied to this process, stopped by it),
  with two environment variables added: ``PYTHONPATH`` (so the child finds ``_bench_app``) and
  ``SSE_BENCH_STATS``; ``--workers 2`` of uvicorn and hypercorn, which the series does not start,
  run the same way with their own command line.

``Spec.options`` are extra command-line arguments (``-w 2`` for gunicorn: gunicorn and granian
take the last value given, so it overrides ChildServer's ``-w 1``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import psutil
from _loadgen import stop_server_process

from sselab._asgi_servers import CHILD_SERVERS, ChildServer
from sselab._tied import TiedProgram

BENCH = Path(__file__).resolve().parent  # on sys.path first when a benchmark script runs
TARGET = "_bench_app:app"
CTX = mp.get_context("spawn")


@dataclass(frozen=True)
class Spec:
    """One server configuration: what runs, how many serving processes."""

    name: str
    server: str  # uvicorn, hypercorn (in a thread) or a command line: granian, daphne, gunicorn, uvicorn-cli, ...
    about: str
    workers: int = 1
    http: str = "h11"
    loop: str = "asyncio"
    options: tuple[str, ...] = ()


SPECS = {s.name: s for s in [
    Spec("uvicorn", "uvicorn", "uvicorn, h11, asyncio (the series' default)"),
    Spec("uvicorn-httptools", "uvicorn", "uvicorn, httptools, asyncio", http="httptools"),
    Spec("uvicorn-uvloop", "uvicorn", "uvicorn, h11, uvloop", loop="uvloop"),
    Spec("uvicorn-httptools-uvloop", "uvicorn", "uvicorn, httptools, uvloop", http="httptools", loop="uvloop"),
    Spec("hypercorn", "hypercorn", "hypercorn, asyncio (h11)"),
    Spec("granian", "granian", "granian, 1 worker (its default loop: uvloop; --backpressure 1024)"),
    Spec("daphne", "daphne", "daphne (Twisted, asyncio reactor), one process"),
    Spec("gunicorn", "gunicorn", "gunicorn + UvicornWorker, 1 worker (httptools, uvloop)"),
    Spec("gunicorn-2w", "gunicorn", "gunicorn + UvicornWorker, 2 workers (httptools, uvloop)", workers=2,
         options=("-w", "2")),
    Spec("uvicorn-2w", "uvicorn-cli", "uvicorn --workers 2, h11, asyncio", workers=2,
         options=("--workers", "2", "--http", "h11", "--loop", "asyncio")),
    Spec("granian-2w", "granian", "granian, 2 workers (uvloop; --backpressure 512 each)", workers=2,
         options=("--workers", "2")),
    Spec("granian-bp", "granian", "granian, 1 worker, --backpressure 16384", options=("--backpressure", "16384")),
]}


# -- uvicorn / hypercorn in a thread, in a process of their own ---------------------------------
def _serve_in_process(conn, spec: Spec, stats: str, fds: int) -> None:
    from _loadgen import raise_fd_limit

    raise_fd_limit(fds)
    os.environ["SSE_BENCH_STATS"] = stats
    from _bench_app import app

    import sselab

    options = {"http": spec.http, "loop": spec.loop} if spec.server == "uvicorn" else {}
    server = sselab.serve(app, name=f"bench-{spec.name}", server=spec.server, **options)
    conn.send(server.port)
    conn.recv()  # "stop"
    stopping = threading.Thread(target=server.stop, daemon=True)  # may hang on blocked streams
    stopping.start()
    stopping.join(1.5)
    os._exit(0)


class ThreadServer:
    def __init__(self, spec: Spec, stats: Path, fds: int) -> None:
        self.conn, child = CTX.Pipe()
        self.process = CTX.Process(target=_serve_in_process, args=(child, spec, str(stats), fds), daemon=True)
        self.process.start()
        if not self.conn.poll(30):
            self.process.kill()
            raise RuntimeError(f"{spec.name} did not start within 30 s")
        self.port, self.pid = self.conn.recv(), self.process.pid

    def stop(self) -> None:
        stop_server_process(self.process, self.conn)


# -- a server on its command line (the series' ChildServer) ------------------------------------
class BenchChild(ChildServer):
    """ChildServer with the benchmark's environment; also uvicorn's and hypercorn's ``--workers``."""

    def __init__(self, spec: Spec, stats: Path) -> None:
        name = f"bench-{spec.name}"
        if spec.server in CHILD_SERVERS:
            super().__init__(TARGET, spec.server, name=name, options=spec.options)
        else:
            TiedProgram.__init__(self, name)
            self.server = self.program = self.http = spec.server.removesuffix("-cli")
            self.target, self.options = TARGET, spec.options
        self.stats = stats

    def environment(self, prefix: Path) -> dict[str, str]:
        # the repository and benchmarks/ (for _bench_app) on the path of a server run by its command line
        path = os.pathsep.join(p for p in (str(BENCH.parent), str(BENCH), os.environ.get("PYTHONPATH", "")) if p)
        return {"PYTHONPATH": path, "SSE_BENCH_STATS": str(self.stats)}

    def command(self, binary: str, port: int, prefix: Path) -> list[str]:
        base = [binary, "-m", "sselab._group", binary, "-m", self.server]
        if self.server == "uvicorn":
            return [*base, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                    "--timeout-graceful-shutdown", "1", *self.options, self.target]
        if self.server == "hypercorn":
            return [*base, "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--graceful-timeout", "1",
                    *self.options, self.target]
        return super().command(binary, port, prefix)


def launch(spec: Spec, stats: Path, fds: int):
    """Start ``spec``'s server; the result has ``.port``, ``.pid`` (its root process) and ``.stop()``."""
    if spec.server in ("uvicorn", "hypercorn"):
        return ThreadServer(spec, stats, fds)
    return BenchChild(spec, stats).start(timeout=30)  # the children inherit our raised fd limit


def processes(root_pid: int) -> list[psutil.Process]:
    """The server's process and everything under it (a master and its workers)."""
    root = psutil.Process(root_pid)
    return [root, *root.children(recursive=True)]


def warm_up(port: int, connections: int) -> None:
    """A few short streams at once, so that each worker has imported and served before the run."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(connections)]
    for s in socks:
        s.sendall(b"GET /recommended?n=2&interval=0.05 HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    for s in socks:
        with s:
            while s.recv(65536):
                pass


def versions() -> str:
    from importlib.metadata import version

    names = ["fastapi", "starlette", "uvicorn", "httptools", "uvloop", "hypercorn", "granian", "daphne",
             "twisted", "gunicorn", "uvicorn-worker", "sse-starlette"]
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {sys.version.split()[0]}"
