"""assets/clients.png: the same ticker read by clients that stream and clients that hold it.

Run by scripts/figures; every number in the figure comes from this run. Panels that need
curl, nginx or jupyter-server-proxy are left out when those are missing.
"""

import asyncio
from pathlib import Path

import sselab
from servers import ticker

STREAM = "/events?n=10&interval=0.08&pad=100"


def main() -> None:
    runs = {}
    with sselab.BackgroundServer(ticker.app, http="h11") as server:
        runs["httpx iter_raw"] = sselab.measure_client("httpx iter_raw", server.url + STREAM)
        if sselab.find_curl():
            runs["curl (no -N), into a pipe"] = sselab.measure_client("curl", server.url + STREAM)
        if sselab.find_nginx():
            with sselab.NginxProxy(server, proxy_buffering=False,
                                   extra="chunked_transfer_encoding off;") as proxy:
                for name in ("requests iter_lines()", "requests iter_content(None)"):
                    runs[f"{name}, close-delimited"] = sselab.measure_client(name, proxy.url + STREAM)
        runs["httpx.ASGITransport (tests)"] = asyncio.run(sselab.measure_asgi(ticker.app, STREAM))
        if sselab.JupyterServer.available():
            with sselab.JupyterServer(name="figure") as jupyter:
                runs["Jupyter proxy, Accept: */*"] = sselab.probe(
                    jupyter.proxy_url(server.port, STREAM), headers={**jupyter.auth, "Accept": "*/*"})
    out = Path(__file__).with_name("clients.png")
    sselab.plot_runs(runs, ncols=3).savefig(out, dpi=100)
    print(sselab.verdict_table(runs))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
