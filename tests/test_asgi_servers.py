"""Other ASGI servers (notebook 05): each starts on 127.0.0.1, streams, stops and leaves no
process behind; when each sends its headers; gunicorn's timeout and graceful restart; a quiet
stream behind nginx's read timeout. Effects are 1 s against a 0.5 s threshold, or all-or-nothing."""

import asyncio
import subprocess
import sys
import threading
import time

import psutil
import pytest

import sselab
from servers import first_token, ticker

SERVER_PROCESS_MARKS = ("-m granian", "-m gunicorn", "-m daphne", "sselab._group")


def server_processes() -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        line = " ".join(p.info["cmdline"] or [])
        if any(mark in line for mark in SERVER_PROCESS_MARKS) and "pytest" not in line:
            found.append(p)
    return found


def listening_ports(server) -> set[tuple[str, int]]:
    if hasattr(server, "_process"):  # a child server: its process tree
        root = psutil.Process(server._process.pid)
        procs = [root, *root.children(recursive=True)]
    else:
        procs = [psutil.Process()]
    return {(c.laddr.ip, c.laddr.port) for p in procs for c in p.net_connections("inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == server.port}


@pytest.mark.slow
@pytest.mark.parametrize("server", sselab.SERVER_NAMES)
def test_each_server_streams_on_loopback_and_leaves_nothing(server):
    running = sselab.serve(ticker.app, server=server, name=f"test-{server}")
    try:
        assert listening_ports(running) == {("127.0.0.1", running.port)}
        t = sselab.probe(running.url + "/events?n=10&interval=0.03")
        assert (t.verdict, len(t.events)) == ("real-time", 10), t.reason
    finally:
        sselab.stop_all()
    assert not running.running
    deadline = time.monotonic() + 5
    while server_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server_processes(), server_processes()


@pytest.mark.slow
def test_who_holds_the_headers_until_the_first_event():
    async def measure():
        runs = {}
        for server in ("uvicorn", "daphne", "granian"):
            s = sselab.serve(first_token.app, server=server, name=f"test-headers-{server}")
            runs[server] = await sselab.ameasure_server(server, s, first=1.2)
            s.stop()
        return runs

    runs = asyncio.run(measure())
    held = {name: {m: run.headers_held(m) for m in run.by_media} for name, run in runs.items()}
    assert held == {"uvicorn": {"text/event-stream": False, "text/plain": False},
                    "daphne": {"text/event-stream": True, "text/plain": True},
                    "granian": {"text/event-stream": False, "text/plain": True}}, held
    assert all(run.stopped_after is not None and run.stopped_after < 1.0 for run in runs.values())
    daphne = runs["daphne"].by_media["text/event-stream"]
    assert "headers late" in str(sselab.diagnose(daphne))
    assert "first event late" in str(sselab.diagnose(runs["uvicorn"].by_media["text/event-stream"]))


@pytest.mark.slow
def test_gunicorn_timeout_kills_a_blocked_worker_and_reload_cuts_a_long_stream():
    g = sselab.serve(first_token.app, server="gunicorn", name="test-gunicorn", options=("--timeout", "2"))
    try:
        blocked = sselab.probe(g.url + "/blocking?seconds=4&n=5", max_seconds=10)
        assert blocked.verdict == "cut" and not blocked.events, blocked.reason
        assert "WORKER TIMEOUT" in g.log()
        long = sselab.probe(g.url + "/events?first=0&n=40&interval=0.1", max_seconds=10)
        assert (long.verdict, len(long.events)) == ("real-time", 40), "an async stream outlives --timeout"
        reload = asyncio.run(sselab.awhile_reloading(g, g.url + "/events?first=0&n=80&interval=0.1",
                                                     after=1.0, max_seconds=12))
        assert reload.cut_after is not None and 1.0 < reload.cut_after < 4.0, reload
    finally:
        sselab.stop_all()


@pytest.mark.slow
def test_quiet_stream_behind_nginx_read_timeout(needs_nginx):
    async def measure():
        runs = []
        for server in ("uvicorn", "daphne"):
            s = sselab.serve(first_token.app, server=server, name=f"test-quiet-{server}")
            proxy = sselab.NginxProxy(s, name="test-quiet-nginx", proxy_read_timeout="1s",
                                      proxy_buffering=False).start()
            for heartbeat in (0, 0.4):
                runs.append(await sselab.aquiet(f"{server} {heartbeat}", proxy.url +
                                                f"/events?first=2&n=10&heartbeat={heartbeat}", max_seconds=8))
            sselab.stop_all()
        return runs

    uvicorn, uvicorn_hb, daphne, daphne_hb = asyncio.run(measure())
    assert uvicorn.timeline.verdict == "cut" and not uvicorn.timeline.events
    assert daphne.timeline is None and daphne.status == 504
    for run in (uvicorn_hb, daphne_hb):
        assert (run.timeline.verdict, len(run.timeline.events)) == ("real-time", 10), run.outcome


def test_an_app_that_is_not_importable_gets_a_clear_error():
    with pytest.raises(sselab.ServerError, match="cannot import it"):
        sselab.serve(lambda scope, receive, send: None, server="granian", name="test-lambda")


@pytest.mark.slow
def test_a_killed_kernel_leaves_no_server_worker():
    code = ("import sselab, time\nfrom servers import ticker\n"
            "for s in ('granian', 'gunicorn', 'daphne'):\n    sselab.serve(ticker.app, server=s, name=s)\n"
            "print('up', flush=True)\ntime.sleep(60)\n")
    kernel = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert kernel.stdout.readline().strip() == "up"
    assert len(server_processes()) >= 5  # leaders, masters and workers
    kernel.kill()
    kernel.wait()
    deadline = time.monotonic() + 8
    while server_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server_processes(), server_processes()


@pytest.mark.slow
def test_what_each_pattern_sends_during_a_16_second_silence():
    from servers import quiet_patterns

    server = sselab.serve(quiet_patterns.app, name="test-quiet-patterns")
    names = ("hand", "sse-starlette", "fastapi-sse", "recommended")

    async def measure():
        return await asyncio.gather(*(sselab.aprobe(f"{server.url}/{n}?gap=16", max_seconds=25) for n in names))

    runs = dict(zip(names, (sselab.Silence(n, t) for n, t in zip(names, asyncio.run(measure())))))
    sselab.stop_all()
    assert runs["hand"].quiet_reads == [] and runs["hand"].longest_silence > 15
    for library in ("sse-starlette", "fastapi-sse"):
        assert [round(t) for t in runs[library].quiet_reads] == [15], runs[library].quiet_reads
    assert runs["recommended"].timeline.comments >= 4 and runs["recommended"].longest_silence < 6


def test_serve_each_starts_them_side_by_side_in_order_and_a_failure_stops_the_others():
    setups = {"h11": dict(http="h11"), "httptools": dict(http="httptools"), "hypercorn": dict(server="hypercorn")}
    servers = sselab.serve_each(ticker.app, setups, prefix="test-each-")
    try:
        assert list(servers) == list(setups)
        assert [s.name for s in servers.values()] == [f"test-each-{label}" for label in setups]
        assert all(sselab.probe(s.url + "/events?n=3&interval=0.01").verdict == "real-time" for s in servers.values())
    finally:
        sselab.stop_all()
    with pytest.raises(sselab.ServerError):
        sselab.serve_each(ticker.app, {"fine": {}, "unknown": dict(server="no-such-server")}, prefix="test-each-")
    assert not sselab.running_servers(), sselab.running_servers()


@pytest.mark.slow
def test_measured_side_by_side_the_servers_hold_what_they_hold_alone():
    setups = {"uvicorn": dict(server="uvicorn"), "daphne": dict(server="daphne"), "granian": dict(server="granian")}
    try:
        servers = sselab.serve_each(first_token.app, setups, prefix="test-side-")
        runs = asyncio.run(sselab.ameasure_servers(servers, first=1.2))
    finally:
        sselab.stop_all()
    assert [run.server for run in runs] == list(setups)
    held = {run.server: {m: run.headers_held(m) for m in run.by_media} for run in runs}
    assert held == {"uvicorn": {"text/event-stream": False, "text/plain": False},
                    "daphne": {"text/event-stream": True, "text/plain": True},
                    "granian": {"text/event-stream": False, "text/plain": True}}, held
    at_once = [t.headers_at for run in runs for m, t in run.by_media.items() if not run.headers_held(m)]
    assert max(at_once) < 0.45, "started a little apart, no request waits for the others to be sent"
    assert all(run.stopped_after is not None and run.stopped_after < 1.0 for run in runs)


def test_background_probes_keep_their_own_time_while_this_thread_is_busy():
    server = sselab.serve(ticker.app, name="test-background")
    try:
        probes = sselab.probe_in_background([server.url + "/events?n=8&interval=0.2"] * 2, max_seconds=10)
        assert probes._first[0].is_set() and probes._first[1].is_set(), "returns once each has its first event"
        busy_until = time.monotonic() + 1.0  # a cell drawing a figure: this thread computes for 1 s
        while time.monotonic() < busy_until:
            sum(range(1000))
        assert not probes.done()

        async def collect():
            return await probes

        timelines = asyncio.run(collect())
        assert [len(t.events) for t in timelines] == [8, 8]
        # read on a loop of their own: no event waited for the busy second (wide margin: a loaded machine)
        assert max(max(t.added_delays) for t in timelines) < 0.3, [t.reason for t in timelines]
        assert asyncio.run(collect()) == timelines  # awaiting again gives the same result
        left = [t for t in threading.enumerate() if t.name == "sselab-background-probes"]
        for thread in left:
            thread.join(2)  # it ends just after handing over the result
        assert not [t for t in left if t.is_alive()]
    finally:
        sselab.stop_all()
