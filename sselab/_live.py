"""Live timelines: watch a stream draw itself, so a class sees a burst land.

Defined in notebooks/00_quickstart.ipynb. ``await sselab.watch(url)`` probes like
``aprobe`` and redraws the timeline in the cell's output as events arrive (at most
``fps`` times a second), through an IPython display handle: no widgets needed. Headless
(no IPython, or ``SSELAB_HEADLESS=1``, which the lab's notebook runner sets) it draws
once at the end, which is the same static plot.

Why the probe runs in its own thread: one redraw (``plot_timeline`` and a PNG) costs
0.2-0.3 s of CPU on a busy laptop. Drawn from the probe's ``on_event`` callback, it held
the probe's event loop, so the next reads were stamped when the drawing ended, and an
unbuffered nginx measured "batched". Here the probe's loop, in a worker thread, only
stores the newest partial timeline; the caller's loop draws it on a timer. A drawing
thread can hold the GIL for at most ``sys.getswitchinterval()`` (5 ms) before a woken
reader gets it while the drawing runs Python; inside one long C call (Agg drawing a path) it
waits longer. Measured with real redraws (0.2-0.4 s each) at load 3-4: the worst event came
+12 to +42 ms late, against 0.3-2.7 s when the drawing ran in ``on_event``. Two frames a
second by default keeps such collisions rare.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from ._loop_thread import LoopThread
from ._plot import plot_timeline
from ._probe import aprobe
from ._timeline import Timeline


def _live_display():
    """The IPython ``display`` function when a notebook frontend can show updates, else None."""
    if os.environ.get("SSELAB_HEADLESS") == "1":
        return None
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell" else None


async def watch(url: str, title: str | None = None, *, fps: float = 2.0, **probe_options) -> Timeline:
    """Probe ``url`` and draw its timeline live; return the Timeline, as ``aprobe`` does."""
    display = _live_display()
    if display is None or "client" in probe_options:  # a client belongs to this loop: no thread
        timeline = await aprobe(url, **probe_options)
        _show_static(plot_timeline(timeline, title))
        return timeline
    handle = display(plot_timeline(_empty(url), f"{title or url} (waiting...)"), display_id=True)
    caller, finished = asyncio.get_running_loop(), asyncio.Event()
    latest: list[Timeline] = []  # the probe's thread stores the newest partial timeline here

    def keep(partial: Timeline) -> None:
        latest[:] = [partial]  # no drawing here: that thread stamps arrivals

    job = LoopThread(aprobe(url, on_event=keep, **probe_options), name="sselab-watch",
                     on_done=lambda: caller.call_soon_threadsafe(finished.set))
    drawn = None
    try:
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), 1 / fps)
            partial = latest[0] if latest else None
            if partial is not None and partial is not drawn and not finished.is_set():
                handle.update(plot_timeline(partial, f"{title or url} (live)"))
                drawn = partial
    finally:
        job.stop()  # an interrupted cell stops the stream too
    timeline = job.result(timeout=5)
    handle.update(plot_timeline(timeline, title))
    return timeline


def _empty(url: str) -> Timeline:
    return Timeline(url, 0, "", [], [])


def _show_static(figure) -> None:
    """Show the figure in a notebook or IPython; plain Python has nowhere to show it."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display(figure)
