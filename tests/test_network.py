"""Notebook 03's claims: TCP_NODELAY on uvicorn's sockets, the one Nagle/delayed-ACK delay,
reads that are not events, GZipMiddleware on streams; and the raw server and probe helpers.

Timing margins: the Nagle/delayed-ACK delay is >= 40 ms (Linux TCP_ATO_MIN), a prompt
event well under 1 ms; the tests split them at 20-30 ms.
"""

import ast
import asyncio
import socket
import threading
from importlib.metadata import version
from pathlib import Path

import pytest

import sselab
from servers import gzip_stream, net_pieces, net_raw
from sselab._wire import _Dechunker

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not hasattr(socket, "TCP_NODELAY") or __import__("sys").platform != "linux",
                                reason="the delayed-ACK timings are Linux's")


def netraw_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith("sselab-netraw")]


@pytest.fixture
def raw():
    server = net_raw.serve("test-raw")
    yield server
    net_raw.stop()
    assert not netraw_threads()


def open_stream_and_read_nodelay(port, path):
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: lab\r\n\r\n".encode())
        client.recv(4096)
        return list(sselab.server_tcp_nodelay(port).values())


def test_dechunker_undoes_chunking_wherever_the_reads_split():
    body = b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n"
    for step in (1, 2, 3, 7, len(body)):
        d = _Dechunker()
        out = b"".join(d.feed(body[i:i + step]) for i in range(0, len(body), step))
        assert out == b"hello world!" and d.done, step


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_uvicorn_connections_have_tcp_nodelay(http):
    with sselab.BackgroundServer(net_pieces.app, http=http) as server:
        assert open_stream_and_read_nodelay(server.port, "/events?n=3&interval=0.2") == [True]


def test_raw_server_switches_tcp_nodelay(raw):
    assert open_stream_and_read_nodelay(raw.port, "/events?n=3&gap=0.2&nodelay=0") == [False]
    assert open_stream_and_read_nodelay(raw.port, "/events?n=3&gap=0.2&nodelay=1") == [True]


@linux_only
def test_nagle_on_delays_the_start_of_a_reused_response_only(raw):
    url = raw.url + "/events?n=3&gap=0.05&writes=1&nodelay={}"
    fresh, reused = sselab.socket_probe(url.format(0), requests=2)
    assert fresh.events[0].delay < 0.020 and reused.events[0].delay > 0.030
    assert max(e.delay for e in reused.events[1:]) < 0.020  # the gap outlasts the held start
    _, reused_nodelay = sselab.socket_probe(url.format(1), requests=2)
    assert reused_nodelay.events[0].delay < 0.020
    _, reused_after_idle = sselab.socket_probe(url.format(0), requests=2, idle=0.15)
    assert reused_after_idle.events[0].delay < 0.020  # no ping-pong mode, no delayed ACK


def test_uvicorn_two_writes_per_event_on_a_reused_connection_is_not_delayed():
    with sselab.BackgroundServer(net_pieces.app) as server:
        fresh, reused = sselab.socket_probe(server.url + "/events?n=4&interval=0.05&pieces=2", requests=2)
    assert [e.seq for e in reused.events] == [0, 1, 2, 3]
    assert max(e.delay for e in fresh.events + reused.events) < 0.020


def test_reads_do_not_follow_event_boundaries():
    with sselab.BackgroundServer(net_pieces.app) as server:
        busy = sselab.socket_probe(server.url + "/events?n=50&interval=0", read_delay=0.02)[0]
        split = sselab.probe(server.url + "/events?n=5&interval=0.02&pieces=3&pause=0.01")
    assert [e.seq for e in busy.events] == list(range(50))
    assert len(busy.reads) < 25  # several events per read
    assert [e.seq for e in split.events] == list(range(5))
    assert len(split.reads) == 15  # one event over three pieces


def test_socket_probe_refuses_a_response_it_cannot_stream(raw):
    with pytest.raises(sselab.ProbeError):
        sselab.socket_probe(raw.url + "/nothing-here")


GZIP = {"accept_encoding": "gzip", "require_event_stream": False}


def test_gzip_middleware_passes_an_event_stream_uncompressed_and_on_time():
    with sselab.BackgroundServer(gzip_stream.app) as server:
        t = asyncio.run(sselab.aprobe(server.url + "/events?n=6&interval=0.05", **GZIP))
    assert "content-encoding" not in t.headers
    assert len(t.events) == 6 and t.verdict == "real-time", t.reason


@pytest.mark.skipif(tuple(int(x) for x in version("starlette").split(".")[:2]) < (1, 5),
                    reason="Starlette flushes streamed gzip output per chunk since 1.5.0")
def test_gzip_middleware_compresses_streamed_text_chunk_by_chunk():
    with sselab.BackgroundServer(gzip_stream.app) as server:
        text = asyncio.run(sselab.aprobe(server.url + "/text?n=6&interval=0.05", **GZIP))
    with sselab.BackgroundServer(gzip_stream.gzip_app(exclude_content_types=())) as server:
        sse = asyncio.run(sselab.aprobe(server.url + "/events?n=6&interval=0.05", **GZIP))
    for t in (text, sse):
        assert t.headers.get("content-encoding") == "gzip"
        assert len(t.events) == 6 and t.verdict == "real-time", t.reason
        assert len(t.reads) >= 6  # a compressed piece per event, not one at the end


def test_raw_server_stops_with_a_stream_open_and_frees_its_port():
    server = net_raw.serve("test-raw-stop")
    port = server.port
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"GET /events?n=100&gap=1 HTTP/1.1\r\nHost: lab\r\n\r\n")
        client.recv(4096)
        assert netraw_threads()
        replacement = net_raw.serve("test-raw-stop")  # same name: the old one stops first
        assert server.stopping.is_set() and replacement.port != port
        net_raw.stop("test-raw-stop")
    assert not netraw_threads()
    with socket.socket() as probe_port:  # no listener left (TIME_WAIT of the cut stream allowed)
        probe_port.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe_port.bind(("127.0.0.1", port))


def test_specimens_bind_loopback_only():
    for path in (ROOT / "servers").glob("net_*.py"):
        assert "0.0.0.0" not in path.read_text()
    with net_raw.RawSSEServer() as server:
        assert server.listener.getsockname()[0] == "127.0.0.1"


def test_solution_compiles_with_top_level_await():
    source = (ROOT / "notebooks/solutions/03_network.py").read_text()
    compile(source, "03_network.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
