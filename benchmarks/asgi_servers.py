"""SSE under every ASGI server the series covers: the recommended route at 100, 500 and 1000 streams.

    python benchmarks/asgi_servers.py                        # the full run: 9 servers x N = 100 500 1000, ~8 min
    python benchmarks/asgi_servers.py --quick                # 3 servers x N = 50 200, 3 s streams, ~1.2 min
    python benchmarks/asgi_servers.py --servers uvicorn daphne --n 1000
    python benchmarks/asgi_servers.py --print build/bench/servers.json     # the table again, from saved results

The load is benchmarks/concurrency.py's: ``/recommended`` of servers/concurrency_patterns.py,
N streams x 10 stamped events/s for 10 s, opened over 1 s, a run ending 2 s after the last
event is due; a fresh server per run (benchmarks/_launch.py: uvicorn and hypercorn through
``sselab.serve``, granian, daphne and gunicorn through ``sselab``'s ChildServer, all on
127.0.0.1). The load generator (benchmarks/_loadgen.py, 1 process for N <= 200, 2 above) runs
on the same 2 cores, on uvloop by default (``--loadgen-loop asyncio`` is concurrency.py's):
its CPU is printed next to the server's, and so is what the rest of the machine used.

Printed per run (benchmarks/_measure.py): events delivered within the run; delay from the
generator's yield to the client's read (p50/p99/max); server CPU (its whole process tree, in
% of one core) and per delivered event; RSS of the tree before the streams open and at its
peak, and the difference per stream; loop lag and full GC pauses inside each serving process;
the load generator's CPU (all its processes, % of one core; µs per event) and loop lag; the
machine's busy CPU and the part of it neither server nor load generator used ("others").

Raw results go to ``--json`` (build/bench/servers.json; --quick: servers-quick.json).
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from _launch import SPECS, versions
from _loadgen import raise_fd_limit
from _measure import measure

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["uvicorn", "uvicorn-httptools", "uvicorn-uvloop", "uvicorn-httptools-uvloop", "hypercorn",
           "granian", "daphne", "gunicorn", "gunicorn-2w"]
QUICK = ["uvicorn", "granian", "gunicorn-2w"]


def ms(seconds: float) -> str:
    return "-" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.1f}"


def row(r: dict) -> str:
    window = r["window"]
    gen_us = r["gen_cpu"] * window / max(1, r["delivered"]) * 1e6
    split = " / ".join(map(str, r["served"])) if r["workers"] > 1 else ""
    return (f"| {r['server']} | {r['n']} | {r['delivered']}/{r['expected']} ({r['share']:.1%}) | "
            f"{ms(r['p50'])} / {ms(r['p99'])} / {ms(r['max'])} | {r['server_cpu']:.0%} | "
            f"{r['cpu_per_event'] * 1e6:.0f} | {r['rss_per_stream'] / 1024:.0f} ({r['rss_peak'] / 2**20:.0f}) | "
            f"{ms(r['lag_p99'])} / {ms(r['lag_max'])} | {r['gc_full']} / {ms(r['gc_full_max'])} | "
            f"{r['gen_cpu']:.0%}, {gen_us:.0f} µs / {ms(r['gen_lag_p99'])} | "
            f"{r['machine_busy']:.0%} / {r['others']:.0%} | {split} |")


HEADER = ("| server | N | delivered | delay p50 / p99 / max (ms) | server CPU | CPU µs / event | "
          "RSS KB / stream (peak MB) | loop lag p99 / max (ms) | full GC count / max (ms) | "
          "loadgen CPU, per event / lag p99 (ms) | machine busy / others | streams per worker |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")


def header_lines(meta: dict) -> list[str]:
    l0, l1 = meta["load_before"], meta["load_after"]
    return [f"command: {meta['command']}",
            f"versions: {meta['versions']}",
            f"machine: {meta['cores']} CPUs, load average before {l0[0]:.2f} {l0[1]:.2f} {l0[2]:.2f}, "
            f"after {l1[0]:.2f} {l1[1]:.2f} {l1[2]:.2f}; took {meta['took'] / 60:.1f} min; "
            f"pattern {meta['pattern']}, {meta['rate']:g} events/s x {meta['seconds']:g} s per stream; "
            f"load generator on {meta['loadgen_loop']}",
            *(f"  {name}: {SPECS[name].about}" for name in dict.fromkeys(r["server"] for r in meta["results"]))]


def print_saved(path: Path) -> None:
    meta = json.loads(path.read_text())
    print("\n".join(header_lines(meta)))
    print(HEADER)
    for r in meta["results"]:
        print(row(r))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", nargs="+", choices=list(SPECS), help=f"default: {' '.join(DEFAULT)}")
    parser.add_argument("--n", type=int, nargs="+", help="streams (default 100 500 1000)")
    parser.add_argument("--pattern", default="recommended")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second per stream")
    parser.add_argument("--seconds", type=float, help="how long each stream lasts (default 10)")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds over which streams open")
    parser.add_argument("--loadgen-loop", default="uvloop", choices=["asyncio", "uvloop"])
    parser.add_argument("--quick", action="store_true", help=f"{' '.join(QUICK)}, N = 50 200, 3 s streams")
    parser.add_argument("--json", help="where to save the raw results (default build/bench/servers.json)")
    parser.add_argument("--print", dest="saved", metavar="JSON", help="print saved results, run nothing")
    args = parser.parse_args(argv)
    if args.saved:
        return print_saved(Path(args.saved))
    servers = args.servers or (QUICK if args.quick else DEFAULT)
    ns = args.n or ([50, 200] if args.quick else [100, 500, 1000])
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    out = Path(args.json or ROOT / "build" / "bench" / ("servers-quick.json" if args.quick else "servers.json"))

    raise_fd_limit(max(ns) + 1024)  # the child servers inherit it
    command = "python benchmarks/asgi_servers.py " + " ".join(argv if argv is not None else sys.argv[1:])
    load0, t0, started = os.getloadavg(), time.monotonic(), time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"command: {command.strip()}\nversions: {versions()}\n"
          f"machine: {os.cpu_count()} CPUs, load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    print(HEADER, flush=True)
    results = []
    for name in servers:
        for n in ns:
            r = measure(SPECS[name], args.pattern, n, rate=args.rate, seconds=seconds, ramp=args.ramp,
                        gen_loop=args.loadgen_loop)
            r["window"] = args.ramp + seconds + 2.0
            results.append(r)
            print(row(r), flush=True)
            if r["unanswered"] or r["connect_errors"] or set(r["statuses"]) - {"200"}:
                print(f"    streams without response headers {r['unanswered']}, connect errors "
                      f"{r['connect_errors']}, statuses {r['statuses']}", flush=True)
    meta = {"command": command.strip(), "versions": versions(), "cores": os.cpu_count(),
            "load_before": load0, "load_after": os.getloadavg(), "took": time.monotonic() - t0,
            "started": started, "pattern": args.pattern, "rate": args.rate,
            "seconds": seconds, "ramp": args.ramp, "loadgen_loop": args.loadgen_loop, "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(meta, indent=1))
    print("\n".join(header_lines(meta)[2:]))
    print(f"raw results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
