# How many `await asyncio.sleep(0)` after each yield does fastapi.sse need? A route that takes
# the number as a parameter, measured for 0-4, then the second client for the first real-time one.
# Count the awaits between the generator and the socket in fastapi/routing.py (`_producer`,
# `_keepalive_inserter`, `_sse_with_checkpoints`): each task there needs its own loop turn.
import asyncio
import statistics
import time

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

from servers.slow_upstream import chat_stream

turns_app = FastAPI()

@turns_app.get("/stream", response_class=EventSourceResponse)
async def stream(k: int = 1, n: int = 10, gap: float = 0.1):
    for seq in chat_stream(n, gap):
        yield {"seq": seq, "sent": time.monotonic()}
        for _ in range(k):
            await asyncio.sleep(0)

@turns_app.get("/health")
async def health():
    return {"ok": True}

turns = sselab.serve(turns_app, name="01-exercise")
enough = None
for k in range(5):
    t = await sselab.aprobe(turns.url + f"/stream?k={k}&n=10&gap=0.1")
    lag = statistics.mean(t.added_delays) / 0.1
    print(f"{k} x sleep(0): {t.verdict:15} events {lag:.1f} gaps behind on average")
    if enough is None and t.verdict == "real-time":
        enough = k
if enough is not None:
    t, side = await sselab.abystander(turns.url + f"/stream?k={enough}&n=10&gap=0.1", turns.url + "/health")
    print(f"\nWith {enough} x sleep(0): {t.verdict}; the second client still waited up to "
          f"{side.worst * 1000:.0f} ms (the upstream gap is 100 ms).")
turns.stop()
