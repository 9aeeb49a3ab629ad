"""A real browser (headless Chromium) as the client: servers/browser_page.py's EventSource page.

Chromium missing: skipped locally, a failure in CI (scripts/system-packages installs it).
"""

import asyncio
import time
from pathlib import Path

import httpx
import pytest

import sselab
from servers import browser_page

N = 10
PAGE = f"/?n={N}&interval=0.08"


def streams(t):
    return len(t.events) == N and t.summary["largest_burst"] <= 3 and t.summary["median_delay"] < 0.05


def held(t):
    return len(t.events) == N and t.summary["largest_burst"] >= N - 1 and t.summary["median_delay"] > 0.15


async def open_pages(urls):
    async with sselab.HeadlessBrowser() as browser:
        return {name: await browser.probe(url) for name, url in urls.items()}


@pytest.mark.slow
def test_browser_direct_and_through_nginx(needs_chromium, needs_nginx):
    with sselab.BackgroundServer(browser_page.app, name="test-page", http="h11") as page, \
            sselab.NginxProxy(page) as default, sselab.NginxProxy(page, proxy_buffering=False) as fixed:
        runs = asyncio.run(open_pages({"direct": page.url + PAGE, "default": default.url + PAGE,
                                       "fixed": fixed.url + PAGE}))
    assert streams(runs["direct"]), runs["direct"].reason
    assert held(runs["default"]), runs["default"].reason
    assert streams(runs["fixed"]), runs["fixed"].reason
    assert [e.seq for e in runs["direct"].events] == list(range(N))
    assert runs["direct"].ended_by == "eof"


def test_page_is_relative_and_clock_is_the_servers():
    html = (Path(browser_page.STATIC) / "clients_page.html").read_text()
    js = (Path(browser_page.STATIC) / "clients_page.js").read_text()
    assert 'src="static/clients_page.js"' in html  # relative: works under /proxy/<port>/
    assert 'fetch("clock"' in js and "new EventSource(`events?" in js
    with sselab.BackgroundServer(browser_page.app, name="test-page") as page:
        before = time.monotonic()
        now = httpx.get(page.url + "/clock", trust_env=False).json()["now"]
        assert before <= now <= time.monotonic()
        assert httpx.get(page.url + "/", trust_env=False).headers["content-type"].startswith("text/html")
        assert "data:" in httpx.get(page.url + "/events?n=1", trust_env=False).text


def test_missing_chromium_is_explained(monkeypatch):
    monkeypatch.setenv("SSELAB_CHROMIUM", "/nonexistent/chromium")
    assert sselab.find_chromium() is None

    async def launch():
        async with sselab.HeadlessBrowser():
            pass

    with pytest.raises(sselab.BrowserError, match="apt-get install chromium"):
        asyncio.run(launch())
