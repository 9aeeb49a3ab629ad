"""servers/recommended_stream.py does what its docstring promises: comment first, heartbeats, ids, clean-up."""

import time

import httpx
import pytest

import sselab
from servers import recommended_stream


@pytest.fixture
def server():
    with sselab.BackgroundServer(recommended_stream.app, name="test-recommended-stream") as running:
        yield running


def frames(server, query: str) -> list[str]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        response = client.get(server.url + "/events?" + query)
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    return [f for f in response.text.split("\n\n") if f]


def test_a_comment_leaves_before_the_first_event_is_ready(server):
    with httpx.Client(trust_env=False, timeout=10) as client, \
            client.stream("GET", server.url + "/events?n=1&interval=0") as response:
        first = next(response.iter_raw())
    assert first.startswith(b":")


def test_every_event_carries_its_id_in_order(server):
    events = [f for f in frames(server, "n=5&interval=0.01") if not f.startswith(":")]
    assert [e.split("\n")[0] for e in events] == [f"id: {i}" for i in range(5)]
    assert all(e.split("\n")[1].startswith("data: {") for e in events)


def test_a_quiet_stream_gets_heartbeats_and_a_busy_one_none(server):
    quiet = frames(server, "n=2&interval=0.5&heartbeat=0.1")
    pings = [f for f in quiet if f == ": ping"]
    assert 3 <= len(pings) <= 5, quiet  # 0.5 s of silence / 0.1 s
    assert quiet.index(": ping") > quiet.index(next(f for f in quiet if f.startswith("id: 0")))
    busy = frames(server, "n=10&interval=0.02&heartbeat=1")
    assert ": ping" not in busy


def test_the_generator_is_closed_when_the_client_leaves(server):
    before = recommended_stream.streams["open"]
    with httpx.Client(trust_env=False, timeout=10) as client, \
            client.stream("GET", server.url + "/events?n=100000&interval=0.02") as response:
        chunks, seen = response.iter_raw(), b""
        while seen.count(b"\n\n") < 3:
            seen += next(chunks)
        assert recommended_stream.streams["open"] == before + 1
    left = time.monotonic()
    while recommended_stream.streams["open"] > before and time.monotonic() - left < 2:
        time.sleep(0.01)
    assert recommended_stream.streams["open"] == before
