"""assets/network.png: every event's delay, with Nagle's algorithm on and off, fresh and reused.

The raw-socket server (servers/net_raw.py) with Nagle on or off, one or two writes per event,
100 ms or 10 ms apart, on a fresh and on a reused keep-alive connection; then uvicorn with two
writes per event. Run by scripts/figures; every number in the figure comes from this run.
"""

from pathlib import Path

import sselab
from servers import net_pieces, net_raw


def main() -> None:
    runs = {}
    with net_raw.RawSSEServer() as raw:
        for nodelay in (0, 1):
            for writes in (1, 2):
                for gap, n in ((0.1, 6), (0.01, 20)):
                    url = f"{raw.url}/events?n={n}&gap={gap}&writes={writes}&nodelay={nodelay}"
                    label = f"Nagle {'off' if nodelay else 'ON'}, {writes} write(s), {gap * 1000:.0f} ms"
                    runs[f"{label}, fresh"], runs[f"{label}, reused"] = sselab.socket_probe(url, requests=2)
    with sselab.BackgroundServer(net_pieces.app) as server:
        for gap, n in ((0.1, 6), (0.01, 20)):
            url = f"{server.url}/events?n={n}&interval={gap}&pieces=2"
            label = f"uvicorn, 2 writes, {gap * 1000:.0f} ms"
            runs[f"{label}, fresh"], runs[f"{label}, reused"] = sselab.socket_probe(url, requests=2)
    out = Path(__file__).with_name("network.png")
    title = "Each event's delay: Nagle + delayed ACK hold the start of a reused connection"
    sselab.plot_delays(runs, title=title).savefig(out, dpi=100)
    for name, t in runs.items():
        print(f"{name:40} first {t.events[0].delay * 1000:6.1f} ms, "
              f"worst {max(e.delay for e in t.events) * 1000:6.1f} ms, {t.verdict}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
