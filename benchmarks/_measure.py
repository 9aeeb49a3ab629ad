"""One run for benchmarks/asgi_servers.py and ceilings.py: N streams against one server, measured.

A fresh server (benchmarks/_launch.py) per run; load-generator processes (benchmarks/_loadgen.py,
the same as benchmarks/concurrency.py's) open N streams of ``rate`` stamped events per second for
``seconds``, spread over ``ramp`` seconds; the run ends ``ramp + seconds + 2`` s after they start.
Measured over that window:

- from the load generator: events delivered, delay from ``yield`` to read (p50/p99/max), streams
  that never got their response headers, and its own CPU (summed over its processes) and loop lag;
- from the server's process tree (master and workers, psutil): CPU, and RSS before the streams open
  and its peak while they are open (sampled every 0.5 s): memory per stream is the difference / N;
- from inside each serving process (benchmarks/_bench_app.py): loop lag, GC pauses, streams served;
- the whole machine's busy CPU (``psutil.cpu_times``), so what other programs took is visible:
  others = machine - server - load generator.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import pickle
import shutil
import tempfile
import time
from pathlib import Path

import psutil
from _launch import Spec, launch, processes, warm_up
from _loadgen import collect, worker

CTX = mp.get_context("spawn")


def pct(values, q: float) -> float:
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _busy() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _ask(stats: Path, what: str, k: int) -> None:
    (stats / f"{what}-{k}").touch()


def _collect(stats: Path, k: int, expected: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        files = sorted(stats.glob(f"{k}-*.pickle"))
        if len(files) >= expected or time.monotonic() > deadline:
            return [pickle.loads(f.read_bytes()) for f in files]
        time.sleep(0.05)


def measure(spec: Spec, pattern: str, n: int, *, rate: float = 10.0, seconds: float = 10.0,
            ramp: float = 1.0, generators: int = 0, heartbeat: float | None = None,
            gen_loop: str = "asyncio") -> dict:
    """Serve ``n`` streams of ``pattern`` under ``spec`` and return the figures (JSON-ready)."""
    generators = generators or (1 if n <= 200 else 2)
    events = max(1, round(seconds * rate))
    beat = "" if heartbeat is None else f"&heartbeat={heartbeat:g}"
    path = f"/{pattern}?n={events}&interval={1 / rate:g}{beat}"
    stats = Path(tempfile.mkdtemp(prefix="sse-bench-stats-"))
    server = None
    try:
        server = launch(spec, stats, fds=n + 512)
        warm_up(server.port, 2 * spec.workers)
        procs = processes(server.pid)
        start_at = time.monotonic() + 2.0  # time for the generators to import and get ready
        end_at = start_at + ramp + seconds + 2.0
        pipes, gens = [], []
        for i in range(generators):
            parent, child = CTX.Pipe()
            gens.append(CTX.Process(target=worker, daemon=True, args=(
                child, "127.0.0.1", server.port, path, list(range(i, n, generators)), n, ramp, start_at, end_at,
                gen_loop)))
            gens[-1].start()
            pipes.append(parent)
        time.sleep(max(0.0, start_at - time.monotonic() - 0.1))
        _ask(stats, "reset", 0)
        rss0 = _rss(procs)
        time.sleep(max(0.0, start_at - time.monotonic()))
        cpu0, busy0, wall0 = _cpu(procs), _busy(), time.monotonic()
        rss_peak = rss0
        while (left := end_at - time.monotonic()) > 0:
            time.sleep(min(0.5, left))
            rss_peak = max(rss_peak, _rss(procs))
        cpu1, busy1, wall1 = _cpu(procs), _busy(), time.monotonic()
        _ask(stats, "dump", 1)
        inside = _collect(stats, 1, spec.workers)
        results = collect(pipes, gens)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(stats, ignore_errors=True)
    r = summarize(spec, pattern, n, events, results, inside, wall1 - wall0, cpu1 - cpu0, busy1 - busy0,
                  rss0, rss_peak, len(procs))
    r["gen_loop"] = gen_loop
    return r


def summarize(spec, pattern, n, events, results, inside, wall, cpu, busy, rss0, rss_peak, nprocs) -> dict:
    delays = [d for r in results for d in r["delays"]]
    per_stream = [c for r in results for c in r["events"].values()]
    lag = [x for w in inside for x in w["lag"]]
    gcs = [tuple(g) for w in inside for g in w["gc"]]
    pauses = [p for _, p, _ in gcs]
    full = [p for g, p, _ in gcs if g == 2]
    gen_cpu = sum(r["cpu"] for r in results) / wall if results else math.nan
    server_cpu = cpu / wall
    return {
        "server": spec.name, "about": spec.about, "workers": spec.workers, "pattern": pattern, "n": n,
        "expected": n * events, "delivered": len(delays), "share": len(delays) / (n * events),
        "streams_complete": sum(c == events for c in per_stream),
        "unanswered": n - sum(c for r in results for k, c in r["status"].items() if k),  # no headers
        "connect_errors": sum(r["connect_errors"] for r in results),
        "statuses": {str(k): sum(r["status"].get(k, 0) for r in results)
                     for k in sorted({k for r in results for k in r["status"]})},
        "p50": pct(delays, 0.5), "p99": pct(delays, 0.99), "max": max(delays, default=math.nan),
        "server_cpu": server_cpu, "cpu_per_event": cpu / max(1, len(delays)),
        "rss0": rss0, "rss_peak": rss_peak, "rss_per_stream": (rss_peak - rss0) / n, "processes": nprocs,
        "lag_p99": pct(lag, 0.99), "lag_max": max(lag, default=math.nan),
        "gc_count": len(pauses), "gc_total": sum(pauses), "gc_max": max(pauses, default=0.0),
        "gc_full": len(full), "gc_full_max": max(full, default=0.0),
        "served": sorted((w["served"] for w in inside), reverse=True), "reporting": len(inside),
        "gen_procs": len(results), "gen_cpu": gen_cpu,
        "gen_cpu_max": max((r["cpu"] / r["wall"] for r in results), default=math.nan),
        "gen_lag_p99": max((pct(r["lag"], 0.99) for r in results), default=math.nan),
        "machine_busy": busy / wall, "others": busy / wall - server_cpu - (gen_cpu if results else 0.0),
        "cores": psutil.cpu_count(),
    }


def wait_for_quiet(below: float, timeout: float) -> tuple[float, float]:
    """Wait until the machine's busy CPU over one second is under ``below`` cores (at most ``timeout`` s).

    Returns (seconds waited, the last busy figure in cores): a shared machine's other programs
    only make a run worse, so a benchmark may start each run in a quiet moment.
    """
    t0 = time.monotonic()
    while True:
        b0, w0 = _busy(), time.monotonic()
        time.sleep(1.0)
        busy = (_busy() - b0) / (time.monotonic() - w0)
        if busy < below or time.monotonic() - t0 >= timeout:
            return time.monotonic() - t0, busy


def held(r: dict, p99_limit: float = 0.010) -> bool:
    """The ceiling's criterion: every event delivered, p99 delay within ``p99_limit`` seconds."""
    return r["delivered"] == r["expected"] and r["p99"] <= p99_limit
