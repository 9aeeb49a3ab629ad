"""HTTP/2 flow control: a stream nobody reads, and what it does to the streams beside it.

Defined in notebooks/07_https_http2.ipynb. HTTP/2 carries many streams on one connection;
each stream and the connection as a whole have a flow-control window (RFC 9113 §5.2): a
sender may have at most that many unacknowledged DATA bytes outstanding. httpx's HTTP/2
(httpcore) raises both windows to 16 MiB (``AsyncHTTP2Connection._send_connection_init`` and
``_send_request_headers``: ``increment_flow_control_window(2**24)``) and acknowledges data
only as the application reads it (``_receive_response_body``: ``acknowledge_received_data``).
So a response that the client leaves unread fills the *connection's* window too, and then no
stream on that connection gets another byte.

:func:`aflow_control` measures it with ``servers/flow_control.py``: it opens ``/bulk`` (tens
of MB, never read) on one HTTP/2 client, then probes the stamped ``/events`` stream on the
**same** client and on a client of its own, and samples how far the bulk generator got.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from ._probe import _tls, aprobe
from ._timeline import Timeline


@dataclass
class FlowControl:
    """Two probes of one stamped stream beside an unread bulk stream, and the app's progress."""

    same_connection: Timeline
    own_connection: Timeline
    bulk_bytes: int  # what /bulk would send in all
    yielded_before: int  # bytes the bulk generator had yielded when the probes started
    yielded_after: int  # ... when they had finished
    yielded_final: int  # ... and half a second later
    bulk_finished: bool

    @property
    def app_stopped(self) -> bool:
        """Did back-pressure reach the app? The generator, not finished, made no progress for 0.5 s."""
        return not self.bulk_finished and self.yielded_final == self.yielded_after

    def __str__(self) -> str:
        same, own = self.same_connection, self.own_connection
        app = ("stopped by back-pressure" if self.app_stopped else
               "kept producing" + (" to the end" if self.bulk_finished else ""))
        return (f"same connection: {same.verdict} ({len(same.events)} events); "
                f"own connection: {own.verdict} ({len(own.events)} events); bulk generator "
                f"{app}: {self.yielded_final / 2**20:.1f} of {self.bulk_bytes / 2**20:.0f} MiB yielded")

    __repr__ = __str__


async def aflow_control(base_url: str, progress: dict, *, verify, mb: int = 40,
                        events: str = "/events?n=20&interval=0.05", settle: float = 1.0,
                        max_seconds: float = 2.5) -> FlowControl:
    """Leave ``/bulk?mb=`` unread on one HTTP/2 connection; probe ``events`` on it and on another.

    Each probe runs for at most ``max_seconds`` (the stream lasts 1 s: a stream that stopped
    has then been silent for over a second); the one on its own connection runs second, once
    the bulk response has filled the windows and its server is quiet. ``progress`` is
    ``servers.flow_control.PROGRESS`` of the app behind ``base_url`` (run in this process),
    read to see whether the server kept pulling from the generator.
    """
    timeout = httpx.Timeout(max_seconds + 5)
    async with httpx.AsyncClient(http2=True, verify=_tls(verify), trust_env=False, timeout=timeout) as shared:
        bulk = await shared.send(shared.build_request("GET", f"{base_url}/bulk?mb={mb}"), stream=True)
        try:
            await asyncio.sleep(settle)  # let the unread bytes fill the windows and buffers
            before = progress["yielded"]
            same = await aprobe(base_url + events, client=shared, max_seconds=max_seconds)
            own = await aprobe(base_url + events, http2=True, verify=verify, max_seconds=max_seconds)
            after = progress["yielded"]
            await asyncio.sleep(0.5)
            final, finished = progress["yielded"], progress["finished"]
        finally:
            await bulk.aclose()
    return FlowControl(same, own, mb * 2**20, before, after, final, finished)
