"""The Coze relays (servers/coze_relay_*.py) with the real cozepy against the stand-in:
each relay's qualitative outcome with several users and when a user leaves, and a token scan
of notebooks/10_coze.ipynb. Margins are wide: the effects are structural, not a few ms."""

import asyncio
import gc
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

import sselab
from servers import coze_relay_article, coze_relay_async, coze_relay_thread, coze_standin

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "10_coze.ipynb"
FIRST_DELAY, INTERVAL, DELTAS = 0.25, 0.03, 8

ROUTES = {  # name: (module, route)
    "article": (coze_relay_article, "/chat"),
    "sleep0": (coze_relay_article, "/chat-sleep0"),
    "async": (coze_relay_async, "/chat"),
    "def": (coze_relay_thread, "/chat-def"),
    "threadpool": (coze_relay_thread, "/chat-threadpool"),
    "closing": (coze_relay_thread, "/chat-threadpool-closing"),
}


@contextmanager
def relay(name):
    """The stand-in and one relay in front of it; yields (ledger, relay URL)."""
    app = coze_standin.CozeStandIn(first_delay=FIRST_DELAY, interval=INTERVAL, deltas=DELTAS)
    module, route = ROUTES[name]
    with sselab.BackgroundServer(app, name="test-coze-standin") as standin:
        relay_app = module.make_app(base_url=standin.url, token="demo-token", bot_id="7379462189365198898")
        with sselab.BackgroundServer(relay_app, name=f"test-coze-relay-{name}") as server:
            yield app.ledger, server.url + route


@pytest.mark.parametrize("name", ["article", "sleep0", "async", "def"])
def test_one_user_gets_every_token_as_a_stamped_event(name):
    with relay(name) as (ledger, url):
        t = sselab.probe(url + "?q=hello")
    assert len(t.events) == DELTAS and t.stamped
    text = "".join(__import__("json").loads(e.data)["text"] for e in t.events)
    assert text == "".join(coze_standin.TOKENS[:DELTAS])
    assert t.verdict != "held-until-end"
    assert ledger.latest().how == "completed"


def crowd(name, users=3):
    with relay(name) as (_, url):
        return asyncio.run(sselab.acrowd(url, users=users))


@pytest.mark.slow
def test_the_article_relay_serves_users_one_at_a_time():
    c = crowd("article")
    assert c.verdict == "one at a time", c.reason
    # each user waits for the previous users' whole answers: the last starts > 2 answers late
    assert max(c.firsts) > 2 * (FIRST_DELAY + (DELTAS - 1) * INTERVAL) * 0.9, c.firsts


@pytest.mark.slow
def test_sleep0_lets_users_in_but_their_first_tokens_queue():
    c = crowd("sleep0")
    assert c.verdict != "side by side", c.reason
    # user 3's request is read only after users 1 and 2 each blocked the loop for a first token
    assert max(c.firsts) > 1.6 * FIRST_DELAY, c.firsts


@pytest.mark.slow
@pytest.mark.parametrize("name", ["async", "def", "threadpool"])
def test_the_fixes_serve_users_side_by_side(name):
    c = crowd(name)
    assert c.verdict != "one at a time", c.reason
    # every user's first token well before a second user's thinking time could have been queued
    assert max(c.firsts) < 2 * FIRST_DELAY, c.firsts


def leave_early(name, after=3, collect=False):
    """A user reads `after` tokens and leaves; returns the upstream chat's record."""
    with relay(name) as (ledger, url):
        sselab.probe(f"{url}?q={quote('leaving')}", max_events=after)
        left = time.monotonic()
        if collect:
            time.sleep(0.05)  # the relay must first notice the hang-up (and be cancelled)
            gc.collect()
        deadline = left + FIRST_DELAY + DELTAS * INTERVAL + 1.0
        while ledger.open and time.monotonic() < deadline:
            time.sleep(0.02)
        return ledger.latest(), left


@contextmanager
def no_cyclic_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@pytest.mark.slow  # seven relays, about 0.9 s each (a user leaves, then the upstream is watched): full lane
@pytest.mark.parametrize("name, stops", [
    ("article", False),      # no await in the loop: nobody notices the user left
    ("sleep0", True),        # the cancellation lands at sleep(0) and unwinds the SDK loop
    ("async", True),         # the cancellation lands inside httpx's await
    ("def", False),          # the generator is left to the cyclic GC (disabled here)
    ("threadpool", False),   # same: iterate_in_threadpool's frame is kept by a traceback cycle
    ("closing", True),       # contextlib.closing closes the SDK loop on the way out
])
def test_who_stops_the_upstream_chat_when_the_user_leaves(name, stops):
    with no_cyclic_gc():
        chat, left = leave_early(name)
    assert chat.how == ("client left" if stops else "completed"), chat
    if stops:
        assert chat.generated_after(left) <= DELTAS // 2, chat
    else:
        assert len(chat.deltas) == DELTAS


def test_the_cyclic_gc_is_what_frees_the_def_generator():
    with no_cyclic_gc():
        chat, _ = leave_early("def", after=2, collect=True)
    assert chat.how == "client left", chat


def real_bot_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "skip-execution" in c.metadata.get("tags", [])]


def test_only_the_tagged_cells_read_the_token():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = real_bot_cells(nb)
    assert tagged, "the optional real-bot cells are missing"
    for cell in nb.cells:
        if cell.cell_type == "code" and cell not in tagged:
            for word in ("COZE_API_TOKEN", "getpass", "real_token", "os.environ"):
                assert word not in cell.source, f"untagged cell mentions {word}: {cell.source[:80]}"


@pytest.mark.notebook
def test_the_real_bot_cells_never_show_the_token(tmp_path, monkeypatch):
    """Run the notebook WITH its real-bot cells, pointed at a local stand-in that accepts only a
    canary token: the cells must really use it (the stand-in answers) and never show it.
    (tests/test_notebooks.py scans every notebook's ordinary run for a canary too.)"""
    from sselab._runner import run_notebook

    canary = "pat_canary_" + secrets.token_hex(16)
    standin_app = coze_standin.CozeStandIn(token=canary, first_delay=0.05, interval=0.01, deltas=5)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = real_bot_cells(nb)
    for cell in tagged:
        cell.metadata["tags"].remove("skip-execution")
    copy = NOTEBOOK.parent / f".real-bot-{secrets.token_hex(4)}.ipynb"  # beside it: same imports
    nbformat.write(nb, copy)
    try:
        with sselab.BackgroundServer(standin_app, name="test-coze-real-standin") as standin:
            monkeypatch.setenv("COZE_API_TOKEN", canary)
            monkeypatch.setenv("COZE_BOT_ID", "7379462189365198898")
            monkeypatch.setenv("COZE_API_BASE", standin.url)
            run = run_notebook(copy, passes=1)
    finally:
        copy.unlink()
    assert "Real bot 7379462189365198898" in run.outputs_text  # the real-bot path really ran
    assert any(chat.how == "completed" for chat in standin_app.ledger.chats), "no chat used the token"
    assert canary not in run.outputs_text
