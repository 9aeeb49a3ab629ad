"""Every claim rule, on synthetic measurements, reaches each of its outcomes.

The rules (``sselab/_claims.py``) decide the verdicts notebooks 01, 03, 04 and 10 print and
the README's findings table; none is typed in a cell. Each test builds the smallest set of
measurements that must lead to one outcome, so a rule that could only ever say one thing fails.
"""

from types import SimpleNamespace

import pytest

from sselab import Event, Read, Timeline
from sselab._bystander import Bystander
from sselab._claims import CLAIMS, OUTCOMES, Measurements, judge, judge_claims

GAP = 0.08


def run(kind="real-time", n=10, gap=GAP, **fields):
    """A stamped Timeline of one shape: real-time, late (one gap behind), held, cut, replayed."""
    sent = [i * gap for i in range(n)]
    arrived = {"real-time": [s + 0.001 for s in sent], "late": [s + gap for s in sent],
               "held": [sent[-1] + 0.01] * n, "cut": [s + 0.001 for s in sent],
               "replayed": [0.01 + i * 0.0001 for i in range(n)]}[kind]
    if kind == "replayed":
        sent = [s - 1.0 for s in sent]  # sent a second before the request: a cached copy
    events = [Event(i, s, a, 40, i) for i, (s, a) in enumerate(zip(sent, arrived))]
    if kind == "cut":
        fields.setdefault("ended_by", "cut")
    return Timeline("http://127.0.0.1:1/x", 200, "text/event-stream", [Read(a, 40) for a in arrived],
                    events, clock="shared", **fields)


def outcome(key, runs=None, **facts):
    claim = next(c for c in CLAIMS if c.key == key)
    return judge(claim, Measurements(runs, facts)).outcome


def waits(worst):
    return Bystander("http://127.0.0.1:1/health", [(0.0, worst)])


# -- 01 -------------------------------------------------------------------------------------------
def event_loop(article, middleware, frozen):
    runs = {"article": run(article), "article + sleep(0)": run(),
            "middleware": run(middleware), "middleware + sleep(0)": run(),
            "fastapi.sse": run("late"), "fastapi.sse + sleep(0)": run("late")}
    w = {f"{b} + sleep(0)": waits(frozen) for b in ("article", "middleware", "fastapi.sse")}
    w["def generator"] = waits(0.002)
    return runs, dict(waits=w, fixes=["def generator"], gap=GAP)


def test_sleep0_right_for_another_reason_when_only_the_middleware_case_changes():
    runs, facts = event_loop("real-time", "late", frozen=3 * GAP)
    assert outcome("sleep0", runs, **facts) == "right for another reason"


def test_sleep0_right_when_it_fixes_the_bare_stream_and_nothing_freezes():
    runs, facts = event_loop("late", "late", frozen=0.002)
    assert outcome("sleep0", runs, **facts) == "right"


def test_sleep0_myth_when_it_changes_nothing():
    runs, facts = event_loop("real-time", "real-time", frozen=3 * GAP)
    assert outcome("sleep0", runs, **facts) == "myth"


# -- 03 -------------------------------------------------------------------------------------------
def network(uvicorn="real-time", raw="late", nodelay=True):
    runs = {"nagle: uvicorn, 2 writes, 100 ms, reused": run(uvicorn),
            "nagle: Nagle ON, 1 write(s), 100 ms, reused": run(raw),
            "nagle: Nagle off, 1 write(s), 100 ms, reused": run()}
    return runs, {"nodelay": {"uvicorn, h11 + asyncio": [nodelay]}}


@pytest.mark.parametrize("uvicorn, nodelay, expected", [
    ("real-time", True, "myth"), ("late", False, "right"), ("late", True, "right for another reason")])
def test_nagle_every_outcome(uvicorn, nodelay, expected):
    runs, facts = network(uvicorn, nodelay=nodelay)
    assert outcome("nagle", runs, **facts) == expected


def pieces(reads_per_event, kind="real-time"):
    t = run(kind, n=5)
    reads = [Read(e.arrived, 10) for e in t.events for _ in range(reads_per_event)]
    return Timeline(t.url, 200, t.content_type, reads, t.events, clock="shared")


@pytest.mark.parametrize("reads, kind, expected", [
    (3, "real-time", "myth"), (1, "real-time", "right for another reason")])
def test_app_buffers_outcomes(reads, kind, expected):
    assert outcome("app-buffers", {"pieces": pieces(reads, kind)}) == expected


def test_app_buffers_right_when_pieces_are_merged_and_late():
    t = run("late", n=5)
    merged = Timeline(t.url, 200, t.content_type, [Read(t.events[-1].arrived, 500)], t.events, clock="shared")
    assert outcome("app-buffers", {"pieces": merged}) == "right"


@pytest.mark.parametrize("reads, kind, expected", [
    (1, "real-time", "myth"), (0, "real-time", "right for another reason"), (0, "late", "right")])
def test_events_merge_outcomes(reads, kind, expected):
    t = run(kind, n=10)
    if not reads:  # the whole burst in two reads
        t = Timeline(t.url, 200, t.content_type, t.reads[:2], t.events, clock="shared")
    assert outcome("events-merge", {"burst": t}) == expected


# -- 04 -------------------------------------------------------------------------------------------
def nginx(**settings):
    """Runs for both upstreams: settings map 'setting' -> (h11 kind, httptools kind)."""
    runs = {}
    for setting, kinds in {"default": ("held", "real-time"), **settings}.items():
        for upstream, kind in zip(("h11", "httptools"), kinds):
            runs[f"{setting} · {upstream}"] = run(kind)
    return runs


@pytest.mark.parametrize("default, expected", [
    (("held", "held"), "right"), (("held", "real-time"), "right for another reason"),
    (("real-time", "real-time"), "myth")])
def test_nginx_default_every_outcome(default, expected):
    assert outcome("nginx-default", nginx(default=default)) == expected


@pytest.mark.parametrize("v11, closed, expected", [
    ("real-time", "held", "right for another reason"), ("real-time", "real-time", "right"),
    ("held", "held", "myth")])
def test_http10_every_outcome(v11, closed, expected):
    runs = nginx(**{"proxy_http_version 1.1": (v11, "real-time")})
    runs["close-delimited HTTP/1.1 · raw asyncio"] = run(closed)
    assert outcome("http10", runs) == expected
    assert outcome("http10", nginx(default=("real-time", "real-time"))) == "not measured here"


@pytest.mark.parametrize("key, setting", [
    ("x-accel", "send=x-accel-buffering"), ("connection", "send=connection"),
    ("proxy-buffering", "proxy_buffering off")])
def test_header_and_directive_rules_every_outcome(key, setting):
    assert outcome(key, nginx(**{setting: ("real-time", "real-time")})) == "right"
    assert outcome(key, nginx(**{setting: ("held", "real-time")})) == "myth"
    quiet = nginx(default=("real-time", "real-time"), **{setting: ("real-time", "real-time")})
    assert outcome(key, quiet) == "not measured here"


def cache(header_delivery, cached, guarded):
    runs = nginx(**{"send=cache-control": header_delivery})
    runs["proxy_cache on · httptools (2nd)"] = run(cached)
    runs["proxy_cache on + send=cache-control · httptools (2nd)"] = run(guarded)
    runs["default · httptools (2nd)"] = run()
    return runs


@pytest.mark.parametrize("delivery, cached, guarded, expected", [
    (("real-time", "real-time"), "real-time", "real-time", "right"),
    (("held", "real-time"), "replayed", "real-time", "right for another reason"),
    (("held", "real-time"), "replayed", "replayed", "myth")])
def test_cache_control_every_outcome(delivery, cached, guarded, expected):
    assert outcome("cache-control", cache(delivery, cached, guarded)) == expected


@pytest.mark.parametrize("default2, cached, expected", [
    ("replayed", "replayed", "right"), ("real-time", "replayed", "right for another reason"),
    ("real-time", "real-time", "myth")])
def test_proxy_cache_every_outcome(default2, cached, expected):
    runs = {"proxy_cache on · httptools (2nd)": run(cached), "default · httptools (2nd)": run(default2)}
    assert outcome("proxy-cache", runs) == expected


@pytest.mark.parametrize("quiet, pinged, expected", [
    ("cut", "real-time", "right for another reason"), ("cut", "cut", "right"),
    ("real-time", "real-time", "myth")])
def test_read_timeout_every_outcome(quiet, pinged, expected):
    runs = nginx(**{"read_timeout 1s": (quiet, quiet), "read_timeout 1s + heartbeats": (pinged, pinged)})
    assert outcome("read-timeout", runs) == expected


@pytest.mark.parametrize("kind, expected", [("cut", "right"), ("real-time", "myth")])
def test_send_timeout_every_outcome(kind, expected):
    assert outcome("send-timeout", nginx(**{"send_timeout 1s": (kind, kind)})) == expected


def test_a_cut_is_seen_by_the_stamps_count_too():
    short = run("real-time", n=3, promised=6)  # a clean end after 3 of the 6 announced
    runs = nginx(**{"send_timeout 1s": ("real-time", "real-time")})
    runs["send_timeout 1s · h11"] = short
    assert outcome("send-timeout", runs) == "right"


# -- 10 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("blocking, turns, expected", [
    ("one at a time", "side by side", "right"), ("one at a time", "slowed", "right for another reason"),
    ("one at a time", "one at a time", "myth")])
def test_sleep0_relay_every_outcome(blocking, turns, expected):
    crowds = {"article": SimpleNamespace(verdict=blocking), "article + sleep(0)": SimpleNamespace(verdict=turns),
              "AsyncCoze": SimpleNamespace(verdict="side by side")}
    assert outcome("sleep0-relay", crowds=crowds) == expected


# -- the table ------------------------------------------------------------------------------------
def test_a_missing_measurement_is_not_measured_never_a_guess():
    table = judge_claims("04", {})
    assert {f.outcome for f in table.findings} == {"not measured here"}
    assert all("did not measure" in f.evidence for f in table.findings)


def test_every_claim_has_a_notebook_and_only_known_outcomes():
    assert {c.notebook for c in CLAIMS} == {"01", "03", "04", "10"}
    assert len({c.key for c in CLAIMS}) == len(CLAIMS)
    assert OUTCOMES[-1] == "not measured here"


def test_the_table_carries_machine_readable_findings():
    runs, facts = network()
    bundle = judge_claims("03", runs, **facts)._repr_mimebundle_()
    assert "text/markdown" in bundle and "myth" in bundle["application/vnd.sselab.findings+json"]


@pytest.mark.parametrize("without, with_, expected", [
    ("real-time", "real-time", "myth"), ("late", "real-time", "right"), ("late", "late", "myth")])
def test_sleep0_relay_one_user_every_outcome(without, with_, expected):
    runs = {"article": run(without), "article + sleep(0)": run(with_)}
    assert outcome("sleep0-relay-one", runs) == expected
