"""The crowd figure: several users of one URL as rows on one time axis, the crowd's verdict as title.

Defined for the multi-user runs of notebooks/10_coze.ipynb and 11_openai.ipynb (the crowds
come from ``sselab/_concurrent.py``). Each user's own verdict can be "real-time" while the
users were served one after another; only a shared time axis shows that, so the rows use
the crowd's clock (when the crowd started) and the title says how the crowd was served.
"""

from __future__ import annotations

from matplotlib.lines import Line2D

from ._concurrent import Crowd
from ._plot import VERDICT_COLOURS, LabFigure, fit_title, legend_columns, panel_grid, set_time_axis
from ._timeline import Timeline

CROWD_COLOURS = {"side by side": "#2a9d55", "slowed": "#d9730d", "one at a time": "#c0392b",
                 "unknown": "#666666"}
"""One colour per verdict of ``sselab._concurrent.CROWD_VERDICTS``."""

WAITING, ALONE = "#bbbbbb", "#888888"


def _rows(crowd: Crowd) -> list[tuple[str, float, Timeline]]:
    """(label, start on the crowd's clock, timeline): the baseline first (alone, at 0), then each user."""
    rows = [(f"alone (before) · {crowd.baseline.verdict}", 0.0, crowd.baseline)] if crowd.baseline else []
    return rows + [(f"user {i + 1} · {t.verdict}", start, t)
                   for i, (start, t) in enumerate(zip(crowd.starts, crowd.timelines))]


def _end(crowd: Crowd) -> float:
    return max([start + t.events[-1].arrived for _, start, t in _rows(crowd) if t.events] + [0.1])


def draw_crowd(ax, crowd: Crowd, title: str | None = None, *, xlim: tuple[float, float] | None = None) -> None:
    """One crowd on ``ax``: a row per user, x the seconds since the crowd started. A grey bar from
    each user's request to its first event (the wait a reader sees), dots at its events in the
    colour of that user's own verdict; the top row is the same URL alone, measured just before.
    The title, in the crowd verdict's colour, says how the users were served together."""
    rows = _rows(crowd)
    for y, (_label, start, t) in enumerate(rows):
        alone = crowd.baseline is not None and y == 0
        colour = ALONE if alone else VERDICT_COLOURS[t.verdict]
        arrivals = [start + e.arrived for e in t.events]
        first = arrivals[0] if arrivals else start + (t.ended_at or 0.0)
        ax.plot([start, first], [y, y], color=WAITING, lw=5, solid_capstyle="butt", zorder=1)
        ax.plot([start], [y], "|", color="#333333", ms=9, zorder=2)
        ax.scatter(arrivals, [y] * len(arrivals), s=12, color=colour, zorder=3)
    ax.set_yticks(range(len(rows)), [label for label, _, _ in rows], fontsize=8)
    for label, (_, _, t), y in zip(ax.get_yticklabels(), rows, range(len(rows))):
        label.set_color(ALONE if crowd.baseline is not None and y == 0 else VERDICT_COLOURS[t.verdict])
    ax.set_ylim(len(rows) - 0.4, -0.6)
    set_time_axis(ax, *(xlim or (-0.02 * _end(crowd), 1.04 * _end(crowd))), what="since the crowd started")
    firsts = " / ".join(f"{f:.2f}" for f in crowd.firsts)
    alone = f" (alone: {crowd.baseline.events[0].arrived:.2f} s)" if crowd.baseline and crowd.baseline.events else ""
    heading = f"{title}: " if title else ""
    fit_title(ax, [f"{heading}{crowd.verdict}", f"first events after {firsts} s{alone}"],
              colour=CROWD_COLOURS[crowd.verdict])


def plot_crowd(crowds: Crowd | dict[str, Crowd], *, size=(8.0, None), sharex: bool = True) -> LabFigure:
    """Crowds one above the other (a dict titles each by its key), on one time axis unless
    ``sharex=False``: users as rows, the crowd verdict as title (see ``draw_crowd``)."""
    crowds = crowds if isinstance(crowds, dict) else {"": crowds}
    heights = [0.9 + 0.3 * len(_rows(c)) for c in crowds.values()]
    fig = LabFigure(figsize=(size[0], size[1] or sum(heights) + 0.4), layout="constrained")
    axes = panel_grid(fig, len(crowds), 1, sharex=sharex)
    end = max(_end(c) for c in crowds.values())
    for ax, (name, crowd) in zip(axes, crowds.items()):
        draw_crowd(ax, crowd, name or None, xlim=(-0.02 * end, 1.04 * end) if sharex else None)
    handles = [Line2D([], [], ls="", marker="|", ms=9, color="#333333"),
               Line2D([], [], lw=5, color=WAITING),
               Line2D([], [], ls="", marker="o", ms=4, color="#444444")]
    labels = ["a user's request", "waiting for its first event", "an event arrived (colour: that user's verdict)"]
    fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(fig, labels), fontsize=8,
               frameon=False)
    return fig
