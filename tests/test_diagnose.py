"""The diagnosis: the named layer on the lab's own setups, on unstamped and POST streams, and
``python -m sselab probe``'s error paths (one paragraph, non-zero exit)."""

import asyncio
import json
import subprocess
import sys

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse

import sselab
from servers import clock, mystery_setups
from sselab.__main__ import main
from sselab._timeline import Event, Read, Timeline


def cli(capsys, *args):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    try:
        code = main(["probe", *args])
    except SystemExit as exc:  # argparse's usage errors and --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_paragraph(err):
    return err.startswith("error: ") and err.strip().count("\n") == 0 and "Traceback" not in err


# -- the decision tree on synthetic timelines (no servers: each rule alone) -----------------
def synthetic(sent, arrived, sizes, reads, headers=None):
    events = [Event(i, s, a, b, 0) for i, (s, a, b) in enumerate(zip(sent, arrived, sizes))]
    return Timeline("http://127.0.0.1:1/x", 200, "text/event-stream", [Read(t, b) for t, b in reads],
                    events, clock="shared", headers=headers or {"server": "uvicorn"})


def test_steady_read_size_names_a_proxy_buffer():
    sent = [0.1 * i for i in range(12)]
    arrived = [0.1 * (i | 1) + 0.001 for i in range(12)]  # pairs released together
    reads = [(0.1 * k + 0.001, 1024) for k in range(1, 12, 2)] + [(1.2, 300)]
    d = sselab.diagnose(synthetic(sent, arrived, [553] * 12, reads))
    assert (d.verdict, d.layer) == ("batched", "full-buffer")
    assert d.evidence["steady_read_bytes"] == 1024 and "1024 bytes" in d.culprit


def test_same_timing_with_event_sized_reads_names_the_event_loop():
    sent = [0.1 * i for i in range(12)]
    arrived = [0.1 * (i | 1) + 0.001 for i in range(12)]
    reads = [(a, 42) for a in arrived]
    d = sselab.diagnose(synthetic(sent, arrived, [42] * 12, reads))
    assert (d.verdict, d.layer) == ("batched", "event-loop")


def test_steadily_one_event_late_names_the_event_loop():
    sent = [0.1 * i for i in range(12)]
    arrived = [0.1 * (i + 1) + 0.002 for i in range(11)] + [1.1 + 0.002]  # each with the next send
    reads = [(a, 42) for a in arrived]
    d = sselab.diagnose(synthetic(sent, arrived, [42] * 12, reads))
    assert (d.verdict, d.layer) == ("lagging", "event-loop")


def test_held_layer_follows_the_server_header():
    sent, arrived = [0.1 * i for i in range(10)], [1.0] * 10
    app = sselab.diagnose(synthetic(sent, arrived, [42] * 10, [(1.0, 420)], {"server": "uvicorn"}))
    proxy = sselab.diagnose(synthetic(sent, arrived, [42] * 10, [(1.0, 420)], {"server": "nginx/1.22.1"}))
    via = sselab.diagnose(synthetic(sent, arrived, [42] * 10, [(1.0, 420)], {"via": "1.1 varnish"}))
    assert (app.layer, proxy.layer, via.layer) == ("held-by-app", "held-by-proxy", "held-by-proxy")


# -- the lab's own setups: every mystery of the exercise ----------------------------------
@pytest.mark.slow
def test_every_mystery_setup_is_named_right():
    mysteries = sselab.start_mysteries(mystery_setups.SETUPS, "test-diag", query=mystery_setups.QUERY, seed=7)
    try:
        named = {letter: sselab.diagnose(sselab.probe(url, max_seconds=10, accept_encoding="gzip")).layer
                 for letter, url in mysteries.urls.items()}
    finally:
        sselab.stop_all()
    truth = {letter: setup.layer for letter, setup in mysteries.reveal().items()}
    assert named == truth
    from sselab._mystery import _installed

    expected = sum(_installed(setup.proxy) for setup in mystery_setups.SETUPS)
    assert expected >= 2 and len(truth) == expected and len(set(mysteries.urls.values())) == expected


def test_mysteries_hide_the_setup_in_the_url(needs_nginx):
    mysteries = sselab.start_mysteries(mystery_setups.SETUPS, "test-diag", query=mystery_setups.QUERY, seed=1)
    try:
        tails = {url.split("/", 3)[3] for url in mysteries.urls.values()}
    finally:
        sselab.stop_all()
    assert len(tails) == 1  # same path and query everywhere: only the port differs


def test_direct_ticker_is_fine_and_says_so(ticker_server, capsys):
    code, out, _ = cli(capsys, ticker_server.url + "/events?n=8&interval=0.03")
    assert code == 0
    assert "verdict: real-time" in out and "likely layer: none" in out
    for evidence in ("cadence: sent every", "first byte", "delay median", "bursts of several events"):
        assert evidence in out


def test_compare_direct_and_through_nginx(ticker_server, needs_nginx, capsys):
    stream = "/events?n=8&interval=0.03"
    with sselab.NginxProxy(ticker_server, name="test-diag-default") as proxy:
        code, out, _ = cli(capsys, proxy.url + stream, "--compare", ticker_server.url + stream, "--json")
    assert code == 0
    run = json.loads(out)
    assert run["verdict"] == "held-until-end" and run["diagnosis"]["layer"] == "held-by-proxy"
    assert run["compare"]["verdict"] == "real-time" and run["compare"]["diagnosis"]["layer"] == "none"
    assert "real-time" in run["comparison"] and "held-until-end" in run["comparison"]


# -- streams without stamps, and POST ------------------------------------------------------
def test_unstamped_stream_says_what_it_cannot_know(capsys):
    with sselab.BackgroundServer(clock.app, name="test-diag-clock") as server:
        code, out, _ = cli(capsys, server.url + "/plain?n=6&interval=0.03")
    assert code == 0
    assert "verdict: real-time" in out and "no send stamps" in out
    assert "cannot tell:" in out and "servers/clock.py" in out


def test_unstamped_stream_held_by_nginx_is_still_named(needs_nginx):
    with sselab.BackgroundServer(clock.app, name="test-diag-clock") as server, \
            sselab.NginxProxy(server, name="test-diag-plain") as proxy:
        t = sselab.probe(proxy.url + "/plain?n=8&interval=0.1")
    d = sselab.diagnose(t)
    assert not t.stamped and (d.verdict, d.layer) == ("held-until-end", "held-by-proxy")
    assert any("no send stamps" in u for u in d.unknowns)


def test_post_endpoint_with_a_json_body(capsys):
    with sselab.BackgroundServer(clock.app, name="test-diag-clock") as server:
        code, out, _ = cli(capsys, server.url + "/clock", "-d", '{"n": 5, "interval": 0.02, "pad": 10}', "--json")
    assert code == 0
    run = json.loads(out)
    assert [e["seq"] for e in run["events"]] == [0, 1, 2, 3, 4]
    assert run["diagnosis"]["layer"] == "none"


def test_clock_events_follow_the_stamp_contract():
    with sselab.BackgroundServer(clock.app, name="test-diag-clock") as server:
        t = sselab.probe(server.url + "/clock?n=4&interval=0.01&pad=100")
    assert t.stamped and [e.seq for e in t.events] == [0, 1, 2, 3]
    assert all(0 <= e.delay < 1 for e in t.events) and '"pad": "' in t.events[0].data


# -- error paths ---------------------------------------------------------------------------
def test_refused_connection(capsys):
    code, _, err = cli(capsys, "http://127.0.0.1:9/events")
    assert code == 2 and one_paragraph(err) and "connection failed" in err


def test_not_found(ticker_server, capsys):
    code, _, err = cli(capsys, ticker_server.url + "/nope")
    assert code == 2 and one_paragraph(err) and "404" in err


quiet = FastAPI()


@quiet.get("/page")
async def page():
    return HTMLResponse("<html><body>Hello</body></html>")


@quiet.get("/silent")
async def silent():
    async def nothing():
        await asyncio.sleep(3600)
        yield "data: never\n\n"
    return StreamingResponse(nothing(), media_type="text/event-stream")


@quiet.get("/no-headers")
async def no_headers():
    await asyncio.sleep(3600)


def test_html_page(capsys):
    with sselab.BackgroundServer(quiet, name="test-diag-quiet") as server:
        code, _, err = cli(capsys, server.url + "/page")
    assert code == 2 and one_paragraph(err) and "text/html" in err


def test_server_that_never_sends_a_byte(capsys):
    with sselab.BackgroundServer(quiet, name="test-diag-quiet") as server:
        code, out, err = cli(capsys, server.url + "/silent", "--max-seconds", "0.5")
    assert code == 1 and "ended by max_seconds" in out and "no body byte" in out
    assert "could not be judged" in err


@pytest.mark.slow
def test_server_that_never_answers(capsys):
    with sselab.BackgroundServer(quiet, name="test-diag-quiet") as server:
        code, _, err = cli(capsys, server.url + "/no-headers", "--max-seconds", "0.5")
    assert code == 2 and one_paragraph(err) and "no response headers" in err


def test_endless_stream_stopped_by_max_seconds(capsys):
    with sselab.BackgroundServer(clock.app, name="test-diag-clock") as server:
        code, out, _ = cli(capsys, server.url + "/clock?n=0&interval=0.05", "--max-seconds", "0.8", "--json")
    run = json.loads(out)
    assert code == 0 and run["summary"]["ended_by"] == "max_seconds"
    assert 5 <= len(run["events"]) <= 20 and run["diagnosis"]["layer"] == "none"


def test_max_events_stops_early(ticker_server, capsys):
    code, out, _ = cli(capsys, ticker_server.url + "/events?n=50&interval=0.01", "--max-events", "3", "--json")
    assert code == 0 and json.loads(out)["summary"]["ended_by"] == "max_events"


@pytest.mark.parametrize("args, says", [
    (["--max-seconds", "0"], "--max-seconds"),
    (["--max-events", "many"], "--max-events"),
    (["--header", "no-colon"], "Name: value"),
    (["--plot", "figure.txt"], ".png"),
])
def test_bad_options_are_one_paragraph(capsys, args, says):
    code, _, err = cli(capsys, "http://127.0.0.1:9/events", *args)
    assert code == 2 and one_paragraph(err) and says in err


def test_unwritable_plot_is_explained(ticker_server, capsys, tmp_path):
    code, _, err = cli(capsys, ticker_server.url + "/events?n=3&interval=0", "--plot", str(tmp_path / "no" / "x.png"))
    assert code == 2 and one_paragraph(err) and "could not write the figure" in err


def test_help_documents_every_option():
    done = subprocess.run([sys.executable, "-m", "sselab", "probe", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for option in ("--compare", "--header", "--method", "--data", "--max-events", "--max-seconds",
                   "--plot", "--json", "exit status", "servers/clock.py"):
        assert option in done.stdout, option


@pytest.mark.slow
def test_the_exercise_solution_runs_on_the_mysteries(capsys):
    import ast
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "12_diagnose.py"
    code = compile(path.read_text(), path.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    mysteries = sselab.start_mysteries(mystery_setups.SETUPS, "test-diag-solution",
                                         query=mystery_setups.QUERY, seed=3, proxies=False)
    namespace = {"sselab": sselab, "mysteries": mysteries}
    try:
        asyncio.run(eval(code, namespace))  # top-level await makes the module code a coroutine
    finally:
        sselab.stop_all()
    out = capsys.readouterr().out
    for letter, setup in mysteries.reveal().items():
        assert f"-> {setup.layer}" in next(line for line in out.splitlines() if line.startswith(f"{letter}:"))


def test_the_cheat_sheet_names_a_cause_for_every_mystery_setup():
    """assets/make_cheatsheet.py draws a row per setup of 12; a setup added there needs its cause
    here too (two were missing, and scripts/figures stopped with a KeyError)."""
    import importlib.util
    from pathlib import Path

    from servers.mystery_setups import SETUPS

    path = Path(__file__).resolve().parent.parent / "assets" / "make_cheatsheet.py"
    spec = importlib.util.spec_from_file_location("make_cheatsheet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {s.key for s in SETUPS} <= set(module.CAUSE), {s.key for s in SETUPS} - set(module.CAUSE)
