"""Three ways a stream really breaks, each a path a client can follow (notebook 09).

Defined in notebooks/09_reconnect.ipynb. Each is an ``async with`` block that puts the
fault between a client and a lab server and says, afterwards, when it struck:

- :class:`NetworkCut`: the network goes away mid-answer (``sselab/_front.py`` drops both
  sides of the connection ``after`` seconds into the stream).
- :class:`IdleTimeout`: a real nginx with ``proxy_read_timeout`` shorter than a pause in the
  answer (the model "thinking" before a token). nginx ends the response when the upstream
  has been silent that long (``ngx_http_upstream_process_non_buffered_request`` logs
  "upstream timed out" and finalizes the request), and the client sees the stream end early.
- :class:`Restart`: the server restarts mid-answer behind a relay that stands for the load
  balancer: the old uvicorn is stopped (its open streams end when its graceful-shutdown
  timeout runs out), a new one is started from ``app_factory`` and the relay sends new
  connections there. Whether the answers survive depends on where the factory keeps them.

A client reaches the fault at ``.url``; ``.answer`` is what the answer must look like for
the fault to bite (the pause, for the idle timeout). :func:`afollow` runs one client on one.
:class:`NetworkCut` and :class:`IdleTimeout` take a running server, or an app that they
serve themselves for the length of the block; :func:`afollow_each` follows many answers at
the same time, each through a fault (and so a server, a store and a ledger) of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import threading

from ._front import TcpFront
from ._nginx import NginxProxy
from ._reconnect import Followed, afollow_browser, afollow_httpx_sse, charge, server_ledger
from ._server import BackgroundServer

_NUMBERS = itertools.count()


class _Served:
    """A fault in front of ``server``: a running lab server, or an app it serves itself."""

    def __init__(self, server) -> None:
        self.number = next(_NUMBERS)  # names its relay, proxy and server: faults may run side by side
        self.server, self._own = (server, None) if hasattr(server, "port") else (None, server)

    def _serve(self):
        if self._own is not None:
            # no access log: uvicorn's Config resets its loggers to INFO for a moment while it
            # configures them, and faults start side by side (afollow_each)
            self.server = BackgroundServer(self._own, name=f"fault-app-{self.number}", access_log=False).start()
        return self.server

    def _unserve(self) -> None:
        if self._own is not None and self.server is not None:
            self.server.stop()
            self.server = None


class NetworkCut(_Served):
    """The connection drops ``after`` seconds into the stream: no FIN from the server, no ``done``."""

    label = "network cut"

    def __init__(self, server, *, after: float = 0.4) -> None:
        super().__init__(server)
        self.after = after
        self.answer: dict = {}
        self._front = None

    async def __aenter__(self) -> NetworkCut:
        server = await asyncio.to_thread(self._serve)  # not on the loop: other runs may be measuring
        self._front = TcpFront(server.port, name=f"fault-network-cut-{self.number}", after=self.after).start()
        return self

    async def __aexit__(self, *exc) -> None:
        self._front.stop()
        await asyncio.to_thread(self._unserve)

    def arm(self) -> None:
        """Cut the next stream (each followed answer gets its own cut)."""
        self._front.arm()

    async def settled(self) -> None:
        """The fault is over (nothing to wait for here)."""

    @property
    def url(self) -> str:
        return self._front.url

    @property
    def fault_times(self) -> list[float]:
        return list(self._front.faults)


class IdleTimeout(_Served):
    """nginx with ``proxy_read_timeout`` ``timeout`` s; the answer pauses ``pause`` s before
    token ``pause_at``, so nginx ends the stream in the pause."""

    label = "proxy idle timeout"

    def __init__(self, server, *, timeout: float = 1.0, pause_at: int = 6, pause: float = 1.6) -> None:
        super().__init__(server)
        self.timeout = timeout
        self.answer = {"pause_at": pause_at, "pause": pause}
        self.proxy = None

    async def __aenter__(self) -> IdleTimeout:
        server = await asyncio.to_thread(self._serve)
        self.proxy = NginxProxy(server, name=f"fault-idle-timeout-{self.number}",
                                proxy_read_timeout=f"{round(self.timeout * 1000)}ms")
        await asyncio.to_thread(self.proxy.start)
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self.proxy.stop)
        await asyncio.to_thread(self._unserve)

    def arm(self) -> None:
        """Nothing to arm: every answer with the pause meets the timeout."""

    async def settled(self) -> None:
        """The fault is over (nothing to wait for here)."""

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def fault_times(self) -> list[float]:
        return []  # nginx does not say; the first connection's end shows it


class Restart:
    """The server restarts ``after`` seconds into the stream, behind a relay (the load balancer).

    The answer is 40 tokens (2.4 s): longer than the 1 s the lab's uvicorn gives open
    streams when it stops (``timeout_graceful_shutdown=1``; uvicorn's ``Server.shutdown``
    waits that long for open connections, then cancels their tasks). A shorter answer
    simply finishes during the shutdown; with uvicorn's default (``None``) every open
    stream would hold the restart until it ended. The servers log at ``critical`` only:
    uvicorn would print "Cancel 1 running task(s), timeout graceful shutdown exceeded" and
    the cancelled stream's traceback on every run.
    """

    label = "server restart"

    def __init__(self, app_factory, *, after: float = 0.4, label: str | None = None) -> None:
        self.app_factory, self.after = app_factory, after
        self.label = label or self.label
        self.answer: dict = {"n": 40}
        self.servers: list[BackgroundServer] = []
        self._front = None
        self._restarted = threading.Event()
        self.number = next(_NUMBERS)

    async def __aenter__(self) -> Restart:
        first = await asyncio.to_thread(BackgroundServer(self.app_factory(), name=f"fault-restart-{self.number}-0",
                                                         log_level="critical", access_log=False).start)
        self.servers = [first]
        self._front = TcpFront(first.port, name=f"fault-restart-front-{self.number}", fault=self._restart,
                               after=self.after).start()
        return self

    def _restart(self) -> None:
        """Runs in its own thread: stop the running server, start a new one, switch the relay."""
        self.servers[-1].stop()
        new = BackgroundServer(self.app_factory(), name=f"fault-restart-{self.number}-{len(self.servers)}",
                               log_level="critical", access_log=False).start()
        self.servers.append(new)
        self._front.upstream_port = new.port
        self._restarted.set()

    def arm(self) -> None:
        """Restart again during the next stream."""
        self._restarted.clear()
        self._front.arm()

    async def settled(self) -> None:
        """Wait until the new server runs (if the fault struck at all)."""
        if self._front.faults:
            await asyncio.to_thread(self._restarted.wait, 10)

    async def __aexit__(self, *exc) -> None:
        self._front.stop()
        for server in self.servers:
            await asyncio.to_thread(server.stop)

    @property
    def url(self) -> str:
        return self._front.url

    @property
    def fault_times(self) -> list[float]:
        return list(self._front.faults)


CLIENT_NAMES = ("eventsource", "fetch", "httpx-sse")


async def afollow(client: str, path, *, pattern: str = "resume", browser=None,
                  max_seconds: float = 6.0, **options) -> Followed:
    """Follow one answer with ``client`` (one of ``CLIENT_NAMES``) through ``path`` (a fault above)."""
    if client not in CLIENT_NAMES:
        raise ValueError(f"client must be one of {', '.join(CLIENT_NAMES)}, not {client!r}")
    settings = dict(pattern=pattern, fault=path.label, answer=path.answer, max_seconds=max_seconds,
                    ledger=False)
    path.arm()
    before = await server_ledger(path.url)
    if client == "httpx-sse":
        run = await afollow_httpx_sse(path.url, **settings, **options)
    else:
        if browser is None:
            raise ValueError(f"client {client!r} runs in a browser: pass browser=sselab.HeadlessBrowser()")
        run = await afollow_browser(browser, path.url, client=client, **settings, **options)
    await path.settled()
    run.faults = [t - run.t0 for t in path.fault_times]
    return charge(run, before, await server_ledger(path.url))


async def afollow_each(make_fault, runs, *, browser=None, stagger: float = 0.05, **options) -> list[Followed]:
    """Follow one answer per ``(client, pattern)`` in ``runs``, all at the same time.

    Each run gets a fault of its own, ``make_fault()`` (e.g. ``lambda:
    NetworkCut(reconnect_patterns.make_app())``): its own relay or proxy, and its own server
    with its own store, so one run's reconnects, cuts and ledger never meet another's. The
    runs start ``stagger`` s apart (a browser page takes a moment to open). The results come
    back in the order of ``runs``; every fault is closed when this returns or raises.
    """
    async def one(index: int, client: str, pattern: str) -> Followed:
        await asyncio.sleep(index * stagger)
        async with make_fault() as path:
            return await afollow(client, path, pattern=pattern, browser=browser, **options)

    tasks = [asyncio.ensure_future(one(i, client, pattern)) for i, (client, pattern) in enumerate(runs)]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
