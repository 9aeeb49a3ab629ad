"""``python -m sselab probe``: its JSON shape, its report, and its error exits."""

import json
import subprocess
import sys

import pytest


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "sselab", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_json_shape(ticker_server, tmp_path):
    png = tmp_path / "t.png"
    done = run_cli("probe", ticker_server.url + "/events?n=4&interval=0.02", "--json", "--plot", str(png))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"url", "status", "content_type", "verdict", "summary", "reads", "events"} <= set(out)
    assert out["verdict"] == "real-time"
    assert [e["seq"] for e in out["events"]] == [0, 1, 2, 3]
    assert all(e["delay"] is not None and e["delay"] < 0.5 for e in out["events"])
    assert png.stat().st_size > 1000


def test_text_report(ticker_server):
    done = run_cli("probe", ticker_server.url + "/events?n=4&interval=0.02")
    assert done.returncode == 0 and "verdict: real-time" in done.stdout


def test_error_exit_with_one_paragraph(ticker_server):
    done = run_cli("probe", ticker_server.url + "/nope")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.strip().count("\n") == 0
    assert "Traceback" not in done.stderr


def test_help_lists_options():
    done = run_cli("probe", "--help")
    for option in ("--json", "--plot", "--header", "--method", "--data", "--max-events", "--max-seconds"):
        assert option in done.stdout


@pytest.mark.slow
def test_compressed_asks_for_what_it_can_decode_and_reports_the_encoding():
    import sselab
    from servers import encoded_stream

    with sselab.BackgroundServer(encoded_stream.app, name="test-cli-encoded") as server:
        url = server.url + "/events?encoding=zstd&n=10&interval=0.02"
        asked = run_cli("probe", "--compressed", url, "--json")
        exact = run_cli("probe", "--accept-encoding", "gzip", url.replace("zstd", "gzip"))
    assert asked.returncode == 0, asked.stderr
    out = json.loads(asked.stdout)
    assert out["verdict"] == "real-time" and out["summary"]["events"] == 10
    assert "encoding gzip" in exact.stdout and "verdict: real-time" in exact.stdout


def test_tls_and_proxy_options_are_documented():
    done = run_cli("probe", "--help")
    for option in ("--compressed", "--accept-encoding", "--proxy", "--http2", "--cacert", "--insecure"):
        assert option in done.stdout, option
