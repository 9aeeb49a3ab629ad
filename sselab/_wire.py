"""Below httpx: a plain-socket probe, and the server socket's TCP_NODELAY.

Defined in notebooks/03_network.ipynb.

- ``socket_probe`` streams with ``socket.recv`` itself, so every Read is one real socket
  read, and it can send several requests on one keep-alive connection.
- ``server_tcp_nodelay`` reads the ``TCP_NODELAY`` option of the kernel sockets that serve
  a port in this process (the sockets uvicorn's transports really write to).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._probe import ProbeError
from ._recorder import Recorder
from ._timeline import Timeline


class _Dechunker:
    """Undo HTTP/1.1 chunked transfer coding, one read at a time (trailers are not expected)."""

    def __init__(self) -> None:
        self.buffer, self.left, self.skip, self.last, self.done = b"", 0, 0, False, False

    def feed(self, data: bytes) -> bytes:
        buf, out, i = self.buffer + data, bytearray(), 0
        while i < len(buf) and not self.done:
            if self.left:  # inside a chunk's data
                piece = buf[i:i + self.left]
                out += piece
                self.left -= len(piece)
                i += len(piece)
                self.skip = 0 if self.left else 2
            elif self.skip:  # the CRLF after a chunk
                n = min(self.skip, len(buf) - i)
                self.skip, i = self.skip - n, i + n
                self.done = self.last and not self.skip
            else:  # a chunk-size line
                end = buf.find(b"\r\n", i)
                if end < 0:
                    break
                size = int(buf[i:end].split(b";")[0], 16)
                i = end + 2
                self.left, self.last, self.skip = size, size == 0, 2 if size == 0 else 0
        self.buffer = buf[i:]
        return bytes(out)


def _read_head(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ProbeError("the server closed the connection before sending response headers")
        data += more
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, rest


def socket_probe(url: str, *, requests: int = 1, read_delay: float = 0.0, idle: float = 0.0,
                 max_seconds: float = 10.0, bufsize: int = 65536) -> list[Timeline]:
    """GET ``url`` ``requests`` times on ONE connection with a plain socket; a Timeline each.

    Every Read is one ``recv()`` (``bytes`` counts the body bytes it returned, chunk framing
    included). ``read_delay`` sleeps before each ``recv()``: a busy client, whose reads then
    collect whatever arrived meanwhile. The first Timeline is a fresh connection, the others
    reuse it (keep-alive), each sent ``idle`` seconds after the previous response ended.
    The response must be chunked (HTTP/1.1 servers stream that way).
    """
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = (f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    timelines = []
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=max_seconds) as sock:
        for number in range(requests):
            if number and idle:
                time.sleep(idle)
            t0 = time.monotonic()
            sock.sendall(request)
            status, headers, rest = _read_head(sock)
            if status != 200 or "chunked" not in headers.get("transfer-encoding", ""):
                raise ProbeError(f"{url} answered {status} without a chunked body; socket_probe "
                                 "needs a streamed HTTP/1.1 response")
            rec, body, ended_by = Recorder(t0), _Dechunker(), "eof"
            if rest:
                rec.feed(body.feed(rest), time.monotonic(), wire_bytes=len(rest))
            while not body.done:
                if time.monotonic() - t0 > max_seconds:
                    ended_by = "max_seconds"
                    break
                if read_delay:
                    time.sleep(read_delay)
                data = sock.recv(bufsize)
                if not data:
                    ended_by = "cut"
                    break
                rec.feed(body.feed(data), time.monotonic(), wire_bytes=len(data))
            timelines.append(rec.timeline(url, status, headers, ended_by))
            if ended_by != "eof":
                break
    return timelines


def server_tcp_nodelay(port: int) -> dict[int, bool]:
    """TCP_NODELAY of every established connection this process serves on ``port``.

    Keyed by the client's port. Reads the kernel socket itself (through a duplicate of its
    file descriptor), so it shows what asyncio or uvloop set, whatever the Python wrapper.
    """
    import psutil  # only this helper needs it

    found = {}
    for conn in psutil.Process().net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_ESTABLISHED:
            with socket.socket(fileno=os.dup(conn.fd)) as dup:
                found[conn.raddr.port] = bool(dup.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    return found


@dataclass(frozen=True)
class ResponseHead:
    """A response's status line and headers as they came off the socket, and the framing they give."""

    text: str

    @property
    def framing(self) -> str:
        """``chunked``, ``content-length`` or ``close-delimited``: how the body's end is marked."""
        fields = [line.lower().replace(" ", "") for line in self.text.split("\r\n")[1:]]
        if any(f.startswith("transfer-encoding:") and "chunked" in f for f in fields):
            return "chunked"
        return "content-length" if any(f.startswith("content-length:") for f in fields) else "close-delimited"

    def lines(self, name: str) -> list[str]:
        """Every header line called ``name`` (case-insensitive), as sent."""
        return [line for line in self.text.split("\r\n")[1:] if line.lower().startswith(name.lower() + ":")]

    def __str__(self) -> str:
        return self.text


def response_head(port: int, target: str = "/events?n=1", version: str = "1.0") -> ResponseHead:
    """Ask 127.0.0.1:``port`` for ``target`` in HTTP/``version`` with a plain socket; return the head.

    What an upstream sends to nginx, which asks in HTTP/1.0 unless told otherwise (notebook 04).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/{version}\r\nHost: lab\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            more = s.recv(4096)
            if not more:
                break
            data += more
    return ResponseHead(data.split(b"\r\n\r\n")[0].decode("latin-1"))
