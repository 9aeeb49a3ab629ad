"""Shared fixtures: a ticker served in the background, and a guard that nothing leaks."""

import threading

import pytest

import sselab
from servers import ticker


@pytest.fixture
def ticker_server():
    with sselab.BackgroundServer(ticker.app, name="test-ticker") as server:
        yield server


@pytest.fixture
def needs_nginx():
    if sselab.find_nginx() is None:
        if __import__("os").environ.get("CI"):
            pytest.fail("nginx is missing in CI; .ci/run should have installed it")
        pytest.skip("nginx is not installed")


@pytest.fixture
def needs_chromium():
    if sselab.find_chromium() is None:
        if __import__("os").environ.get("CI"):
            pytest.fail("chromium is missing in CI; scripts/system-packages should install it")
        pytest.skip("chromium is not installed")


@pytest.fixture(autouse=True)
def nothing_left_running():
    yield
    assert not sselab.running_proxies(), sselab.running_proxies()
    assert not sselab.running_servers(), sselab.running_servers()
    names = [t.name for t in threading.enumerate() if t.name.startswith("sselab-server")]
    assert not names, names
