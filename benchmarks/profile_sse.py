"""Where does the CPU per event go in ``fastapi.sse`` and sse-starlette, and what would cut it most?

    python benchmarks/profile_sse.py                      # 200 streams x 50 events, 100 ms apart, 3 rounds
    python benchmarks/profile_sse.py --streams 100 --events 50 --rounds 3

Each pattern's FastAPI app is driven in this process as an ASGI server would drive it (uvicorn's
scope, ``spec_version`` 2.3, so Starlette also runs its disconnect listener), with a ``send`` that
only counts: what is measured is the framework and the SSE library, not HTTP or the socket.
Patterns: ``recommended`` (servers/concurrency_patterns.py, the baseline), ``fastapi-sse`` and
``sse-starlette`` (the same routes), and each library with the one change that the profile points
to, applied to a copy in this file (nothing in the installed libraries, sselab/ or servers/ changes):

- ``fastapi-sse/patched``: a copy of ``fastapi.routing.get_request_handler`` whose SSE branch waits
  for the producer's memory stream directly under ``anyio.move_on_after`` in the response
  iterator, instead of through a second task (``_keepalive_inserter``) and a second memory stream.
  Keep-alive comments still go out after ``_PING_INTERVAL`` of silence.
- ``sse-starlette/patched``: ``EventSourceResponse._send_with_timeout`` sends without opening an
  ``anyio.move_on_after`` cancel scope when ``send_timeout`` is None (the default).

Printed: CPU µs per event without the profiler (median of ``--rounds``, process time / events)
with the garbage collector's share (gc.callbacks); then, from one cProfile run per pattern, the
profiled self-time per event split by category (a profiler inflates many small calls, so read
the split as shares; the unprofiled figure is the cost), and the top functions with their file.
A benchmark, not a test: the figures are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import inspect
import json
import os
import pstats
import statistics
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import anyio  # noqa: F401  (the patched copies run in fastapi.routing's namespace, which uses it)
import fastapi.routing
import sse_starlette.sse
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse as FastAPIEventSourceResponse
from sse_starlette import EventSourceResponse
from sse_starlette.event import ensure_bytes

from servers import concurrency_patterns

SITE = Path(fastapi.__file__).parent.parent


# -- the patched copies ------------------------------------------------------------------
def patched_get_request_handler():
    """fastapi.routing.get_request_handler with one change in its SSE branch (see module docstring)."""
    source = inspect.getsource(fastapi.routing.get_request_handler)
    old_start = source.index("                    send_keepalive, receive_keepalive = (")
    old_end = source.index("                # Enter the SSE context manager")
    new = '''                    async with anyio.create_task_group() as tg:
                        tg.start_soon(_producer)
                        yield receive_stream
                        tg.cancel_scope.cancel()

'''
    source = source[:old_start] + new + source[old_end:]
    old_loop = '''                    async for data in stream:
                        yield data
'''
    new_loop = '''                    while True:
                        with anyio.move_on_after(_PING_INTERVAL) as idle:
                            try:
                                data = await stream.receive()
                            except anyio.EndOfStream:
                                return
                        yield KEEPALIVE_COMMENT if idle.cancelled_caught else data
'''
    assert source.count(old_loop) == 1, "fastapi.routing changed: update the patch"
    source = source.replace(old_loop, new_loop)
    namespace = dict(vars(fastapi.routing))
    exec(compile(source, "<patched fastapi.routing.get_request_handler>", "exec"), namespace)
    return namespace["get_request_handler"]


def fastapi_without_jsonable_encoder():
    """The other candidate: plain dicts of JSON types skip jsonable_encoder (json.dumps as is)."""
    source = inspect.getsource(fastapi.routing.get_request_handler)
    old = "                    data = jsonable_encoder(data)\n"
    new = ("                    if not (type(data) is dict and all(type(v) in (int, float, str, bool) "
           "for v in data.values())):\n                        data = jsonable_encoder(data)\n")
    assert source.count(old) == 1, "fastapi.routing changed: update the patch"
    namespace = dict(vars(fastapi.routing))
    exec(compile(source.replace(old, new), "<patched fastapi.routing.get_request_handler>", "exec"), namespace)
    return namespace["get_request_handler"]


def fast_ensure_bytes(data, sep):
    """sse_starlette.event.ensure_bytes with a fast path for the common ``{"data": str}``."""
    if type(data) is dict and data.keys() == {"data"} and "\n" not in data["data"] and "\r" not in data["data"]:
        return f"data: {data['data']}{sep}{sep}".encode()
    return ensure_bytes(data, sep)


def sse_starlette_fast_encoding():
    """The other candidate: EventSourceResponse whose _stream_response calls fast_ensure_bytes."""
    source = textwrap.dedent(inspect.getsource(EventSourceResponse._stream_response))
    namespace = dict(vars(sse_starlette.sse), ensure_bytes=fast_ensure_bytes)
    exec(compile(source, "<patched sse_starlette.sse._stream_response>", "exec"), namespace)
    return type("FastEncodingEventSourceResponse", (EventSourceResponse,),
                {"_stream_response": namespace["_stream_response"]})


class PatchedEventSourceResponse(EventSourceResponse):
    """sse-starlette's response with one change: no cancel scope per send when there is no timeout."""

    async def _send_with_timeout(self, send, message):
        if self.send_timeout is not None:
            return await super()._send_with_timeout(send, message)
        try:
            await send(message)
        except BaseException:
            self._send_interrupted = True
            raise


@contextmanager
def fastapi_handler(factory):
    """Routes created inside use ``factory`` (APIRoute builds its handler when it is created)."""
    original = fastapi.routing.get_request_handler
    fastapi.routing.get_request_handler = factory
    try:
        yield
    finally:
        fastapi.routing.get_request_handler = original


def sse_starlette_app(response_class) -> FastAPI:
    app = FastAPI()

    @app.get("/sse-starlette")
    async def route(n: int, interval: float):  # the body of concurrency_patterns.with_sse_starlette
        async def event_generator():
            for seq in range(n):
                if seq:
                    await asyncio.sleep(interval)
                yield {"data": json.dumps({"seq": seq, "sent": time.monotonic()})}

        return response_class(event_generator())

    return app


def apps() -> dict[str, tuple[FastAPI, str]]:
    def fastapi_app(factory) -> FastAPI:
        with fastapi_handler(factory):
            app = FastAPI()
            app.get("/fastapi-sse", response_class=FastAPIEventSourceResponse)(concurrency_patterns.with_fastapi_sse)
        return app

    return {
        "recommended": (concurrency_patterns.app, "/recommended"),
        "fastapi-sse": (concurrency_patterns.app, "/fastapi-sse"),
        "fastapi-sse/one-task": (fastapi_app(patched_get_request_handler()), "/fastapi-sse"),
        "fastapi-sse/no-encoder": (fastapi_app(fastapi_without_jsonable_encoder()), "/fastapi-sse"),
        "sse-starlette": (sse_starlette_app(EventSourceResponse), "/sse-starlette"),
        "sse-starlette/no-scope": (sse_starlette_app(PatchedEventSourceResponse), "/sse-starlette"),
        "sse-starlette/fast-encode": (sse_starlette_app(sse_starlette_fast_encoding()), "/sse-starlette"),
    }


# -- driving an app as an ASGI server would --------------------------------------------------
async def one_stream(app, path: str, query: bytes, counts: list) -> None:
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query, "root_path": "", "headers": [(b"host", b"127.0.0.1")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    never = asyncio.Event()

    async def receive():
        await never.wait()  # the client never leaves; the response's task group cancels this
        return {"type": "http.disconnect"}

    async def send(message):
        if b'"sent"' in message.get("body", b""):
            counts[0] += 1

    await app(scope, receive, send)


async def drive(app, path: str, streams: int, events: int, interval: float) -> int:
    counts = [0]
    query = f"n={events}&interval={interval:g}".encode()
    await one_stream(app, path, b"n=1&interval=0", [0])  # warm up: routes, middleware stack
    await asyncio.gather(*(one_stream(app, path, query, counts) for _ in range(streams)))
    return counts[0]


def measure(app, path, args) -> dict:
    pauses, started = [], {}

    def on_gc(phase, info):
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started:
            pauses.append(time.perf_counter() - started.pop("t"))

    gc.collect()
    gc.callbacks.append(on_gc)
    try:
        cpu0 = time.process_time()
        delivered = asyncio.run(drive(app, path, args.streams, args.events, args.interval))
        cpu = time.process_time() - cpu0
    finally:
        gc.callbacks.remove(on_gc)
    return {"cpu": cpu / delivered, "gc": sum(pauses) / delivered, "delivered": delivered,
            "collections": len(pauses) / delivered}


# -- the profile, split by category ---------------------------------------------------------
CATEGORIES = [  # (category, test on (file relative to site-packages, function name)); first match wins
    ("anyio look-ups per call (sniffio, current_task)", lambda f, n: f.startswith("sniffio/") or (
        f.startswith("asyncio/tasks") and n == "current_task")),
    ("memory-stream hand-over (anyio)", lambda f, n: f.startswith("anyio/streams/memory")),
    ("cancel scopes, timeouts (anyio)", lambda f, n: f.startswith("anyio/") and (
        "CancelScope" in n or n in {"__enter__", "__exit__", "fail_after", "move_on_after", "_deliver_cancellation",
                                    "_restart_cancellation_in_parent", "_timeout", "_parent_cancelled",
                                    "_effectively_cancelled", "current_time", "cancel", "deadline",
                                    "cancelled_caught", "cancel_called", "_cancel_called", "shield",
                                    "_calculate_deadline", "_uncancel", "cancelling", "_deadline"})),
    ("per-event checkpoints (anyio.sleep(0))", lambda f, n: f.startswith("anyio/") and (
        "checkpoint" in n or n in {"sleep", "_sse_with_checkpoints"})),
    ("tasks, task groups (anyio)", lambda f, n: f.startswith("anyio/")),
    ("keep-alive / ping task", lambda f, n: n in {"_keepalive_inserter", "_ping", "_producer"}),
    ("serialization", lambda f, n: f.startswith(("json/", "fastapi/encoders", "fastapi/sse", "sse_starlette/event",
                                                 "servers/stamp", "pydantic"))
        or n in {"_serialize_sse_item", "_serialize_data", "_normalize_non_finite_floats", "ensure_bytes",
                 "stamped", "<method 'encode' of 'str' objects>", "<built-in method _json.encode_basestring_ascii>",
                 "<method 'write' of '_io.StringIO' objects>", "<method 'getvalue' of '_io.StringIO' objects>",
                 "<method 'split' of 're.Pattern' objects>", "<method 'sub' of 're.Pattern' objects>",
                 "<method 'join' of 'str' objects>", "<method 'replace' of 'str' objects>"}),
    ("response send path (starlette, sse_starlette)", lambda f, n: f.startswith(("starlette/", "sse_starlette/"))),
    ("event loop, asyncio tasks and timers", lambda f, n: f.startswith("asyncio/") or n.startswith(
        ("<method 'run' of '_contextvars", "<built-in method _asyncio", "<built-in method _heapq",
         "<method 'send' of 'coroutine", "<method 'throw' of 'coroutine", "<method 'control' of 'select",
         "<method 'poll' of 'select", "<built-in method time.monotonic>", "<method 'asend'", "<method '__anext__'"))),
    ("other: the route's generator, builtins, ASGI glue", lambda f, n: True),
]


def where(key) -> tuple[str, str]:
    file, line, name = key
    if file == "~":
        return "", name
    path = Path(file)
    for root in (SITE, Path(asyncio.__file__).parent.parent, Path(__file__).resolve().parent.parent):
        if path.is_relative_to(root):
            return str(path.relative_to(root)), name
    return path.name, name


def profile(app, path, args) -> tuple[int, pstats.Stats]:
    profiler = cProfile.Profile(time.process_time)  # CPU time: waiting in epoll is not a cost
    profiler.enable()
    delivered = asyncio.run(drive(app, path, args.streams, args.events, args.interval))
    profiler.disable()
    return delivered, pstats.Stats(profiler)


def split(stats: pstats.Stats, delivered: int):
    by_category = dict.fromkeys((c for c, _ in CATEGORIES), 0.0)
    functions = []
    for key, (_, ncalls, tottime, _, _) in stats.stats.items():
        file, name = where(key)
        category = next(c for c, test in CATEGORIES if test(file, name))
        by_category[category] += tottime / delivered
        functions.append((tottime / delivered, ncalls / delivered, f"{file}:{key[1]} {name}" if file else name,
                          category))
    return by_category, sorted(functions, reverse=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between a stream's events")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=12, help="functions listed per pattern")
    parser.add_argument("--patterns", nargs="+", help="names from the table (default: all)")
    args = parser.parse_args(argv)
    from importlib.metadata import version
    chosen = {k: v for k, v in apps().items() if not args.patterns or k in args.patterns}
    load0 = os.getloadavg()
    print(f"command: python benchmarks/profile_sse.py {' '.join(argv if argv is not None else os.sys.argv[1:])}")
    print(f"{args.streams} streams x {args.events} events, {args.interval * 1000:g} ms apart; "
          f"fastapi {version('fastapi')}, starlette {version('starlette')}, sse-starlette {version('sse-starlette')}, "
          f"anyio {version('anyio')}; load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")

    runs = {name: [] for name in chosen}
    for _ in range(args.rounds):  # interleaved: drifting machine load hits every pattern alike
        for name, (app, path) in chosen.items():
            runs[name].append(measure(app, path, args))
    print("\n| pattern | CPU µs / event (median, min-max) | of which GC µs / event | GC collections / 1000 events |")
    print("|---|---|---|---|")
    for name, rs in runs.items():
        cpu = [r["cpu"] * 1e6 for r in rs]
        print(f"| {name} | {statistics.median(cpu):.1f} ({min(cpu):.1f}-{max(cpu):.1f}) | "
              f"{statistics.median(r['gc'] for r in rs) * 1e6:.1f} | "
              f"{statistics.median(r['collections'] for r in rs) * 1000:.1f} |")

    splits = {}
    for name, (app, path) in chosen.items():
        delivered, stats = profile(app, path, args)
        splits[name] = split(stats, delivered)
    names = list(splits)
    cost = {n: statistics.median(r["cpu"] for r in runs[n]) for n in names}
    print("\nµs / event by category: each category's share of cProfile's self-time (CPU clock) times the")
    print("unprofiled CPU / event above (the profiler inflates small calls: read these as estimates)\n")
    print("| category | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for category, _ in CATEGORIES:
        cells = []
        for n in names:
            share = splits[n][0][category] / sum(splits[n][0].values())
            cells.append(f"{share * cost[n] * 1e6:.1f} ({share:.0%})")
        print(f"| {category} | " + " | ".join(cells) + " |")
    print("| (of the whole: GC pauses, unprofiled) | " + " | ".join(
        f"{statistics.median(r['gc'] for r in runs[n]) * 1e6:.1f}" for n in names) + " |")
    print("| **total (unprofiled CPU / event)** | " + " | ".join(f"**{cost[n] * 1e6:.1f}**" for n in names) + " |")
    for name in names:
        callbacks = sum(calls for _, calls, label, _ in splits[name][1] if label.startswith("asyncio/events.py")
                        and label.endswith(" _run"))
        print(f"\n{name}: {callbacks:.1f} event-loop callbacks (asyncio Handle._run) per event; "
              f"top functions by profiled self-time (µs / event, calls / event, file:line function, category)")
        for tottime, calls, label, category in splits[name][1][:args.top]:
            print(f"  {tottime * 1e6:6.2f}  {calls:5.1f}  {label}  [{category}]")
    load1 = os.getloadavg()
    print(f"\nload average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")


if __name__ == "__main__":
    main()
