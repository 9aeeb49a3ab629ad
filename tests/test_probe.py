"""The probe against servers whose behaviour is known, and its one-paragraph errors."""

import socket
import threading

import pytest

import sselab
from servers import encoded_stream, gzip_stream


def test_ticker_direct_is_real_time(ticker_server):
    t = sselab.probe(ticker_server.url + "/events?n=12&interval=0.05")
    assert t.verdict == "real-time", t.reason
    assert [e.seq for e in t.events] == list(range(12))
    assert t.clock == "shared" and t.summary["median_delay"] < 0.02


def test_held_endpoint_is_held_until_end(ticker_server):
    t = sselab.probe(ticker_server.url + "/held?n=12&interval=0.05")
    assert t.verdict == "held-until-end", t.reason


def test_default_nginx_with_h11_upstream_is_not_real_time(needs_nginx):
    from servers import ticker
    with sselab.BackgroundServer(ticker.app, http="h11") as server, sselab.NginxProxy(server) as proxy:
        t = sselab.probe(proxy.url + "/events?n=12&interval=0.05")
    assert t.verdict != "real-time", t.reason


def test_nginx_without_buffering_is_real_time(ticker_server, needs_nginx):
    with sselab.NginxProxy(ticker_server, proxy_buffering=False) as proxy:
        t = sselab.probe(proxy.url + "/events?n=12&interval=0.05")
    assert t.verdict == "real-time", t.reason


def test_aprobe_is_a_coroutine_for_top_level_await(ticker_server):
    import asyncio

    t = asyncio.run(sselab.aprobe(ticker_server.url + "/events?n=3&interval=0"))
    assert len(t.events) == 3


def test_probe_works_when_a_loop_is_already_running(ticker_server):
    import asyncio

    async def inside():
        return sselab.probe(ticker_server.url + "/events?n=3&interval=0")

    assert len(asyncio.run(inside()).events) == 3


def test_max_events_and_max_seconds_stop_an_endless_stream(ticker_server):
    t = sselab.probe(ticker_server.url + "/events?n=10000&interval=0.01", max_events=5)
    assert len(t.events) == 5 and t.ended_by == "max_events"
    t = sselab.probe(ticker_server.url + "/events?n=10000&interval=0.01", max_seconds=0.5)
    assert t.ended_by == "max_seconds" and 10 < len(t.events) < 100


@pytest.mark.parametrize("path, message", [
    ("/nope", "HTTP 404"),
    ("/docs", "not 'text/event-stream'"),
    ("/events?n=0", "HTTP 422"),
])
def test_bad_endpoints_raise_one_paragraph(ticker_server, path, message):
    with pytest.raises(sselab.ProbeError, match=message) as info:
        sselab.probe(ticker_server.url + path)
    assert "\n" not in str(info.value)


def test_refused_connection():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(sselab.ProbeError, match="connection failed"):
        sselab.probe(f"http://127.0.0.1:{port}/events")


def test_silent_server_times_out_with_a_reason():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        with pytest.raises(sselab.ProbeError, match="no response headers within 0.5 s"):
            sselab.probe(f"http://127.0.0.1:{listener.getsockname()[1]}/", max_seconds=0.5)
    finally:
        for conn, _ in accepted:
            conn.close()
        listener.close()


def test_a_gzip_encoded_stream_is_parsed_and_its_reads_count_wire_bytes(needs_nginx):
    from servers import ticker
    with sselab.BackgroundServer(ticker.app) as server, \
            sselab.NginxProxy(server, gzip=True, proxy_buffering=False, proxy_http_version="1.1") as proxy:
        t = sselab.probe(proxy.url + "/events?n=8&interval=0.03", accept_encoding="gzip")
    assert t.headers.get("content-encoding") == "gzip"
    assert [e.seq for e in t.events] == list(range(8))
    assert sum(r.bytes for r in t.reads) < sum(e.bytes for e in t.events)  # compressed on the wire


# -- encodings: decoded when asked for, refused clearly when not decodable ------------------------
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_every_encoding_the_probe_asks_for_is_decoded_and_on_time(encoding):
    with sselab.BackgroundServer(encoded_stream.app, name="test-encoded") as server:
        t = sselab.probe(server.url + f"/events?encoding={encoding}&n=10&interval=0.05",
                         accept_encoding=encoding)
    assert t.headers["content-encoding"] == encoding
    assert len(t.events) == 10 and t.stamped and t.verdict == "real-time", t.reason
    assert sselab.diagnose(t).layer == "none"


@pytest.mark.parametrize("encoding", ["br", "x-unknown"])
def test_an_encoding_it_cannot_undo_is_an_error_never_a_diagnosis(encoding, monkeypatch):
    if encoding == "br":  # as on a machine without the brotli package
        monkeypatch.setitem(__import__("sys").modules, "brotli", None)
    with sselab.BackgroundServer(encoded_stream.app, name="test-encoded") as server:
        with pytest.raises(sselab.ProbeError) as raised:
            sselab.probe(server.url + f"/events?encoding={encoding}&n=3&interval=0.01")
    message = str(raised.value)
    assert f"Content-Encoding: {encoding}" in message and "Accept-Encoding: identity" in message
    assert "\n" not in message and "Nothing was measured" in message


def test_by_default_the_probe_asks_for_identity():
    with sselab.BackgroundServer(encoded_stream.app, name="test-encoded") as server:
        t = sselab.probe(server.url + "/events?encoding=gzip&n=3&interval=0.01",
                         accept_encoding="gzip")
    with sselab.BackgroundServer(gzip_stream.gzip_app(exclude_content_types=()), name="test-gz") as server:
        plain = sselab.probe(server.url + "/events?n=3&interval=0.01")
        squeezed = sselab.probe(server.url + "/events?n=3&interval=0.01", accept_encoding="gzip")
    assert t.verdict == "real-time"
    assert "content-encoding" not in plain.headers and squeezed.headers["content-encoding"] == "gzip"
