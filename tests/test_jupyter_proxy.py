"""Jupyter's own proxy (jupyter-server-proxy's /proxy/<port>/) on a real, private Jupyter server.

It streams only when the request's Accept header is exactly "text/event-stream"
(jupyter_server_proxy/handlers.py, ProxyHandler.proxy). Missing jupyter-server-proxy:
skipped locally, a failure in CI.
"""

import asyncio
import os

import httpx
import psutil
import pytest

import sselab
from sselab._jupyter import current_jupyter_server

pytestmark = pytest.mark.slow  # starts a real Jupyter server (about 4 s): not in the everyday lane

N = 10
STREAM = f"/events?n={N}&interval=0.08"


@pytest.fixture(scope="module")
def jupyter():
    if not sselab.JupyterServer.available():
        if os.environ.get("CI"):
            pytest.fail("jupyter-server-proxy is missing in CI; it is in requirements.txt")
        pytest.skip("jupyter-server-proxy is not installed")
    with sselab.JupyterServer(name="test-jupyter") as server:
        yield server


def streams(t):
    return len(t.events) == N and t.summary["largest_burst"] <= 3 and t.summary["median_delay"] < 0.05


def held(t):
    return len(t.events) == N and t.summary["largest_burst"] >= N - 1 and t.summary["median_delay"] > 0.15


@pytest.mark.slow
def test_proxy_streams_only_for_exactly_text_event_stream(jupyter, ticker_server):
    url = jupyter.proxy_url(ticker_server.port, STREAM)
    runs = {accept: sselab.probe(url, headers={**jupyter.auth, "Accept": accept})
            for accept in ("text/event-stream", "*/*", "text/event-stream, */*")}
    assert streams(runs["text/event-stream"]), runs["text/event-stream"].reason
    assert held(runs["*/*"]), runs["*/*"].reason
    assert held(runs["text/event-stream, */*"]), runs["text/event-stream, */*"].reason


def test_httpx_sse_streams_through_the_proxy(jupyter, ticker_server):
    from httpx_sse import connect_sse

    with httpx.Client(trust_env=False, headers=jupyter.auth) as client:
        with connect_sse(client, "GET", jupyter.proxy_url(ticker_server.port, STREAM)) as source:
            assert source.response.request.headers["accept"] == "text/event-stream"
            assert len(list(source.iter_sse())) == N


def test_token_is_required_and_never_shown(jupyter, ticker_server):
    url = jupyter.proxy_url(ticker_server.port, STREAM)
    refused = httpx.get(url, trust_env=False, headers={"Accept": "text/event-stream"})
    assert refused.status_code in (302, 401, 403)
    token = jupyter.auth["Authorization"].split()[1]
    t = sselab.probe(url, headers=jupyter.auth)
    shown = " ".join([repr(jupyter), jupyter.url, t.url, str(t.headers), jupyter.log(), repr(t)])
    assert token not in shown
    process = psutil.Process(jupyter._process.pid)
    assert not any(token in part for p in [process, *process.children(recursive=True)]
                   for part in p.cmdline())  # in the environment, not on the command line


@pytest.mark.slow
def test_browser_eventsource_streams_through_the_proxy(jupyter):
    if sselab.find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI; scripts/system-packages should install it")
        pytest.skip("chromium is not installed")
    from servers import browser_page

    async def open_page(url):
        async with sselab.HeadlessBrowser() as browser:
            return await browser.probe(url, headers=jupyter.auth)

    with sselab.BackgroundServer(browser_page.app, name="test-page") as page:
        t = asyncio.run(open_page(jupyter.proxy_url(page.port, f"/?n={N}&interval=0.08")))
    assert streams(t), t.reason


@pytest.mark.slow
def test_stop_leaves_nothing():
    if not sselab.JupyterServer.available():
        pytest.skip("jupyter-server-proxy is not installed")
    server = sselab.JupyterServer(name="test-jupyter-stop").start()
    process, folder = psutil.Process(server._process.pid), server._dir
    server.stop()
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not folder.exists() and server.port is None
    server.stop()  # idempotent


def test_headless_kernel_has_no_jupyter_server_to_show_a_page(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert current_jupyter_server() is None and sselab.jupyter_proxy_path(8000) is None
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    assert sselab.jupyter_proxy_path(8000, "/?n=3") == "/user/ada/proxy/8000/?n=3"
