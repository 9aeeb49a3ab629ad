"""HTTPS and HTTP/2 on the path (notebook 07): hypercorn over TLS, nginx's TLS buffer, HTTP/2 flow
control, hop-by-hop headers, and the browser's per-host connection limit in real Chromium.

The effects are all-or-nothing (held vs real-time, 6 vs 8 connections), so the checks are too.
"""

import asyncio
import threading

import psutil
import pytest

import sselab
from servers import flow_control, hop_by_hop, many_streams, ticker
from sselab._connections import many_streams_result


@pytest.fixture
def certs():
    certificates = sselab.lab_certificates("test-h2")
    yield certificates
    sselab.stop_all()


def test_hypercorn_speaks_http2_and_http11_over_tls_on_loopback_and_stops(certs):
    server = sselab.serve_hypercorn(ticker.app, name="test-h2-hypercorn", tls=certs)
    assert server.url.startswith("https://127.0.0.1:") and server in sselab.running_servers()
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process().net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == server.port}
    assert listening == {("127.0.0.1", server.port)}
    for http2, version in ((True, "HTTP/2"), (False, "HTTP/1.1")):
        t = sselab.probe(server.url + "/events?n=10&interval=0.02", http2=http2, verify=certs.ca_path)
        assert (t.http_version, t.verdict, len(t.events)) == (version, "real-time", 10), t.reason
    sselab.stop_all()
    assert not server.running and not any(t.name.startswith("sselab-hypercorn") for t in threading.enumerate())


@pytest.mark.slow
def test_nginx_tls_buffer_holds_a_buffered_stream_over_http11_but_not_http2(certs, needs_nginx):
    upstream = sselab.serve(ticker.app, name="test-h2-upstream", http="httptools")
    url = "/events?n=12&interval=0.05&pad=300"
    plain = sselab.NginxProxy(upstream, name="test-h2-plain").start()
    h1 = sselab.NginxProxy(upstream, name="test-h2-tls", tls=certs).start()
    h2 = sselab.NginxProxy(upstream, name="test-h2-tls2", tls=certs, http2=True).start()
    assert sselab.probe(plain.url + url).verdict == "real-time"
    held = sselab.probe(h1.url + url, verify=certs.ca_path)
    assert held.verdict == "held-until-end", held.reason
    assert held.headers_at > 0.4, "even the headers wait in the TLS buffer"
    assert "ssl_buffer_size" in str(sselab.diagnose(held))
    assert sselab.probe(h2.url + url, http2=True, verify=certs.ca_path).verdict == "real-time"


@pytest.mark.slow
def test_an_unread_http2_stream_stops_its_neighbour_not_a_stream_on_its_own_connection(certs):
    server = sselab.serve_hypercorn(flow_control.app, name="test-h2-flow", tls=certs)
    result = asyncio.run(sselab.aflow_control(server.url, flow_control.PROGRESS, verify=certs.ca_path,
                                              mb=40, max_seconds=3))
    assert result.same_connection.verdict == "cut" and len(result.same_connection.events) < 15, result
    assert result.own_connection.verdict == "real-time" and len(result.own_connection.events) == 20, result
    assert not result.app_stopped, "hypercorn 0.18 buffers without limit: the app never stops"


def test_hop_by_hop_headers_pass_http11_are_stripped_on_http2_and_break_a_strict_client(certs):
    server = sselab.serve_hypercorn(hop_by_hop.app, name="test-h2-hop", tls=certs)

    async def both():
        return [await sselab.ahop_headers(server.url + "/events", label="h", http2=h2, verify=certs.ca_path)
                for h2 in (False, True)]

    h1, h2 = asyncio.run(both())
    assert (h1.http_version, h1.received.get("connection")) == ("HTTP/1.1", "keep-alive")
    assert (h2.http_version, h2.received) == ("HTTP/2", {})
    assert "Connection-specific header" in sselab.h2_client_rejects({"connection": "keep-alive"})
    assert sselab.h2_client_rejects({"cache-control": "no-cache"}) is None


def test_many_streams_counts_who_waited_from_the_times_alone():
    page = {"streams": [{"index": i, "opened": 50.0 + i if i < 6 else 700.0, "first": 60.0 + i, "events": 5}
                        for i in range(8)]}
    run = many_streams_result("HTTP/1.1", "u", page, 5)
    assert (run.opened_at_once, [s.index for s in run.waited], run.complete) == (6, [6, 7], True)
    page["streams"][7]["opened"] = None
    assert [s.index for s in many_streams_result("x", "u", page, 5).waited] == [6, 7]


def test_a_stream_waited_only_if_it_opened_after_another_had_ended():
    # a busy machine (seen in a run of 07): six connections, answered slowly, 50-300 ms apart;
    # the last two open only when streams 0 and 1 end and free their connections
    opened = [50, 130, 240, 300, 302, 305, 693, 700]
    page = {"streams": [{"index": i, "opened": float(t), "first": t + 20.0, "events": 5,
                         "ended": t + 620.0 if i < 6 else t + 640.0} for i, t in enumerate(opened)]}
    run = many_streams_result("HTTP/1.1", "u", page, 5)
    assert (run.opened_at_once, [s.index for s in run.waited]) == (6, [6, 7])
    for stream in page["streams"]:  # HTTP/2: all open at once, however slowly, before any ends
        stream["opened"] = stream["index"] * 40.0
        stream["ended"] = stream["opened"] + 620.0
    assert many_streams_result("HTTP/2", "u", page, 5).waited == []


@pytest.mark.slow
def test_chromium_opens_six_event_sources_per_host_on_http11_and_all_on_http2(certs, needs_chromium, needs_nginx):
    upstream = sselab.serve(many_streams.app, name="test-h2-many", http="httptools")
    h2 = sselab.NginxProxy(upstream, name="test-h2-many-nginx", tls=certs, http2=True, proxy_buffering=False).start()

    async def run():
        async with sselab.HeadlessBrowser(trust=certs) as browser:
            return (await sselab.aopen_many(browser, upstream.url, label="HTTP/1.1"),
                    await sselab.aopen_many(browser, h2.url, label="HTTP/2"))

    http11, http2 = asyncio.run(run())
    assert http11.complete and http2.complete
    assert (http11.opened_at_once, len(http11.waited)) == (6, 2), http11
    assert (http2.opened_at_once, len(http2.waited)) == (8, 0), http2
