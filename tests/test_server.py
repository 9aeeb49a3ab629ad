"""The background server: starts, serves, stops, releases its port, leaves no thread."""

import socket
import threading

import httpx
import pytest

import sselab
from servers import ticker


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_start_serve_stop_releases_port_and_thread():
    before = set(threading.enumerate())
    server = sselab.BackgroundServer(ticker.app).start()
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(server.url + "/events?n=1", trust_env=False).status_code == 200
    port = server.port
    server.stop()
    assert port_is_free(port)
    assert set(threading.enumerate()) <= before
    server.stop()  # idempotent


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_both_http_implementations_serve(http):
    with sselab.BackgroundServer(ticker.app, http=http) as server:
        assert server.http == http
        assert httpx.get(server.url + "/events?n=2&interval=0", trust_env=False).text.count("data:") == 2


def test_restart_under_the_same_name_replaces_the_old_server():
    first = sselab.serve(ticker.app, name="same")
    second = sselab.serve(ticker.app, name="same")
    assert not first.running and second.running
    assert sselab.running_servers() == [second]
    sselab.stop_all()


def test_binds_loopback_only():
    with sselab.BackgroundServer(ticker.app) as server:
        host = server._server.servers[0].sockets[0].getsockname()[0]
        assert host == "127.0.0.1"


def test_stop_with_an_open_stream_does_not_hang():
    server = sselab.serve(ticker.app, name="busy")
    with httpx.Client(trust_env=False) as client:
        with client.stream("GET", server.url + "/events?n=1000&interval=0.05") as response:
            next(response.iter_raw())
            server.stop(timeout=6)
    assert not server.running


def test_ticker_rejects_bad_parameters_with_422():
    with sselab.BackgroundServer(ticker.app) as server:
        for query in ("n=0", "n=abc", "interval=-1", "interval=1000"):
            assert httpx.get(f"{server.url}/events?{query}", trust_env=False).status_code == 422
