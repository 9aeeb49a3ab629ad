"""A TCP relay in front of a lab server that can break a stream on purpose (notebook 09).

Defined in notebooks/09_reconnect.ipynb. Every connection to :attr:`TcpFront.url` is
copied byte for byte to ``127.0.0.1:<upstream_port>`` and back. When a request for a stream
passes through (its first line matches ``stream_request``), the front waits ``after``
seconds and then does its fault, at most ``times`` times:

- ``fault="cut"``: it drops both sides of that connection at once, as a network that goes
  away does (a phone changing network, a NAT forgetting the flow): the client sees its
  stream end in the middle of a chunk, with no warning and no ``done`` event.
- ``fault=callable``: it calls that function in its own thread (the notebook's "restart the
  server"), and keeps relaying. ``upstream_port`` may be changed at any time: that is how a
  load balancer sends new connections to the restarted server.

It runs in a daemon thread with its own event loop on 127.0.0.1, port 0 read back, and is
stopped with ``sselab.stop_all()`` like every server.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

from ._registry import SERVERS

STREAM_REQUEST = rb"GET /answers/[^/ ]+/(rerun|live|resume)|POST /chat "


class TcpFront:
    """Relay to ``upstream_port``; ``fault`` a stream ``after`` seconds, ``times`` times."""

    def __init__(self, upstream_port: int, *, name: str = "front", fault="cut",
                 after: float = 0.4, times: int = 1, stream_request: bytes = STREAM_REQUEST) -> None:
        self.upstream_port, self.name, self.fault, self.after = upstream_port, name, fault, after
        self.times, self.pattern = times, re.compile(stream_request)
        self.faults: list[float] = []  # time.monotonic() of each fault done
        self.port: int | None = None
        self._loop = self._thread = self._server = None
        self._armed = 0
        self._open: set = set()  # the writers of every relayed connection

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpFront:
        SERVERS.replace(self.name)
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._relay, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"sselab-front-{self.name}", daemon=True)
        self._thread.start()
        ready.wait(5)
        SERVERS.add(self.name, self)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            async def close() -> None:
                self._server.close()
                for writer in list(self._open):
                    writer.transport.abort()  # each relay then ends by itself
                others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                if others:
                    await asyncio.wait(others, timeout=1)
            asyncio.run_coroutine_threadsafe(close(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
        SERVERS.discard(self.name, self)
        self._loop = self._thread = None
        self.port = None

    def arm(self, times: int = 1) -> None:
        """Do the fault again, on the next ``times`` streams (one per followed answer)."""
        self.times, self._armed = times, 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _relay(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:  # nobody listening (a server restarting): the client sees a reset
            client_writer.transport.abort()
            return
        writers = (client_writer, upstream_writer)
        self._open.update(writers)
        up = asyncio.ensure_future(self._copy(client_reader, upstream_writer, watch=writers))
        down = asyncio.ensure_future(self._copy(upstream_reader, client_writer))
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        await asyncio.wait([up, down], timeout=0.2)  # let the other half finish its last bytes
        for task in (up, down):
            task.cancel()
        for writer in writers:
            writer.close()
            self._open.discard(writer)

    async def _copy(self, reader, writer, watch=None) -> None:
        try:
            while data := await reader.read(65536):
                if watch is not None and self._armed < self.times and self.pattern.search(data):
                    self._armed += 1
                    asyncio.get_running_loop().call_later(self.after, self._do_fault, watch)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if writer.can_write_eof() and not writer.is_closing():
                try:
                    writer.write_eof()
                except OSError:
                    pass

    def _do_fault(self, writers) -> None:
        self.faults.append(time.monotonic())
        if self.fault == "cut":
            for writer in writers:
                writer.transport.abort()  # both sides, nothing flushed: the network is gone
        else:
            threading.Thread(target=self.fault, name=f"sselab-fault-{self.name}", daemon=True).start()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<TcpFront {self.name} -> 127.0.0.1:{self.upstream_port} ({self.fault!r} after {self.after} s) {where}>"

