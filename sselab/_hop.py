"""Hop-by-hop headers (``Connection``, ``Keep-Alive``, ...) on HTTP/1.1 and HTTP/2 (notebook 07).

Defined in notebooks/07_https_http2.ipynb. These headers describe one connection, so a proxy
must not forward them (RFC 9110 §7.6.1), and HTTP/2 has no place for them: a message that
carries one is malformed (RFC 9113 §8.2.2). :func:`ahop_headers` asks a URL and lists the
hop-by-hop headers that reached the client; :func:`h2_client_rejects` shows what an HTTP/2
client does with a response that carries one, using the ``h2`` library on both ends of an
in-memory connection (httpx's HTTP/2 is built on it; browsers apply the same rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ._probe import _tls
from ._table import Table

HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade")
"""The connection-specific fields h2 strips and rejects (``h2/utilities.py``, CONNECTION_HEADERS)."""


@dataclass
class HopHeaders:
    label: str
    http_version: str
    received: dict[str, str]  # hop-by-hop headers as the client received them

    def __str__(self) -> str:
        got = ", ".join(f"{k}: {v}" for k, v in self.received.items()) or "none"
        return f"{self.label} ({self.http_version}): {got}"


async def ahop_headers(url: str, *, label: str, http2: bool = False, verify=True) -> HopHeaders:
    """GET ``url``, keep only the response headers, and list the hop-by-hop ones among them."""
    async with httpx.AsyncClient(http2=http2, verify=_tls(verify), trust_env=False, timeout=10) as client:
        async with client.stream("GET", url) as response:
            received = {k: v for k, v in response.headers.multi_items() if k.lower() in HOP_BY_HOP}
            return HopHeaders(label, response.http_version, received)


class HopTable(Table):
    COLUMNS = ("path", "protocol", "hop-by-hop headers the client received")

    def __init__(self, rows: list[HopHeaders]) -> None:
        self._rows = rows

    def rows(self) -> list[tuple[str, ...]]:
        return [(r.label, r.http_version,
                 ", ".join(f"`{k}: {v}`" for k, v in r.received.items()) or "none") for r in self._rows]


def hop_table(rows: list[HopHeaders]) -> HopTable:
    return HopTable(rows)


def h2_client_rejects(headers: dict[str, str]) -> str | None:
    """Send a response with ``headers`` over an in-memory HTTP/2 connection; the client's error, or None.

    The server side is told not to strip or check what it sends (h2's
    ``normalize_outbound_headers`` / ``validate_outbound_headers`` off), as a careless server
    or a proxy that copies headers would; the client side is h2 with its defaults.
    """
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    server = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=False, normalize_outbound_headers=False, validate_outbound_headers=False))
    client.initiate_connection()
    server.initiate_connection()
    client.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "https"),
                            (":authority", "127.0.0.1")], end_stream=True)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.send_headers(1, [(":status", "200"), ("content-type", "text/event-stream"),
                            *headers.items()])
    try:
        events = client.receive_data(server.data_to_send())
    except h2.exceptions.ProtocolError as exc:
        return f"{type(exc).__name__}: {exc}"
    reset = [e for e in events if isinstance(e, h2.events.StreamReset)]
    return f"stream reset: {reset[0]}" if reset else None
