"""assets/event_loop.png: a blocking SDK stream inside ``async def``, and the fixes.

Top: when each event arrived, for the article's pattern with ``await asyncio.sleep(0)``,
behind a pass-through middleware (no sleep(0)), with ``fastapi.sse`` plus sleep(0), and
with ``iterate_in_threadpool``. Bottom: how long a second client of the same server waited.
Run by scripts/figures; every number in the figure comes from this run (notebook 01).
"""

import asyncio
from pathlib import Path

import sselab
from servers import loop_article, loop_fastapi_sse, loop_middleware, loop_threadpool
from sselab._bystander import draw_waits
from sselab._plot import LabFigure, draw_timeline, legend_entries, shades_bursts

STREAM = "?n=6&gap=0.1"
RUNS = {
    "article + sleep(0)": (loop_article, "/stream-sleep0"),
    "pass-through middleware": (loop_middleware, "/stream"),
    "fastapi.sse + sleep(0)": (loop_fastapi_sse, "/stream-sleep0"),
    "iterate_in_threadpool": (loop_threadpool, "/stream"),
}


async def measure() -> dict:
    runs = {}
    for name, (module, path) in RUNS.items():
        with sselab.BackgroundServer(module.app, name=f"figure-{name}") as server:
            runs[name] = await sselab.abystander(server.url + path + STREAM, server.url + "/health")
    return runs


def main() -> None:
    runs = asyncio.run(measure())
    fig = LabFigure(figsize=(14, 6.4), layout="constrained")
    grid = fig.add_gridspec(2, 4)
    top = [fig.add_subplot(grid[0, i]) for i in range(len(runs))]
    for ax, (name, (timeline, _)) in zip(top, runs.items()):
        draw_timeline(ax, timeline, name, legend=False)  # a key inside each panel covered its dots
    key = fig.add_subplot(grid[1, 0])  # the timelines' key, in the free cell below the first
    key.axis("off")
    key.legend(*legend_entries([t for t, _ in runs.values()], shades_bursts(top)), loc="center",
               fontsize=9, frameon=False, title="top row", title_fontsize=9)
    draw_waits(fig.add_subplot(grid[1, 1:3]), {name: side for name, (_, side) in runs.items()}, gap=0.1)
    out = Path(__file__).with_name("event_loop.png")
    fig.savefig(out, dpi=100)
    for name, (timeline, side) in runs.items():
        print(f"{name:26} {timeline.verdict:15} second client worst {side.worst * 1000:.0f} ms")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
