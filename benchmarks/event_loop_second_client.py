"""How long a second client waits while one blocking stream runs, against the upstream's gap.

Notebook 01 (the event loop) measures one gap (80 ms). This script repeats the measurement
for several gaps and prints the second client's median and worst wait for each variant, to
show that the blocking variants' wait grows with the gap (it is counted in gaps: loop turns
of one gap each), while the fixes' wait does not. Not a test: numbers vary by machine.

    .venv/bin/python benchmarks/event_loop_second_client.py
"""

import asyncio

import sselab
from servers import loop_article, loop_def_generator, loop_fastapi_sse, loop_middleware, loop_threadpool

VARIANTS = {
    "article": (loop_article, "/stream"),
    "article + sleep(0)": (loop_article, "/stream-sleep0"),
    "middleware + sleep(0)": (loop_middleware, "/stream-sleep0"),
    "fastapi.sse + sleep(0)": (loop_fastapi_sse, "/stream-sleep0"),
    "def generator": (loop_def_generator, "/stream"),
    "iterate_in_threadpool": (loop_threadpool, "/stream"),
}
GAPS = (0.05, 0.1, 0.2)
N = 6


async def main() -> None:
    print(f"second client's wait while a stream of {N} items runs (median / worst, ms)")
    print(f"{'variant':24}" + "".join(f"{f'gap {g * 1000:.0f} ms':>20}" for g in GAPS))
    for name, (module, path) in VARIANTS.items():
        cells = []
        with sselab.BackgroundServer(module.app, name=f"bench-{name}") as server:
            for gap in GAPS:
                _, side = await sselab.abystander(f"{server.url}{path}?n={N}&gap={gap}",
                                                  server.url + "/health")
                cells.append(f"{side.median * 1000:.0f} / {side.worst * 1000:.0f}")
        print(f"{name:24}" + "".join(f"{c:>20}" for c in cells))
    print("\n" + "\n".join(f"{k}: {v}" for k, v in sselab.versions().items() if v))


if __name__ == "__main__":
    asyncio.run(main())
