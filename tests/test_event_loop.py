"""The event-loop story of notebooks 01 (the event loop) and 02 (leaving early), held with wide margins.

A blocking SDK iterator inside an ``async def`` generator (servers/loop_*.py). On the
versions the notebook was written on (FastAPI 0.165, Starlette 1.10, anyio 4.16, uvicorn
0.54), each test below pins one outcome the notebook teaches. If a library upgrade changes
one, the test fails and the notebook's explanation needs a look, rather than quietly
teaching a wrong lesson. Margins are several-fold: the effects are whole upstream gaps
(100 ms) against a few milliseconds. The notebooks measure on h11 only and say that httptools
behaves the same; the tests below run on both, so that sentence is checked.
"""

import ast
import asyncio
import re
import statistics
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

import sselab
from servers import (
    loop_article,
    loop_async_upstream,
    loop_def_generator,
    loop_fastapi_sse,
    loop_middleware,
    loop_threadpool,
    slow_upstream,
)

GAP, N = 0.1, 5
ROOT = Path(__file__).resolve().parent.parent


def lag(t):
    """Mean delay an event took to arrive, in upstream gaps."""
    return statistics.mean(t.added_delays) / GAP


async def with_bystander(server, path):
    return await sselab.abystander(f"{server.url}{path}?n={N}&gap={GAP}", server.url + "/health")


async def leave_after_one(server, path):
    slow_upstream.RECORDS.clear()
    await sselab.aprobe(f"{server.url}{path}?n=10&gap={GAP}", max_events=1)
    left = time.monotonic()
    return await slow_upstream.latest().settled(GAP), left


@pytest.fixture(params=["h11", "httptools"])
def http(request):
    return request.param


# -- the stand-in upstream itself ---------------------------------------------------------

def test_chat_stream_records_its_items_and_how_it_ended():
    slow_upstream.RECORDS.clear()
    assert list(slow_upstream.chat_stream(3, 0.0)) == [0, 1, 2]
    finished = slow_upstream.latest()
    assert (finished.how, len(finished.produced), finished.ended is not None) == ("finished", 3, True)
    stream = slow_upstream.chat_stream(5, 0.0)
    next(stream)
    stream.close()
    assert slow_upstream.latest().how == "closed"
    assert slow_upstream.latest().produced_after(0.0) == 1


def test_achat_stream_records_cancellation():
    async def consume():
        async for _ in slow_upstream.achat_stream(10, 0.05):
            pass

    async def main():
        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.12)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    slow_upstream.RECORDS.clear()
    asyncio.run(main())
    assert slow_upstream.latest().how == "cancelled"
    assert 1 <= len(slow_upstream.latest().produced) <= 3


# -- 1 and 2: the article's pattern, bare StreamingResponse -------------------------------

@pytest.mark.slow
def test_article_pattern_reaches_one_client_in_time_but_freezes_the_server(http):
    async def main():
        with sselab.BackgroundServer(loop_article.app, name="test-01-article", http=http) as server:
            return (await with_bystander(server, "/stream"),
                    await with_bystander(server, "/stream-sleep0"))

    (plain, plain_side), (sleep0, sleep0_side) = asyncio.run(main())
    # uvicorn's send() writes to the socket at once: no loop turn needed, with or without sleep(0)
    assert plain.verdict == "real-time", plain.reason
    assert sleep0.verdict == "real-time", sleep0.reason
    # without sleep(0) the loop is blocked for (nearly) the whole stream: N gaps
    assert plain_side.worst > 0.5 * N * GAP, plain_side
    # with sleep(0) a quick request still waits for more than one gap (measured: about 3)
    assert sleep0_side.worst > 1.3 * GAP, sleep0_side


# -- 3: the same behind a middleware, and with fastapi.sse ---------------------------------

@pytest.mark.slow
def test_middleware_delays_every_other_event_until_sleep0_gives_the_loop_a_turn(http):
    async def main():
        with sselab.BackgroundServer(loop_middleware.app, name="test-01-middleware", http=http) as server:
            return (await with_bystander(server, "/stream"),
                    await with_bystander(server, "/stream-sleep0"))

    (plain, _), (sleep0, sleep0_side) = asyncio.run(main())
    assert plain.verdict != "real-time" and lag(plain) > 0.25, (plain.reason, lag(plain))
    assert lag(sleep0) < 0.15, (sleep0.reason, lag(sleep0))
    assert sleep0_side.worst > 1.3 * GAP, sleep0_side


@pytest.mark.slow
def test_fastapi_sse_lags_with_and_without_one_sleep0(http):
    async def main():
        with sselab.BackgroundServer(loop_fastapi_sse.app, name="test-01-sse", http=http) as server:
            return (await with_bystander(server, "/stream"),
                    await with_bystander(server, "/stream-sleep0"))

    (plain, _), (sleep0, _) = asyncio.run(main())
    # two task hand-overs between generator and socket; one sleep(0) is one loop turn
    assert lag(plain) > 0.9, (plain.reason, lag(plain))  # measured: about 1.4
    assert 0.4 < lag(sleep0) < lag(plain) - 0.2, (lag(sleep0), lag(plain))  # measured: about 0.8


# -- 4: the real fixes --------------------------------------------------------------------

@pytest.mark.parametrize("app", [loop_def_generator.app, loop_threadpool.app, loop_async_upstream.app],
                         ids=["def-generator", "iterate_in_threadpool", "async-upstream"])
def test_real_fixes_keep_a_second_client_waiting_far_less_than_a_gap(app, http):
    """The blocking variants make it wait over 1.3 gaps at worst (measured: 2-5 gaps)."""
    async def main():
        with sselab.BackgroundServer(app, name="test-01-fix", http=http) as server:
            return await with_bystander(server, "/stream")

    stream, side = asyncio.run(main())
    assert stream.verdict == "real-time", stream.reason
    assert len(side.waits) >= 10, side
    assert side.median < 0.25 * GAP, side  # measured: 2-4 ms
    assert side.worst < 1.5 * GAP, side  # measured: 20-50 ms, up to 110 ms on a loaded machine


# -- notebook 02: the client leaves ----------------------------------------------------------

LEAVING = {  # route -> (how the source ends, most items made for nobody)
    (loop_article, "/stream"): ("finished", 9),
    (loop_article, "/stream-sleep0"): ("closed", 6),
    (loop_middleware, "/stream"): ("running", 7),
    # with sleep(0) behind another task, the cancellation lands at the sleep(0) or in that task's
    # send, whichever it is waiting in: a race (measured: mostly closed), as notebook 02 says
    (loop_middleware, "/stream-sleep0"): ("closed or running", 6),
    (loop_fastapi_sse, "/stream"): ("running", 7),
    (loop_fastapi_sse, "/stream-sleep0"): ("closed or running", 6),
    (loop_threadpool, "/stream"): ("running", 2),
    (loop_def_generator, "/stream"): ("running", 2),
    (loop_threadpool, "/stream-closing"): ("closed", 2),
    (loop_async_upstream, "/stream"): ("cancelled", 1),
}


@pytest.mark.slow  # 18 runs of about 1 s each (an upstream left to finish or not): the full lane only
@pytest.mark.parametrize("module, path", list(LEAVING), ids=[f"{m.__name__[8:]}{p}" for m, p in LEAVING])
def test_what_a_client_leaving_does_to_the_upstream(module, path, http):
    async def main():
        with sselab.BackgroundServer(module.app, name="test-02-leave", http=http) as server:
            return await leave_after_one(server, path)

    record, left = asyncio.run(main())
    how, most_for_nobody = LEAVING[module, path]
    assert record.how in how.split(" or "), (record, "the upstream ended differently than notebook 02 says")
    assert record.produced_after(left) <= most_for_nobody, record
    if how == "finished":  # never noticed: it made every remaining item for nobody
        assert record.produced_after(left) == 9, record
    if record.how in ("closed", "cancelled"):
        assert record.ended - left < (most_for_nobody + 1) * GAP, record


# -- the exercises' answers and the diagrams -------------------------------------------------

@pytest.mark.parametrize("name", ["01_event_loop", "02_leaving_early"])
def test_solution_compiles_with_top_level_await(name):
    source = (ROOT / "notebooks" / "solutions" / f"{name}.py").read_text()
    compile(source, f"{name}.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("name, diagram", [("01_event_loop", "task_handover.svg"),
                                           ("02_leaving_early", "disconnect.svg"),
                                           ("03_network", "nagle_delayed_ack.svg")])
def test_the_notebook_shows_its_diagram_and_the_file_is_svg(name, diagram):
    """A relative link that works in JupyterLab and in the book; a real SVG with a title."""
    path = ROOT / "notebooks" / f"{name}.ipynb"
    markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    linked = re.findall(r"!\[[^\]]*\]\((\.\./assets/diagrams/[^)]+)\)", markdown)
    assert f"../assets/diagrams/{diagram}" in linked, linked
    svg = ET.parse(path.parent / f"../assets/diagrams/{diagram}").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox"), svg.attrib
    assert svg.find("{http://www.w3.org/2000/svg}title") is not None, "a <title> for screen readers"
