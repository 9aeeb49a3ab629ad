"""Live timelines: watch a stream draw itself, so a class sees a burst land.

Defined in notebooks/00_quickstart.ipynb. ``await sselab.watch(url)`` probes like
``aprobe`` and redraws the timeline in the cell's output as events arrive (at most
``fps`` times a second), through an IPython display handle: no widgets needed. Headless
(no IPython, or ``SSELAB_HEADLESS=1``, which the lab's notebook runner sets) it draws
once at the end, which is the same static plot.
"""

from __future__ import annotations

import os
import time

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


async def watch(url: str, title: str | None = None, *, fps: float = 5.0, **probe_options) -> Timeline:
    """Probe ``url`` and draw its timeline live; return the Timeline, as ``aprobe`` does."""
    display = _live_display()
    if display is None:
        timeline = await aprobe(url, **probe_options)
        _show_static(plot_timeline(timeline, title))
        return timeline
    handle = display(plot_timeline(_empty(url), f"{title or url} (waiting...)"), display_id=True)
    last = 0.0

    def redraw(partial: Timeline) -> None:
        nonlocal last
        if time.monotonic() - last >= 1 / fps:
            last = time.monotonic()
            handle.update(plot_timeline(partial, f"{title or url} (live)"))

    timeline = await aprobe(url, on_event=redraw, **probe_options)
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
