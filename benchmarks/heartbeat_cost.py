"""What does a heartbeat-on-idle cost per event? Five ways to wait for the next item, in one loop.

    python benchmarks/heartbeat_cost.py                    # 1000 streams x 200 events, 5 rounds
    python benchmarks/heartbeat_cost.py --streams 100 --events 1000

Every variant turns the same source (an async generator that yields after one loop turn,
like an upstream whose next chunk has just arrived) into SSE frames, with a heartbeat due
after ``--heartbeat`` seconds of silence (never reached here: this measures what the
*waiting machinery* costs on every event, not the heartbeats themselves):

- ``none``: ``async for`` over the source, no heartbeat (the hand-written baseline).
- ``timeout``: ``asyncio.timeout()`` around ``anext(source)``: one timer per event. On a real
  timeout it cancels the source mid-read, which kills an async generator or an SDK stream.
- ``wait_for``: ``asyncio.wait_for(anext(source), t)``: on Python 3.11 a task per event, and the
  same cancellation on timeout.
- ``task+wait``: the next item as a task kept across heartbeats, ``asyncio.wait`` with a
  timeout: correct for any source, but a task per event.
- ``pump+queue``: one task per *stream* copies the source into an ``asyncio.Queue``; the
  generator waits on ``queue.get()`` under ``asyncio.timeout()`` (a cancelled ``get`` loses
  nothing): correct for any source, one hand-over per event.

Prints CPU µs per event (process time / events), the median of the rounds, and its extra
cost over ``none``. A benchmark, not a test: the figures are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

FRAME = "id: {0}\ndata: {0}\n\n"


async def source(n: int):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def plain(items, hb):
    async for item in items:
        yield FRAME.format(item)


async def with_timeout(items, hb):
    while True:
        try:
            async with asyncio.timeout(hb):
                item = await anext(items)
        except StopAsyncIteration:
            return
        except TimeoutError:
            yield ": ping\n\n"
            continue
        yield FRAME.format(item)


async def with_wait_for(items, hb):
    while True:
        try:
            item = await asyncio.wait_for(anext(items), hb)
        except StopAsyncIteration:
            return
        except TimeoutError:
            yield ": ping\n\n"
            continue
        yield FRAME.format(item)


async def with_task_wait(items, hb):
    pending = None
    while True:
        pending = pending or asyncio.ensure_future(anext(items))
        done, _ = await asyncio.wait({pending}, timeout=hb)
        if not done:
            yield ": ping\n\n"
            continue
        pending, task = None, pending
        try:
            item = task.result()
        except StopAsyncIteration:
            return
        yield FRAME.format(item)


END = object()


async def with_pump(items, hb):
    queue: asyncio.Queue = asyncio.Queue(1)

    async def pump():
        async for item in items:
            await queue.put(item)
        await queue.put(END)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                async with asyncio.timeout(hb):
                    item = await queue.get()
            except TimeoutError:
                yield ": ping\n\n"
                continue
            if item is END:
                return
            yield FRAME.format(item)
    finally:
        task.cancel()


VARIANTS = {"none": plain, "timeout": with_timeout, "wait_for": with_wait_for,
            "task+wait": with_task_wait, "pump+queue": with_pump}


async def consume(variant, events, hb):
    count = 0
    async for _ in variant(source(events), hb):
        count += 1
    return count


async def one_round(variant, streams, events, hb) -> float:
    cpu0 = time.process_time()
    counts = await asyncio.gather(*(consume(variant, events, hb) for _ in range(streams)))
    return (time.process_time() - cpu0) / sum(counts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--heartbeat", type=float, default=15.0)
    args = parser.parse_args(argv)
    load0 = os.getloadavg()[0]
    results = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):  # interleaved, so drifting machine load hits every variant alike
        for name, variant in VARIANTS.items():
            results[name].append(asyncio.run(one_round(variant, args.streams, args.events, args.heartbeat)))
    print(f"{args.streams} streams x {args.events} events, {args.rounds} rounds; "
          f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after")
    base = statistics.median(results["none"])
    print("| variant | CPU µs / event (median) | min-max | extra over none |\n|---|---|---|---|")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"| {name} | {med * 1e6:.2f} | {min(values) * 1e6:.2f}-{max(values) * 1e6:.2f} | "
              f"{(med - base) * 1e6:+.2f} |")


if __name__ == "__main__":
    main()
