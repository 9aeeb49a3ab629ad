"""Reliability: nothing the lab starts outlives it, listens beyond 127.0.0.1, or hangs on a bad peer.

Issue 9. The notebooks' twice-in-one-kernel runs are in test_notebooks.py; the SIGKILLed
Python process is in test_nginx.py. Here: start/stop cycles, a SIGKILLed Jupyter kernel,
nginx started from a short-lived thread, loopback-only binding of every specimen, the probe
against bad peers, and a client that leaves mid-stream.
"""

import contextlib
import gc
import importlib
import os
import pkgutil
import re
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

import servers
import sselab
from servers import concurrency_patterns, ticker

ROOT = Path(__file__).resolve().parent.parent
ME = psutil.Process()


def children():
    """Live child processes of this process (a reaped or zombie child is gone)."""
    alive = []
    for child in ME.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child.pid)
    return sorted(alive)


def listening():
    return sorted((c.laddr.ip, c.laddr.port) for c in ME.net_connections("inet")
                  if c.status == psutil.CONN_LISTEN)


def snapshot() -> dict:
    gc.collect()  # a socket closed only by its finaliser is not a leak we care about
    return {"threads": sorted(t.ident for t in threading.enumerate()), "fds": ME.num_fds(),
            "listening": listening(), "children": children(),
            "connections": sorted(str(c.laddr) + str(c.raddr) for c in ME.net_connections("inet")
                                  if c.status != psutil.CONN_LISTEN)}


def settled(before: dict, seconds: float = 3.0) -> dict:
    """The snapshot, once it equals ``before`` (TIME_WAIT-free states may take a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        now = snapshot()
        if now == before or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


# -- start/stop cycles -----------------------------------------------------------------------
@pytest.mark.slow
def test_100_server_cycles_leave_nothing_behind():
    with sselab.serve(ticker.app, name="reliability-warmup"):
        pass  # first start imports and creates what stays for the process's life
    before = snapshot()
    with httpx.Client(trust_env=False) as client:
        for i in range(100):
            server = sselab.serve(ticker.app, name="reliability-cycle")
            if i % 10 == 0:
                assert client.get(server.url + "/events?n=2&interval=0").text.count("data:") == 2
            server.stop()
    assert settled(before) == before


@pytest.mark.slow
def test_100_nginx_cycles_leave_nothing_behind(needs_nginx):
    with sselab.BackgroundServer(ticker.app, name="reliability-upstream") as upstream:
        with sselab.NginxProxy(upstream, name="reliability-warmup"):
            pass
        before = snapshot()
        for i in range(100):
            proxy = sselab.NginxProxy(upstream, name="reliability-nginx", proxy_buffering=False).start()
            if i % 10 == 0:
                body = httpx.get(proxy.url + "/events?n=2&interval=0", trust_env=False).text
                assert body.count("data:") == 2
            prefix = proxy.prefix
            proxy.stop()
            assert not prefix.exists()
        after = settled(before)
    assert after == before


def test_nginx_started_from_a_short_lived_thread_keeps_running(ticker_server, needs_nginx):
    # PR_SET_PDEATHSIG follows the thread that forked: nginx must not die with a worker thread.
    started = []
    worker = threading.Thread(target=lambda: started.append(
        sselab.NginxProxy(ticker_server, name="reliability-thread", proxy_buffering=False).start()))
    worker.start()
    worker.join()
    proxy = started[0]
    try:
        time.sleep(0.3)
        assert proxy.running, "nginx died with the thread that started it"
        assert httpx.get(proxy.url + "/events?n=2&interval=0", trust_env=False).text.count("data:") == 2
    finally:
        proxy.stop()


@pytest.mark.slow
def test_killed_jupyter_kernel_leaves_no_nginx(needs_nginx):
    jupyter_client = pytest.importorskip("jupyter_client")
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        reply = []
        kc.execute_interactive(
            "import os, sselab\nproxy = sselab.NginxProxy('http://127.0.0.1:9', name='kernel').start()\n"
            "print(os.getpid(), proxy._process.pid)", timeout=30,
            output_hook=lambda msg: reply.append(msg["content"].get("text", "")))
        kernel_pid, nginx_pid = map(int, "".join(reply).split())
        nginx = psutil.Process(nginx_pid)
        assert nginx.name() == "nginx"
        os.kill(kernel_pid, signal.SIGKILL)  # no atexit, no cleanup code runs in the kernel
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                if nginx.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.01)
        else:
            nginx.kill()
            pytest.fail("nginx outlived the SIGKILLed kernel that started it by more than 2 s")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# -- loopback only ---------------------------------------------------------------------------
def specimen_apps():
    for info in pkgutil.iter_modules(servers.__path__):
        module = importlib.import_module(f"servers.{info.name}")
        if callable(getattr(module, "app", None)):
            yield info.name, module.app


@pytest.mark.slow
def test_every_specimen_app_listens_on_loopback_only():
    apps = dict(specimen_apps())
    assert "ticker" in apps and "concurrency_patterns" in apps
    started = []
    try:
        for name, app in apps.items():
            started.append(sselab.serve(app, name=f"reliability-bind-{name}"))
        ports = {s.port for s in started}
        mine = [(ip, port) for ip, port in listening() if port in ports]
        assert sorted(port for _, port in mine) == sorted(ports)
        assert {ip for ip, _ in mine} == {"127.0.0.1"}, mine
        assert all(ip in ("127.0.0.1", "::1") for ip, _ in listening()), listening()
    finally:
        sselab.stop_all()


def test_nginx_listens_on_loopback_only(ticker_server, needs_nginx):
    with sselab.NginxProxy(ticker_server, name="reliability-bind-nginx") as proxy:
        nginx = psutil.Process(proxy._process.pid)
        port = proxy.port
        addresses = {(c.laddr.ip, c.laddr.port) for c in nginx.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
    assert addresses == {("127.0.0.1", port)}, addresses


def test_no_source_names_a_wildcard_address():
    # host="0.0.0.0" / host="" / ("::", port) / --host 0.0.0.0 / nginx "listen 8080;"
    wildcard = re.compile(r"""(host\s*=\s*|(bind|create_server)\(\(\s*)["'](::|)["']"""
                          r"""|["']0\.0\.0\.0["']|--host[ =]0\.0\.0\.0|listen\s+\d+;""")
    sources = [*ROOT.glob("servers/**/*.py"), *ROOT.glob("sselab/*.py"), *ROOT.glob("benchmarks/*.py"),
               *ROOT.glob("sselab/templates/*")]
    offenders = [str(p.relative_to(ROOT)) for p in sources if wildcard.search(p.read_text())]
    assert not offenders
    listen = re.findall(r"^\s*listen\s+(\S+);", (ROOT / "sselab/templates/nginx.conf").read_text(), re.MULTILINE)
    assert listen and all(value.startswith("127.0.0.1:") for value in listen), listen


# -- the probe against bad peers -------------------------------------------------------------
SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")


@contextlib.contextmanager
def bad_peer(handler):
    """A raw TCP peer on 127.0.0.1 running ``handler(conn)`` per connection; joined on exit."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop, threads, conns = threading.Event(), [], []

    def serve(conn):
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)  # the request
            handler(conn, stop)

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            threads.append(threading.Thread(target=serve, args=(conn,), name="bad-peer-conn"))
            threads[-1].start()

    acceptor = threading.Thread(target=accept, name="bad-peer")
    acceptor.start()
    peer = {"url": f"http://127.0.0.1:{listener.getsockname()[1]}", "threads": threads}
    try:
        yield peer
    finally:
        stop.set()
        acceptor.join(2)
        listener.close()
        for t in threads:
            t.join(3)
        assert not any(t.is_alive() for t in [acceptor, *threads]), "a bad peer did not stop"


def peer_gone(peer, seconds=2.0):
    """The peer's connection threads ended: the probe's socket was closed, not left open."""
    deadline = time.monotonic() + seconds
    while any(t.is_alive() for t in peer["threads"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not any(t.is_alive() for t in peer["threads"])


def until_client_leaves(conn, stop):
    conn.settimeout(0.05)
    while not stop.is_set():
        try:
            if conn.recv(1) == b"":
                return
        except TimeoutError:
            continue


def headers_then_silence(conn, stop):
    conn.sendall(SSE_HEAD)
    until_client_leaves(conn, stop)


def one_huge_event(conn, stop):
    conn.sendall(SSE_HEAD + b"data: " + b"x" * 10_000_000 + b"\n\n")


def invalid_utf8(conn, stop):
    conn.sendall(SSE_HEAD + b"data: \xff\xfe broken\n\n"
                 + b'data: {"seq": 1, "sent": 1.0, "note": "\xc3("}\n\n' + b"data: fine\n\n")


def endless(conn, stop):
    conn.sendall(SSE_HEAD)
    seq = 0
    while not stop.is_set():
        conn.sendall(f"data: {seq}\n\n".encode())  # raises once the client has gone
        seq += 1


def endless_html(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>")
    while not stop.is_set():
        conn.sendall(b"<p>not a stream</p>" * 100)


def not_http(conn, stop):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")


def cut_mid_event(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"c\r\ndata: one\n\n\r\n" + b"5\r\ndata:")  # then the connection closes mid-chunk


@pytest.fixture
def nothing_left():
    before = snapshot()
    yield
    after = settled(before)
    assert after == before
    # run_blocking's worker thread (sselab.probe) is gone
    assert not [t.name for t in threading.enumerate() if t.name.startswith("sselab-blocking")]


def timed_probe(url, **options):
    start = time.monotonic()
    t = sselab.probe(url, **options)
    return t, time.monotonic() - start


def test_headers_then_silence_ends_at_max_seconds(nothing_left):
    with bad_peer(headers_then_silence) as peer:
        t, took = timed_probe(peer["url"], max_seconds=0.5)
        assert t.ended_by == "max_seconds" and not t.events and t.verdict == "unknown"
        assert "only 0 event(s) arrived" in t.reason
        assert took < 2.5
        assert peer_gone(peer)


def test_a_single_10_mb_event_is_parsed_in_bounded_time(nothing_left):
    with bad_peer(one_huge_event) as peer:
        t, took = timed_probe(peer["url"], max_seconds=20)
        assert t.ended_by == "eof" and len(t.events) == 1 and took < 15
        assert t.events[0].bytes == 10_000_008 and len(t.events[0].data) <= 2001
        t, _ = timed_probe(peer["url"], max_bytes=1_000_000)
        assert t.ended_by == "max_bytes" and not t.events
        assert peer_gone(peer)


def test_invalid_utf8_is_replaced_not_fatal(nothing_left):
    with bad_peer(invalid_utf8) as peer:
        t = sselab.probe(peer["url"], max_seconds=5)
    assert [e.data for e in t.events][2] == "fine" and len(t.events) == 3
    assert "\ufffd" in t.events[0].data and "\ufffd" in t.events[1].data
    assert t.ended_by == "eof"


@pytest.mark.parametrize("limit, ended_by", [
    ({"max_seconds": 0.5}, "max_seconds"), ({"max_events": 1000}, "max_events"),
    ({"max_bytes": 200_000}, "max_bytes")])
def test_an_endless_stream_stops_at_each_limit(limit, ended_by, nothing_left):
    with bad_peer(endless) as peer:
        t, took = timed_probe(peer["url"], **limit)
        assert t.ended_by == ended_by and took < 3
        assert peer_gone(peer), "the probe left its connection open"


@pytest.mark.parametrize("handler, message", [
    (endless_html, "not 'text/event-stream'"),
    (not_http, "did not answer with HTTP"),
])
def test_wrong_kind_of_peer_gives_one_paragraph(handler, message, nothing_left):
    with bad_peer(handler) as peer:
        start = time.monotonic()
        with pytest.raises(sselab.ProbeError, match=message) as info:
            sselab.probe(peer["url"], max_seconds=5)
        assert time.monotonic() - start < 3
        assert "\n" not in str(info.value)
        assert peer_gone(peer)


def test_connection_cut_mid_event_is_reported_as_cut(nothing_left):
    with bad_peer(cut_mid_event) as peer:
        t = sselab.probe(peer["url"], max_seconds=5)
    assert t.ended_by == "cut" and [e.data for e in t.events] == ["one"]


# -- a client that leaves mid-stream ---------------------------------------------------------
@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_recommended_pattern_stops_producing_when_the_client_leaves(http):
    streams = concurrency_patterns.streams
    with sselab.BackgroundServer(concurrency_patterns.app, name=f"reliability-leave-{http}", http=http) as server:
        open_before = streams["open"]
        with httpx.Client(trust_env=False) as client, \
                client.stream("GET", server.url + "/recommended?n=100000&interval=0.02") as response:
            chunks, seen = response.iter_raw(), b""  # (breaking out of iter_raw would close it)
            while seen.count(b"\n\n") < 3:
                seen += next(chunks)
            assert streams["open"] == open_before + 1
        left = time.monotonic()
        while streams["open"] > open_before and time.monotonic() - left < 1.0:
            time.sleep(0.005)
        stopped_after = time.monotonic() - left
        produced = streams["produced"]
        time.sleep(0.2)  # ten intervals: a live generator would have produced more
        assert streams["open"] == open_before, f"the generator still runs {stopped_after:.2f} s later"
        assert streams["produced"] == produced
