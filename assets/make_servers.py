"""assets/servers.png: when each ASGI server sends the headers of a stream whose first event is late.

Run by scripts/figures; every number in the figure comes from this run (notebook 05, section 2).
"""

import asyncio
from pathlib import Path

import sselab
from servers import first_token

SETUPS = {"uvicorn (h11)": dict(server="uvicorn", http="h11"),
          "uvicorn (httptools)": dict(server="uvicorn", http="httptools"),
          "hypercorn": dict(server="hypercorn"), "granian": dict(server="granian"),
          "daphne": dict(server="daphne"), "gunicorn + uvicorn worker": dict(server="gunicorn")}


async def measure() -> list:
    try:
        servers = sselab.serve_each(first_token.app, SETUPS, prefix="figure-")
        return await sselab.ameasure_servers(servers, first=1.0)
    finally:
        sselab.stop_all()


def main() -> None:
    runs = asyncio.run(measure())
    out = Path(__file__).with_name("servers.png")
    sselab.plot_servers(runs).savefig(out, dpi=100)
    print(sselab.server_table(runs))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
