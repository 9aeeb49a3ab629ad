"""assets/quickstart.png: the ticker direct, through nginx's defaults, and with buffering off.

Run by scripts/figures; every number in the figure comes from this run.
"""

from pathlib import Path

import sselab
from servers import ticker

STREAM = "/events?n=15&interval=0.08"


def main() -> None:
    with sselab.BackgroundServer(ticker.app, http="h11") as server:
        runs = {"direct to uvicorn (h11)": sselab.probe(server.url + STREAM)}
        with sselab.NginxProxy(server) as proxy:
            runs["nginx defaults"] = sselab.probe(proxy.url + STREAM)
        with sselab.NginxProxy(server, proxy_buffering=False) as proxy:
            runs["nginx, proxy_buffering off"] = sselab.probe(proxy.url + STREAM)
    out = Path(__file__).with_name("quickstart.png")
    sselab.plot_runs(runs).savefig(out, dpi=100)
    print(sselab.verdict_table(runs))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
