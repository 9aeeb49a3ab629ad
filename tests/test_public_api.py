"""The toolkit's public surface is pinned, and importing it changes no global state."""

import subprocess
import sys

import sselab

PUBLIC = {
    "abystander", "acrowd", "aprobe", "BackgroundServer", "BrowserError",
    "Bystander", "client_versions", "CLIENTS", "Crowd", "crowd_table", "CrowdTable", "diagnose",
    "Diagnosis", "draw_timeline", "environment_report", "Event", "find_chromium", "find_curl",
    "find_nginx", "HeadlessBrowser", "jupyter_proxy_path", "JupyterError", "JupyterServer",
    "measure_asgi", "measure_client", "measure_testclient", "Mysteries", "nginx_version",
    "NginxError", "NginxProxy", "plot_delays", "plot_leaving", "plot_runs", "plot_timeline",
    "plot_waits", "probe", "ProbeError", "Read", "running_proxies", "running_servers", "serve",
    "server_tcp_nodelay", "ServerError", "socket_probe", "start_mysteries", "stop_all",
    "stop_jupyter_servers", "stop_proxies", "stop_servers", "text_report", "Timeline",
    "verdict_table", "VerdictTable", "versions", "watch",
}


def test_public_names_are_pinned():
    assert set(sselab.__all__) == PUBLIC, "update PUBLIC (and the README) when the surface changes"
    assert all(hasattr(sselab, name) for name in sselab.__all__)


def test_importing_sselab_changes_no_global_state():
    check = """
import asyncio, sys, threading, matplotlib
before = matplotlib.rcParams.copy()  # copy() does not resolve the backend (reading it would)
threads, run = threading.active_count(), asyncio.run
import sselab, servers
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
assert matplotlib.rcParams.copy() == before, "rcParams changed"
assert threading.active_count() == threads, "a thread was started"
assert asyncio.run is run, "asyncio was patched"
print("clean")
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "clean", done.stderr
