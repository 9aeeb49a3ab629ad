"""The app every server serves in benchmarks/asgi_servers.py and ceilings.py, measured from inside.

``servers.concurrency_patterns.app``, wrapped so that each process that serves it (the process
uvicorn or hypercorn runs in, or each worker of gunicorn, granian, ``uvicorn --workers``, and
daphne's one process) records what benchmarks/concurrency.py records in its server: how late a
5 ms sleep in its event loop wakes up (``_loadgen.loop_lag``), the garbage collector's pauses
(``gc.callbacks``) and how many streams it served. The recording starts with the first ASGI call
(lifespan, or the first request where the server sends no lifespan: daphne), so a master process
that never serves records nothing.

The benchmark talks to the workers through files in ``$SSE_BENCH_STATS`` (a temp dir), not a
route: with two workers a request reaches only one of them. A thread in each serving process
polls that directory; ``reset-K`` clears the samples, ``dump-K`` writes ``K-<pid>.pickle``. The
thread also answers while the loop is blocked (the ``blocking`` pattern).
"""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import threading
import time
from array import array
from pathlib import Path

from _loadgen import loop_lag

from servers.concurrency_patterns import app as patterns

POLL = 0.05
lag = array("d")
pauses: list[tuple[int, float, int]] = []
served = {"http": 0}
_started: dict = {}


def _on_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _started["gc"] = time.perf_counter()
    elif "gc" in _started:
        pauses.append((info["generation"], time.perf_counter() - _started.pop("gc"), info["collected"]))


def _answer(directory: Path) -> None:
    """Poll ``directory`` for reset-K / dump-K requests, for the life of the process."""
    done: set[str] = set()
    while True:
        for request in sorted(p.name for p in directory.iterdir() if p.name.startswith(("reset-", "dump-"))):
            if request in done:
                continue
            done.add(request)
            what, k = request.split("-", 1)
            if what == "reset":
                del lag[:]
                pauses.clear()
                served["http"] = 0
            elif what == "dump":
                out = directory / f"{k}-{os.getpid()}.pickle"
                tmp = out.with_suffix(".tmp")
                tmp.write_bytes(pickle.dumps({"pid": os.getpid(), "lag": lag.tolist(), "gc": list(pauses),
                                              "served": served["http"]}))
                tmp.rename(out)
        time.sleep(POLL)


def _start_recording() -> None:
    _started["recording"] = True
    gc.callbacks.append(_on_gc)
    _started["lag"] = asyncio.get_running_loop().create_task(loop_lag(lag, asyncio.Event()))
    directory = os.environ.get("SSE_BENCH_STATS")
    if directory:
        threading.Thread(target=_answer, args=(Path(directory),), name="bench-stats", daemon=True).start()


async def app(scope, receive, send):
    if "recording" not in _started:
        _start_recording()
    if scope["type"] == "http":
        served["http"] += 1
    await patterns(scope, receive, send)
