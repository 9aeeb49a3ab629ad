"""The load generator for benchmarks/concurrency.py: many SSE streams from one process.

Each worker process opens its share of the streams with plain asyncio protocols, not
httpx: at 1000 streams x 10 events/s the client must cost far less
than the server it measures. A read's arrival time is ``time.monotonic()`` in
``data_received``; every stamp ``"sent": t`` it completes gives one delay (the stamp
contract, servers/stamp.py; CLOCK_MONOTONIC is shared by every process on Linux). It also
counts SSE comment lines (``: ping``, ``: connected``) per stream, for the heartbeat check.

The worker also measures itself (CPU seconds, and how late its own event loop wakes up),
so the benchmark can show that the load generator was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from array import array

STAMP = re.compile(rb'"sent": ?([0-9.eE+-]+)\}')
COMMENT = re.compile(rb"(?m)^:")  # an SSE comment line: a heartbeat, or the first byte
LAG_TICK = 0.005


def raise_fd_limit(wanted: int) -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


async def loop_lag(samples: array, stop: asyncio.Event) -> None:
    """Record how late a LAG_TICK sleep wakes up: the event loop's own delay, in seconds."""
    while not stop.is_set():
        t = time.monotonic()
        await asyncio.sleep(LAG_TICK)
        samples.append(time.monotonic() - t - LAG_TICK)


class Stream(asyncio.Protocol):
    """One GET on a raw connection; counts stamped events and records their delays."""

    def __init__(self, request: bytes, delays: array, done: asyncio.Future) -> None:
        self.request, self.delays, self.done = request, delays, done
        self.buffer, self.head_done, self.status, self.events, self.comments = b"", False, 0, 0, 0
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer + data
        if not self.head_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            self.status = int(buffer[9:12])
            self.head_done, buffer = True, buffer[end + 4:]
        last = buffer.rfind(b"\n") + 1  # complete lines only, so nothing is counted twice
        if not last:
            self.buffer = buffer[-65536:]
            return
        frames = buffer[:last]
        for match in STAMP.finditer(frames):
            self.delays.append(now - float(match.group(1)))
            self.events += 1
        self.comments += len(COMMENT.findall(frames))
        self.buffer = buffer[last:]

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _one(host, port, request, delay, delays, out, index):
    await asyncio.sleep(delay)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    try:
        transport, stream = await asyncio.wait_for(
            loop.create_connection(lambda: Stream(request, delays, done), host, port), 10)
    except (TimeoutError, OSError) as exc:
        out["connect_errors"] += 1
        out["first_error"] = out["first_error"] or repr(exc)
        return
    try:
        await done
    finally:
        transport.close()
        out["events"][index] = stream.events
        out["comments"][index] = stream.comments
        out["status"][stream.status] = out["status"].get(stream.status, 0) + 1


async def _main(host, port, path, indices, total, ramp, start_at, end_at):
    delays, lag = array("d"), array("d")
    out = {"connect_errors": 0, "first_error": None, "status": {},
           "events": {i: 0 for i in indices}, "comments": {i: 0 for i in indices}}
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    stop = asyncio.Event()
    lagger = asyncio.create_task(loop_lag(lag, stop))
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    cpu0, wall0 = time.process_time(), time.monotonic()
    late_start = wall0 - start_at
    tasks = [asyncio.create_task(_one(host, port, request, ramp * i / total, delays, out, i))
             for i in indices]
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, end_at - time.monotonic()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stop.set()
    await lagger
    out.update(delays=delays, lag=lag, cpu=cpu, wall=wall, late_start=late_start)
    return out


def worker(conn, host, port, path, indices, total, ramp, start_at, end_at, loop: str = "asyncio") -> None:
    """Process entry point: run the streams ``indices`` of ``total`` and send the results.

    ``loop="uvloop"`` runs the same code on uvloop (benchmarks/asgi_asgi_servers.py's ``--loadgen-loop``).
    """
    raise_fd_limit(len(indices) + 256)
    main = _main(host, port, path, indices, total, ramp, start_at, end_at)
    try:  # plain asyncio by default, like the server: its loop lag has the same resolution
        if loop == "uvloop":
            import uvloop

            conn.send(uvloop.run(main))
        else:
            conn.send(asyncio.run(main))
    finally:
        conn.close()


def collect(pipes, procs) -> list[dict]:
    """Each load-generator process's results (a process that sent none within 30 s is skipped), then join it."""
    results = []
    for parent, proc in zip(pipes, procs):
        if parent.poll(30):
            results.append(parent.recv())
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    return results


def stop_server_process(process, conn) -> None:
    """Ask a server process started by a benchmark to stop; kill it if it has not within 5 s."""
    try:
        conn.send("stop")
    except OSError:
        pass
    process.join(5)
    if process.is_alive():
        process.kill()
        process.join(5)
