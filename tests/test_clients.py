"""Client libraries as measured by sselab.measure_client: which hand over events on time.

Margins are wide: a client that streams has events arriving one by one with a median delay
of about a millisecond; one that holds has them in one burst, hundreds of ms late.
"""

import ast
import asyncio
import os
from pathlib import Path

import httpx
import pytest

import sselab
from servers import heartbeat, ticker

ROOT = Path(__file__).resolve().parent.parent
N = 10
STREAM = f"/events?n={N}&interval=0.08&pad=100"


def streams(t):
    return len(t.events) == N and t.summary["largest_burst"] <= 3 and t.summary["median_delay"] < 0.05


def held(t):
    return len(t.events) == N and t.summary["largest_burst"] >= N - 1 and t.summary["median_delay"] > 0.15


@pytest.fixture
def needs_curl():
    if sselab.find_curl() is None:
        if os.environ.get("CI"):
            pytest.fail("curl is missing in CI; scripts/system-packages should install it")
        pytest.skip("curl is not installed")


@pytest.mark.parametrize("name", ["httpx iter_raw", "httpx iter_lines", "httpx-sse",
                                  "requests iter_lines()", "requests iter_content(None)"])
def test_clients_stream_a_chunked_body(ticker_server, name):
    t = sselab.measure_client(name, ticker_server.url + STREAM)
    assert streams(t), (t.verdict, t.reason)
    assert t.clock == "shared" and [e.seq for e in t.events] == list(range(N))


@pytest.mark.slow
def test_curl_holds_a_piped_stream_unless_no_buffer(ticker_server, needs_curl):
    buffered = sselab.measure_client("curl", ticker_server.url + STREAM)
    unbuffered = sselab.measure_client("curl -N", ticker_server.url + STREAM)
    assert held(buffered) and len(buffered.reads) <= 2, buffered.reason
    assert streams(unbuffered), unbuffered.reason
    assert buffered.status == 200 and "text/event-stream" in buffered.content_type


@pytest.mark.slow
def test_requests_waits_on_a_close_delimited_body(ticker_server, needs_nginx):
    with sselab.NginxProxy(ticker_server, proxy_buffering=False,
                           extra="chunked_transfer_encoding off;") as proxy:
        runs = {name: sselab.measure_client(name, proxy.url + STREAM)
                for name in ("httpx iter_raw", "requests iter_lines()", "requests iter_content(None)")}
    assert "transfer-encoding" not in runs["httpx iter_raw"].headers  # really close-delimited
    assert streams(runs["httpx iter_raw"]), runs["httpx iter_raw"].reason
    lines = runs["requests iter_lines()"]
    assert not streams(lines) and max(r.bytes for r in lines.reads) <= 512 + 1, lines.reason
    assert held(runs["requests iter_content(None)"]), runs["requests iter_content(None)"].reason


@pytest.mark.slow
def test_asgi_transport_holds_and_starlette_testclient_streams():
    in_process = asyncio.run(sselab.measure_asgi(ticker.app, STREAM))
    assert held(in_process) and len(in_process.reads) == 1, in_process.reason
    test_client = sselab.measure_testclient(ticker.app, STREAM)
    assert streams(test_client), test_client.reason


@pytest.mark.slow
def test_read_timeout_shorter_than_pings_ends_a_quiet_stream():
    with sselab.BackgroundServer(heartbeat.app, name="test-quiet") as server:
        url = server.url + "/events?n=2&gap=1.2&heartbeat=0.4"
        short = sselab.measure_client("httpx iter_raw", url, timeout=httpx.Timeout(0.15))
        fixed = sselab.measure_client("httpx iter_raw", url, timeout=httpx.Timeout(0.15, read=None))
        sse = sselab.measure_client("httpx-sse", url, timeout=httpx.Timeout(0.15))
    assert short.ended_by == "timeout" and short.verdict == "cut" and len(short.events) == 1
    assert sse.ended_by == "timeout" and sse.verdict == "cut" and len(sse.events) == 1
    assert fixed.ended_by == "eof" and len(fixed.events) == 2 and fixed.comments >= 2


def test_unknown_client_is_named_in_the_error():
    with pytest.raises(ValueError, match="httpx iter_raw"):
        sselab.measure_client("wget", "http://127.0.0.1:9/")


def test_client_versions_lists_tools():
    found = sselab.client_versions()
    assert {"requests", "urllib3", "curl", "chromium", "jupyter-server-proxy"} <= set(found)
    assert found["requests"]


def test_exercise_solution_runs_and_shows_stdio_blocks(ticker_server, needs_curl):
    source = (ROOT / "notebooks/solutions/08_clients.py").read_text()
    code = compile(source, "08_clients.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {"sselab": sselab, "server": ticker_server, "display": lambda *a: None}
    exec(code, namespace)
    big = namespace["big"]
    assert big.verdict != "real-time" and big.reads[0].bytes == 4096, big.reason  # one stdio block
