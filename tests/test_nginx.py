"""Real nginx: the config renders, nginx starts, proxies, stops, and is explained when missing."""

import subprocess
import sys
import textwrap
import time

import httpx
import psutil
import pytest

import sselab


def nginx_pids():
    """Live nginx processes started by this test process (other sessions may run their own;
    a zombie is dead, and this container's PID 1 may never reap it)."""
    return {p.pid for p in psutil.Process().children(recursive=True) if _is_live_nginx(p)}


def _is_live_nginx(process):
    try:
        return process.name() == "nginx" and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def is_dead(process):
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_config_renders_knobs_and_defaults():
    plain = sselab.NginxProxy("http://127.0.0.1:9").render(8080, "/tmp/x")
    assert "listen 127.0.0.1:8080;" in plain and "proxy_pass http://127.0.0.1:9;" in plain
    assert "proxy_buffering" not in plain  # a knob left at None writes nothing
    tuned = sselab.NginxProxy("http://127.0.0.1:9", proxy_buffering=False, proxy_http_version="1.1",
                              proxy_cache=True, gzip=True, proxy_read_timeout="2s",
                              headers={"Connection": ""}).render(8080, "/tmp/x")
    for line in ("proxy_buffering off;", "proxy_http_version 1.1;", "proxy_cache lab_cache;",
                 "keys_zone=lab_cache", "gzip on;", "proxy_read_timeout 2s;",
                 'proxy_set_header Connection "";'):
        assert line in tuned
    assert "0.0.0.0" not in tuned


def test_starts_proxies_and_stops(ticker_server, needs_nginx):
    before = nginx_pids()
    proxy = sselab.NginxProxy(ticker_server, proxy_buffering=False).start()
    prefix = proxy.prefix
    body = httpx.get(proxy.url + "/events?n=3&interval=0", trust_env=False).text
    assert body.count("data:") == 3
    proxy.stop()
    assert nginx_pids() == before
    assert not prefix.exists()
    proxy.stop()  # idempotent


def test_bad_config_is_explained_and_nothing_left(ticker_server, needs_nginx):
    before = nginx_pids()
    with pytest.raises(sselab.NginxError, match="refused to start"):
        sselab.NginxProxy(ticker_server, extra="no_such_directive on;").start()
    assert nginx_pids() == before


def test_missing_nginx_gives_one_clear_error(ticker_server, monkeypatch):
    monkeypatch.setenv("SSELAB_NGINX", "/nonexistent/nginx")
    with pytest.raises(sselab.NginxError, match="apt-get install nginx"):
        sselab.NginxProxy(ticker_server).start()


def test_killed_parent_leaves_no_nginx(needs_nginx, tmp_path):
    script = textwrap.dedent("""
        import sys, time, sselab
        proxy = sselab.NginxProxy("http://127.0.0.1:9").start()
        print(proxy._process.pid, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = int(child.stdout.readline())
    nginx = psutil.Process(pid)  # setpriv exec'd nginx, so this pid is nginx itself
    assert nginx.name() == "nginx"
    child.kill()
    child.wait()
    deadline = time.monotonic() + 2
    while not is_dead(nginx) and time.monotonic() < deadline:
        time.sleep(0.01)
    if not is_dead(nginx):
        nginx.kill()
        pytest.fail("nginx outlived the Python process that started it by more than 2 s")
