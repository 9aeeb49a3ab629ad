"""How precise is the lab's own measurement? The probe's per-event delay vs the loopback floor.

    python benchmarks/precision.py                 # 300 events per path, 3 rounds
    python benchmarks/precision.py --events 1000 --rounds 5

Three figures, measured in the same run, round after round:

- **floor**: a raw-socket ping-pong over 127.0.0.1 with an echo server in another process;
  one-way = round trip / 2. Nothing in Python can deliver a byte faster than this.
  Back to back, and again with the events' own gap between pings ("idle floor").
- **direct**: ``sselab.probe`` on ``servers.ticker`` served by ``sselab.serve`` in this
  process (a background thread, as in every notebook): the delay from the generator's
  ``yield`` (its stamp) to the probe's read.
- **nginx**: the same stream through ``sselab.NginxProxy(proxy_buffering=False)``.
- **nginx HTTPS/1.1**, **nginx HTTP/2**: the same unbuffered nginx with TLS (the lab's
  throw-away CA, ``sselab.lab_certificates``), probed with HTTP/1.1 and with ``http2=True``.
- **hypercorn HTTP/2**: ``sselab.serve_hypercorn`` over TLS, probed with HTTP/2 (no proxy).
- **raw client**: the direct stream read by a bare asyncio protocol (benchmarks/_loadgen.py)
  instead of httpx: the difference to "direct" is what the probe's client stack adds.

Printed: median and p99 of each, and their ratio to the floor's median. Target on the
2-core reference machine: median at most 1 ms direct and 2 ms through nginx, with or
without TLS and HTTP/2.
A benchmark, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
from array import array

from _loadgen import Stream

import sselab
from servers import ticker


def _echo(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while data := conn.recv(4096):
        conn.sendall(data)


def loopback_floor(pings: int, gap: float = 0.0) -> list[float]:
    """One-way times (s) of ``pings`` 100-byte ping-pongs with an echo in another process,
    ``gap`` seconds apart (an idle CPU takes longer to wake up than a busy one)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    echo = mp.get_context("fork").Process(target=_echo, args=(listener,), daemon=True)
    echo.start()
    one_way = []
    with socket.create_connection(listener.getsockname()) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = b"x" * 100
        for _ in range(pings):
            if gap:
                time.sleep(gap)
            t = time.monotonic()
            s.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(s.recv(4096))
            one_way.append((time.monotonic() - t) / 2)
    echo.join(5)
    listener.close()
    return one_way


async def _raw(port: int, path: str) -> list:
    loop = asyncio.get_running_loop()
    delays, done = array("d"), loop.create_future()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
    transport, _ = await loop.create_connection(lambda: Stream(request, delays, done), "127.0.0.1", port)
    try:
        await asyncio.wait_for(done, 60)
    finally:
        transport.close()
    return list(delays)


def p99(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(0.99 * len(values)))]


def figures(name: str, delays: list[float], floor: float) -> str:
    median = statistics.median(delays)
    return (f"| {name} | {len(delays)} | {median * 1000:.3f} | {p99(delays) * 1000:.3f} | "
            f"{median / floor:.1f}x |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="events per path per round (>= 200)")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between events")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--http", default="h11", choices=["h11", "httptools"])
    args = parser.parse_args(argv)
    have_nginx = sselab.find_nginx() is not None
    load = os.getloadavg()
    print(f"command: python benchmarks/precision.py {' '.join(argv if argv is not None else sys.argv[1:])}".strip())
    print(sselab.environment_report())
    print(f"uvicorn --http {args.http}; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{os.cpu_count()} CPUs")
    print("| path | events | median (ms) | p99 (ms) | median / floor |\n|---|---|---|---|---|")
    url = f"/events?n={args.events}&interval={args.interval:g}"
    totals: dict[str, list[float]] = {"floor": [], "idle floor": [], "direct": [], "nginx": [],
                                      "nginx HTTPS/1.1": [], "nginx HTTP/2": [], "hypercorn HTTP/2": [],
                                      "raw client": []}
    try:
        server = sselab.serve(ticker.app, name="bench-precision", http=args.http)
        certs = sselab.lab_certificates("bench-precision")
        hypercorn = sselab.serve_hypercorn(ticker.app, name="bench-precision-hypercorn", tls=certs)
        tls = {"verify": certs.ca_path}
        runs = {"direct": (server.url, {}), "hypercorn HTTP/2": (hypercorn.url, {"http2": True, **tls})}
        if have_nginx:
            plain = sselab.NginxProxy(server, name="bench-precision", proxy_buffering=False).start()
            secure = sselab.NginxProxy(server, name="bench-precision-tls", proxy_buffering=False,
                                       tls=certs, http2=True).start()
            runs |= {"nginx": (plain.url, {}), "nginx HTTPS/1.1": (secure.url, tls),
                     "nginx HTTP/2": (secure.url, {"http2": True, **tls})}
        for round_ in range(1, args.rounds + 1):
            floor = loopback_floor(max(1000, args.events))
            base = statistics.median(floor)
            print(figures(f"round {round_}: floor (raw socket, one way)", floor, base))
            idle = loopback_floor(args.events, gap=args.interval)
            print(figures(f"round {round_}: idle floor ({args.interval * 1000:g} ms gaps)", idle, base))
            totals["idle floor"] += idle
            for name, (root, options) in runs.items():
                t = sselab.probe(root + url, **options)
                delays = [e.delay for e in t.events]
                assert len(delays) == args.events and t.clock == "shared", t
                print(figures(f"round {round_}: {name} ({t.verdict})", delays, base))
                totals[name] += delays
            delays = asyncio.run(_raw(server.port, url))
            print(figures(f"round {round_}: raw client, direct", delays, base))
            totals["raw client"] += delays
            totals["floor"] += floor
    finally:
        sselab.stop_all()
    base = statistics.median(totals["floor"])
    print("\nAll rounds together:")
    print("| path | events | median (ms) | p99 (ms) | median / floor |\n|---|---|---|---|---|")
    for name, delays in totals.items():
        if delays:
            print(figures(name, delays, base))
    for name, target in (("direct", 0.001), ("nginx", 0.002), ("nginx HTTPS/1.1", 0.002),
                         ("nginx HTTP/2", 0.002), ("hypercorn HTTP/2", 0.002)):
        if totals[name]:
            median = statistics.median(totals[name])
            print(f"{name}: median {median * 1000:.3f} ms, target {target * 1000:g} ms: "
                  f"{'met' if median <= target else 'NOT met'}")
    if not have_nginx:
        print("nginx is not installed: the nginx path was skipped.")
    load = os.getloadavg()
    print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
