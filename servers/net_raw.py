"""Server-Sent Events from a plain socket: no framework, no asyncio, no uvicorn.

What it shows (notebook 03): what TCP itself does with small writes when Nagle's algorithm
is on (the socket default) or off (``TCP_NODELAY``, which asyncio and uvloop set on every
connection uvicorn serves). Every event carries the stamp of ``servers/stamp.py``.

    GET /events?n=10&gap=0.1&writes=1&nodelay=1&pause=0

- ``n`` events, ``gap`` seconds apart;
- ``writes``: how many ``send()`` calls carry each event. 2 sends the data line, then the
  blank line that ends the event (what an app yielding the two separately does); 3 or more
  cut the event into that many equal pieces, anywhere in a line;
- ``nodelay=0`` leaves Nagle's algorithm on; ``nodelay=1`` turns it off;
- ``pause``: seconds between the writes of one event.

Responses are chunked, so a client may send its next request on the same connection
(keep-alive), as browsers and HTTP clients do.

    python -m servers.net_raw          # serves on 127.0.0.1:8002 until Ctrl-C
    curl -N 'http://127.0.0.1:8002/events?n=5&gap=0.5&writes=2&nodelay=0'

Introduced in notebooks/03_network.ipynb.
"""

import socket
import threading
from urllib.parse import parse_qs, urlsplit

from servers.stamp import stamped

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def chunk(data: bytes) -> bytes:
    """One piece of a chunked HTTP/1.1 body: its size in hex, the bytes, CRLF."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def pieces(frame: bytes, writes: int) -> list[bytes]:
    """The event as it is written: whole, line + blank line, or ``writes`` equal pieces."""
    if writes <= 1:
        return [frame]
    if writes == 2:
        return [frame[:-1], frame[-1:]]
    cuts = [len(frame) * i // writes for i in range(writes + 1)]
    return [frame[a:b] for a, b in zip(cuts, cuts[1:])]


class RawSSEServer:
    """A thread-per-connection server on 127.0.0.1; ``stop()`` closes and joins everything."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(0.1)  # the accept loop checks for stop() ten times a second
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopping = threading.Event()
        self.connections: dict[threading.Thread, socket.socket] = {}
        self.thread = threading.Thread(target=self.accept_loop, name="sselab-netraw-accept")
        self.thread.start()

    def accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            worker = threading.Thread(target=self.serve, args=(conn,), name="sselab-netraw-conn")
            self.connections = {w: c for w, c in self.connections.items() if w.is_alive()}
            self.connections[worker] = conn
            worker.start()

    def serve(self, conn: socket.socket) -> None:
        try:
            self.serve_requests(conn)
        except OSError:
            pass  # the client went away, or stop() cut the connection
        finally:
            conn.close()

    def serve_requests(self, conn: socket.socket) -> None:
        buffered = b""
        while not self.stopping.is_set():
            while b"\r\n\r\n" not in buffered:  # read one request head
                data = conn.recv(4096)
                if not data:
                    return
                buffered += data
            head, buffered = buffered.split(b"\r\n\r\n", 1)
            target = urlsplit(head.split(b" ")[1].decode())
            if target.path != "/events":
                conn.sendall(NOT_FOUND)
                continue
            self.send_events(conn, **{k: float(v[0]) for k, v in parse_qs(target.query).items()})

    def send_events(self, conn, n=10, gap=0.1, writes=1, nodelay=1, pause=0.0) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(nodelay))
        conn.sendall(HEAD)
        for seq in range(int(n)):
            if seq and self.stopping.wait(gap):
                return
            for i, piece in enumerate(pieces(stamped(seq).encode(), int(writes))):
                if i and pause:
                    self.stopping.wait(pause)
                conn.sendall(chunk(piece))
        conn.sendall(b"0\r\n\r\n")  # the end of this response; the connection stays open

    def stop(self) -> None:
        """Stop accepting, cut open connections, join every thread. Safe to call twice."""
        self.stopping.set()
        self.thread.join()
        self.listener.close()
        for worker, conn in list(self.connections.items()):
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked in recv()
            except OSError:
                pass
            worker.join()
        self.connections.clear()

    def __enter__(self) -> "RawSSEServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RawSSEServer {'stopped' if self.stopping.is_set() else self.url}>"


_RUNNING: dict[str, RawSSEServer] = {}


def serve(name: str = "net-raw") -> RawSSEServer:
    """Start a RawSSEServer; one already running under ``name`` is stopped first."""
    stop(name)
    _RUNNING[name] = RawSSEServer()
    return _RUNNING[name]


def stop(name: str | None = None) -> None:
    """Stop the server called ``name``, or every one this module started."""
    for key in [name] if name else list(_RUNNING):
        if key in _RUNNING:
            _RUNNING.pop(key).stop()


if __name__ == "__main__":
    server = RawSSEServer(8002)
    print(f"serving on {server.url}/events (Ctrl-C stops)")
    try:
        server.stopping.wait()
    except KeyboardInterrupt:
        server.stop()
