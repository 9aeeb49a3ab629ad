"""How many concurrent SSE streams does each server pattern hold, and what limits it?

    python benchmarks/concurrency.py                          # the full run: N = 10 100 500 1000
    python benchmarks/concurrency.py --n 10 100 --seconds 5   # a quick look
    python benchmarks/concurrency.py --patterns recommended blocking --no-figure
    python benchmarks/concurrency.py --n 1000 --patterns complete hand --heartbeat 1 --idle 100 --no-figure

For every pattern in servers/concurrency_patterns.py and every N, a fresh server process
(sselab.serve: uvicorn on 127.0.0.1, ``--http``/``--loop`` as given) serves N streams of
``rate`` stamped events per second for ``seconds``; load-generator processes
(benchmarks/_loadgen.py) open the N streams, spread over ``--ramp`` seconds, and time every
event. Printed per run: events delivered vs expected (within the run's deadline), the delay
from the generator's yield to the client's read (p50/p99/max), the server process's CPU,
its event-loop lag (how late a 5 ms sleep wakes up: work that delays *sending*, which a
yield-to-read delay cannot see), its garbage-collector pauses (gc.callbacks), and the load
generator's own CPU and loop lag (to show it was not the bottleneck). ``--idle K`` adds K streams
that get one event and then only what the pattern sends while quiet (heartbeat comments,
counted per stream); ``--heartbeat S`` passes ``?heartbeat=S`` to the routes that take it. The
patterns ``complete-timeout`` and ``complete-queue`` (benchmarks/_heartbeat_variants.py) run
only when named.

Writes assets/concurrency.png unless ``--no-figure``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing as mp
import os
import sys
import threading
import time
from array import array
from pathlib import Path

import psutil
from _loadgen import LAG_TICK, collect, loop_lag, raise_fd_limit, stop_server_process, worker

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = ["recommended", "complete", "hand", "sse-starlette", "fastapi-sse", "blocking"]
VARIANTS = ["complete-timeout", "complete-queue"]  # benchmarks/_heartbeat_variants.py, on request only
CTX = mp.get_context("spawn")


# -- the server, in its own process -------------------------------------------------------
def serve_in_process(conn, http: str, loop: str, fds: int, freeze: bool) -> None:
    """Serve servers.concurrency_patterns.app, measuring loop lag and GC pauses in-process."""
    limit = raise_fd_limit(fds)
    import asyncio

    from _heartbeat_variants import router
    from fastapi import FastAPI

    import sselab
    from servers.concurrency_patterns import app as patterns

    inner = FastAPI()
    inner.include_router(patterns.router)
    inner.include_router(router)

    lag, pauses, started = array("d"), [], {}

    def on_gc(phase, info):
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started:
            pauses.append((info["generation"], time.perf_counter() - started.pop("t"), info["collected"]))

    gc.callbacks.append(on_gc)
    monitor: dict = {}

    async def app(scope, receive, send):
        if scope["type"] == "lifespan" and "task" not in monitor:
            monitor["stop"] = asyncio.Event()
            monitor["task"] = asyncio.get_running_loop().create_task(loop_lag(lag, monitor["stop"]))
        await inner(scope, receive, send)

    server = sselab.serve(app, name="bench", http=http, loop=loop)
    if freeze:  # what exists after start-up is never collected again: full GCs have less to walk
        gc.freeze()
    conn.send((server.port, limit))
    while True:
        command = conn.recv()
        if command == "reset":
            del lag[:], pauses[:]
        elif command == "stats":
            conn.send((lag, pauses))
        elif command == "stop":
            break
    threading.Thread(target=server.stop, daemon=True).start()  # may hang on blocked streams
    time.sleep(1.5)
    os._exit(0)


class ServerProcess:
    def __init__(self, http: str, loop: str, fds: int, freeze: bool = False) -> None:
        self.conn, child = CTX.Pipe()
        self.process = CTX.Process(target=serve_in_process, args=(child, http, loop, fds, freeze), daemon=True)
        self.process.start()
        if not self.conn.poll(30):
            self.process.kill()
            raise RuntimeError("the server process did not start within 30 s")
        self.port, self.fd_limit = self.conn.recv()
        self.ps = psutil.Process(self.process.pid)

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def command(self, what: str):
        self.conn.send(what)
        return self.conn.recv() if what == "stats" else None

    def stop(self) -> None:
        stop_server_process(self.process, self.conn)


# -- one run --------------------------------------------------------------------------------
def pct(values, q):
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(pattern: str, n: int, *, rate: float, seconds: float, ramp: float, http: str,
        loop: str, workers: int, freeze: bool = False, heartbeat: float | None = None,
        idle: int = 0) -> dict:
    events = max(1, round(seconds * rate))
    beat = "" if heartbeat is None else f"&heartbeat={heartbeat:g}"
    path = f"/{pattern}?n={events}&interval={1 / rate:g}{beat}"
    server = ServerProcess(http, loop, fds=n + idle + 512, freeze=freeze)
    try:
        start_at = time.monotonic() + 2.0  # time for the workers to import and get ready
        end_at = start_at + ramp + seconds + 2.0
        jobs = [(path, list(range(i, n, workers)), n) for i in range(workers)]
        if idle:  # one event, then silence (the next is due in 60 s): only heartbeats arrive
            jobs.append((f"/{pattern}?n=2&interval=60{beat}", list(range(idle)), idle))
        pipes, procs = [], []
        for job_path, share, total in jobs:
            parent, child = CTX.Pipe()
            procs.append(CTX.Process(target=worker, daemon=True, args=(
                child, "127.0.0.1", server.port, job_path, share, total, ramp, start_at, end_at)))
            procs[-1].start()
            pipes.append(parent)
        time.sleep(max(0.0, start_at - time.monotonic()))
        server.command("reset")
        cpu0, wall0 = server.cpu(), time.monotonic()
        time.sleep(max(0.0, end_at - time.monotonic()))
        cpu1, wall1 = server.cpu(), time.monotonic()
        lag, gcs = server.command("stats")
        pauses = [p for _, p, _ in gcs]
        full = [p for g, p, _ in gcs if g == 2]
        collected = sum(c for _, _, c in gcs)
        results = collect(pipes, procs)
    finally:
        server.stop()
    quiet = results.pop() if idle and len(results) == len(jobs) else None
    delays = [d for r in results for d in r["delays"]]
    per_stream = [c for r in results for c in r["events"].values()]
    return {
        "pattern": pattern, "n": n, "http": http, "loop": loop,
        "expected": n * events, "delivered": len(delays),
        "streams_complete": sum(c == events for c in per_stream),
        "connect_errors": sum(r["connect_errors"] for r in results),
        "statuses": {k: sum(r["status"].get(k, 0) for r in results)
                     for k in sorted({k for r in results for k in r["status"]})},
        "p50": pct(delays, 0.5), "p99": pct(delays, 0.99), "max": max(delays, default=math.nan),
        "server_cpu": (cpu1 - cpu0) / (wall1 - wall0),
        "cpu_per_event": (cpu1 - cpu0) / max(1, len(delays)),
        "lag_p50": pct(lag, 0.5), "lag_p99": pct(lag, 0.99), "lag_max": max(lag, default=math.nan),
        "gc_count": len(pauses), "gc_total": sum(pauses), "gc_max": max(pauses, default=0.0),
        "gc_collected": collected, "gc_full": len(full), "gc_full_max": max(full, default=0.0),
        "gen_cpu": max((r["cpu"] / r["wall"] for r in results), default=math.nan),
        "gen_lag_p99": max((pct(r["lag"], 0.99) for r in results), default=math.nan),
        "gen_late_start": max((r["late_start"] for r in results), default=math.nan),
        "workers": len(results), "fd_limit": server.fd_limit,
        "idle": idle, "idle_comments": sorted(quiet["comments"].values()) if quiet else [],
        "quiet_window": seconds + 2.0,  # the last idle stream opens at ramp, the run ends ramp + this
    }


def idle_line(r: dict, heartbeat: float) -> str:
    """Comments seen on the idle streams (the first ``: connected`` included, where sent)."""
    c = r["idle_comments"]
    if not c:
        return f"    idle streams: {r['idle']}, no result"
    return (f"    idle streams: {len(c)}, comments per stream min / median / max {c[0]} / {c[len(c) // 2]} / "
            f"{c[-1]} (heartbeat {heartbeat:g} s, every stream open at least {r['quiet_window']:g} s: "
            f"{math.floor(r['quiet_window'] / heartbeat)} or more expected); streams with none: {c.count(0)}")


def row(r: dict) -> str:
    def ms(s):
        return "-" if math.isnan(s) else f"{s * 1000:.1f}"

    share = r["delivered"] / r["expected"]
    return (f"| {r['pattern']} | {r['n']} | {r['delivered']}/{r['expected']} ({share:.1%}) | "
            f"{ms(r['p50'])} / {ms(r['p99'])} / {ms(r['max'])} | {r['server_cpu']:.0%} | "
            f"{r['cpu_per_event'] * 1e6:.0f} | "
            f"{ms(r['lag_p99'])} / {ms(r['lag_max'])} | {r['gc_count']} / {ms(r['gc_total'])} / "
            f"{ms(r['gc_max'])} | {r['gc_full']} / {ms(r['gc_full_max'])} | "
            f"{r['gen_cpu']:.0%} / {ms(r['gen_lag_p99'])} |")


HEADER = ("| pattern | N | delivered | delay p50 / p99 / max (ms) | server CPU | CPU µs / event | "
          "loop lag p99 / max (ms) | GC count / total / max (ms) | full GC count / max (ms) | "
          "loadgen CPU / lag p99 (ms) |\n|---|---|---|---|---|---|---|---|---|---|")


# -- the figure -----------------------------------------------------------------------------
def figure(results: list[dict], path: Path, note: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    axes = axes.ravel()
    for pattern in dict.fromkeys(r["pattern"] for r in results):
        rs = sorted((r for r in results if r["pattern"] == pattern), key=lambda r: r["n"])
        ns = [r["n"] for r in rs]
        style = {"marker": "o", "label": pattern, "lw": 2.5 if pattern.startswith(("recommended", "complete")) else 1.3}
        axes[0].plot(ns, [100 * r["delivered"] / r["expected"] for r in rs], **style)
        axes[1].plot(ns, [max(r["p99"], 1e-4) * 1000 for r in rs], **style)
        axes[2].plot(ns, [max(r["lag_p99"], 1e-4) * 1000 for r in rs], **style)
        axes[3].plot(ns, [100 * r["server_cpu"] for r in rs], **style)
    axes[1].axhline(5, color="grey", ls="--", lw=1)
    axes[1].text(ns[0], 5.5, "5 ms target", color="grey", fontsize=8)
    titles = ["events delivered within the run (%)", "delay p99, yield to read (ms, log)",
              "server event-loop lag p99 (ms, log): late *sends*", "server CPU (% of one core)"]
    for ax, title in zip(axes, titles):
        ax.set_xscale("log")
        ax.set_xlabel("concurrent streams (10 events/s each)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle(note, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions() -> str:
    from importlib.metadata import version
    names = ["fastapi", "starlette", "uvicorn", "sse-starlette", "httptools", "uvloop"]
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {sys.version.split()[0]}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100, 500, 1000])
    parser.add_argument("--patterns", nargs="+", default=PATTERNS, choices=PATTERNS + VARIANTS)
    parser.add_argument("--rate", type=float, default=10.0, help="events per second per stream")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each stream lasts")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds over which streams open")
    parser.add_argument("--http", default="h11", choices=["h11", "httptools"])
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--workers", type=int, default=0, help="load-generator processes (0: auto)")
    parser.add_argument("--heartbeat", type=float, help="seconds, passed as ?heartbeat= (complete*)")
    parser.add_argument("--idle", type=int, default=0, help="extra streams that stay quiet (heartbeats only)")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in the server after start-up")
    parser.add_argument("--figure", default=str(ROOT / "assets" / "concurrency.png"))
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)

    command = "python benchmarks/concurrency.py " + " ".join(argv if argv is not None else sys.argv[1:])
    load0 = os.getloadavg()
    print(f"command: {command.strip()}")
    print(f"versions: {versions()}")
    print(f"machine: {os.cpu_count()} CPUs, load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"fd limit (ulimit -n) {raise_fd_limit(0)[0]}; server: uvicorn {args.http}/{args.loop}; "
          f"loop-lag tick {LAG_TICK * 1000:g} ms; gc.freeze() {'on' if args.gc_freeze else 'off'}")
    print(HEADER, flush=True)
    results = []
    for pattern in args.patterns:
        for n in args.n:
            workers = args.workers or (1 if n <= 200 else 2)
            idle = 0 if pattern == "blocking" else args.idle  # a quiet blocking stream stops the loop 60 s
            r = run(pattern, n, rate=args.rate, seconds=args.seconds, ramp=args.ramp,
                    http=args.http, loop=args.loop, workers=workers, freeze=args.gc_freeze,
                    heartbeat=args.heartbeat, idle=idle)
            results.append(r)
            print(row(r), flush=True)
            if idle:
                print(idle_line(r, args.heartbeat or 15.0), flush=True)
            if r["connect_errors"] or set(r["statuses"]) - {200}:
                print(f"    connect errors {r['connect_errors']}, statuses {r['statuses']}")
    load1 = os.getloadavg()
    print(f"load average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if not args.no_figure:
        note = (f"{command.strip()} | {versions()} | uvicorn {args.http}/{args.loop} | "
                f"{os.cpu_count()} CPUs, load {load0[0]:.1f} before, {load1[0]:.1f} after")
        figure(results, Path(args.figure), note)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
