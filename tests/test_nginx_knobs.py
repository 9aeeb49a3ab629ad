"""notebooks/04_nginx.ipynb's outcomes, with a real nginx: what holds a stream, what fixes it.

Wide margins: "held" means not real-time and most events in the last burst; "fixed" means
the probe's verdict is real-time. Streams are short (10 events, 50 ms apart).
"""

import ast
from pathlib import Path

import httpx
import pytest

import sselab
from servers import article_headers, heartbeat

STREAM = "/events?n=10&interval=0.05"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def h11():
    with sselab.BackgroundServer(article_headers.app, name="knobs-h11", http="h11") as server:
        yield server


@pytest.fixture
def httptools():
    with sselab.BackgroundServer(article_headers.app, name="knobs-httptools", http="httptools") as server:
        yield server


def through(upstream, path=STREAM, **knobs):
    with sselab.NginxProxy(upstream, name="knobs-nginx", **knobs) as proxy:
        return sselab.probe(proxy.url + path)


def held(t):
    return t.verdict != "real-time" and t.summary["largest_burst"] >= 8


def test_defaults_hold_a_close_delimited_h11_stream(h11, needs_nginx):
    t = through(h11)
    assert held(t), t.reason


def test_defaults_pass_a_chunked_httptools_stream(httptools, needs_nginx):
    t = through(httptools)
    assert t.verdict == "real-time", t.reason


@pytest.mark.parametrize("knobs, query", [
    ({"proxy_buffering": False}, ""),
    ({"proxy_http_version": "1.1"}, ""),
    ({}, "&send=x-accel-buffering"),
    ({}, "&send=all"),
], ids=["proxy_buffering-off", "proxy_http_version-1.1", "x-accel-buffering-no", "all-three-headers"])
def test_fixes_make_h11_real_time(h11, needs_nginx, knobs, query):
    t = through(h11, STREAM + query, **knobs)
    assert t.verdict == "real-time", t.reason


@pytest.mark.parametrize("header", ["cache-control", "connection"])
def test_cache_control_or_connection_alone_do_not_unbuffer(h11, needs_nginx, header):
    t = through(h11, STREAM + f"&send={header}")
    assert held(t), t.reason


def test_connection_header_never_reaches_the_client(httptools, needs_nginx):
    with sselab.NginxProxy(httptools, name="knobs-nginx") as proxy:
        response = httpx.get(proxy.url + "/events?n=1&send=all", trust_env=False)
    assert response.headers.get_list("connection") == ["keep-alive"]  # nginx's own, for the client
    assert "x-accel-buffering" not in response.headers  # proxy_hide_header default
    assert response.headers["cache-control"] == "no-cache"


def test_big_events_arrive_one_buffer_at_a_time(h11, needs_nginx):
    t = through(h11, STREAM + "&pad=1000")
    assert t.verdict == "batched", t.reason
    assert 2 <= t.summary["largest_burst"] <= 6
    assert max(r.bytes for r in t.reads) <= 2 * 4096


@pytest.mark.slow
def test_cache_replays_and_no_cache_header_prevents_it(httptools, needs_nginx):
    extra = "add_header X-Cache-Status $upstream_cache_status always;"
    with sselab.NginxProxy(httptools, name="knobs-nginx", proxy_cache=True, extra=extra) as proxy:
        first, second = (sselab.probe(proxy.url + STREAM) for _ in range(2))
        guarded = [sselab.probe(proxy.url + STREAM + "&send=cache-control") for _ in range(2)]
    assert first.headers["x-cache-status"] == "MISS" and second.headers["x-cache-status"] == "HIT"
    assert second.events[0].sent < 0  # sent before the second request: a replay
    assert [t.headers["x-cache-status"] for t in guarded] == ["MISS", "MISS"]
    assert guarded[1].events[0].sent > 0


@pytest.mark.parametrize("buffering, most_reads", [(None, 2), (False, None)], ids=["buffered", "unbuffered"])
def test_gzip_holds_a_buffered_stream_even_chunked(httptools, needs_nginx, buffering, most_reads):
    with sselab.NginxProxy(httptools, name="knobs-nginx", gzip=True, proxy_buffering=buffering) as proxy:
        t = sselab.probe(proxy.url + STREAM, accept_encoding="gzip")
    assert t.headers.get("content-encoding") == "gzip"
    spread = t.reads[-1].t - t.reads[0].t
    if most_reads:  # everything compressed at the end
        assert len(t.reads) <= most_reads and t.reads[0].t > 0.3, t.reads
    else:  # one compressed piece per event, as they are sent
        assert len(t.reads) >= 8 and spread > 0.3, t.reads


GAP = "/events?n=6&interval=0.05&gap=1.5"


@pytest.fixture(params=["h11", "httptools"])
def silent(request):
    with sselab.BackgroundServer(heartbeat.app, name="knobs-heartbeat", http=request.param) as server:
        yield server


def test_short_read_timeout_cuts_a_silent_stream(silent, needs_nginx):
    t = through(silent, GAP, proxy_read_timeout="1s", proxy_buffering=False)
    assert t.ended_by == "cut" or len(t.events) < 6
    assert len(t.events) <= 3


@pytest.mark.slow
def test_heartbeats_keep_it_open(silent, needs_nginx):
    t = through(silent, GAP + "&heartbeat=0.25", proxy_read_timeout="1s", proxy_buffering=False)
    assert t.ended_by == "eof" and len(t.events) == 6 and t.comments >= 3


@pytest.mark.slow
def test_send_timeout_does_not_cut_a_response(silent, needs_nginx):
    t = through(silent, GAP, proxy_send_timeout="1s", proxy_buffering=False)
    assert t.ended_by == "eof" and len(t.events) == 6


def test_article_headers_send_parameter(h11):
    response = httpx.get(h11.url + "/events?n=1&send=all", trust_env=False)
    for name, value in article_headers.ARTICLE_HEADERS.items():
        if name != "Connection":  # h11 rewrites Connection for an HTTP/1.1 client
            assert response.headers[name] == value
    plain = httpx.get(h11.url + "/events?n=1", trust_env=False)
    assert "x-accel-buffering" not in plain.headers
    assert httpx.get(h11.url + "/events?n=1&send=nope", trust_env=False).status_code == 400


def test_heartbeat_specimen_sends_comments_only_when_asked():
    with sselab.BackgroundServer(heartbeat.app, name="knobs-heartbeat-direct") as server:
        quiet = sselab.probe(server.url + "/events?n=4&interval=0&gap=0.3")
        pinged = sselab.probe(server.url + "/events?n=4&interval=0&gap=0.3&heartbeat=0.1")
    assert (len(quiet.events), quiet.comments) == (4, 0)
    assert len(pinged.events) == 4 and 1 <= pinged.comments <= 3
    gap = pinged.events[2].sent - pinged.events[1].sent
    assert gap >= 0.25


def test_solution_compiles():
    source = (ROOT / "notebooks/solutions/04_nginx.py").read_text()
    compile(source, "04_nginx.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
