"""A dropped and resumed answer on one time axis: the gap, the events replayed, any lost.

Defined in notebooks/09_reconnect.ipynb (the runs come from ``sselab/_reconnect.py``).
"""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ._plot import LabFigure, fit_title, legend_columns, panel_grid
from ._reconnect import Followed

CONNECTION_COLOURS = ("#1f5fa8", "#2a9d55", "#d08a00", "#6a3d9a", "#8e1b1b", "#444444")
REPEATED, LOST, OUTCOME_OK, OUTCOME_BAD = "#c0392b", "#c0392b", "#2a9d55", "#c0392b"


def draw_followed(ax, run: Followed, title: str | None = None) -> None:
    """y is the token number, x seconds since the prompt was sent.

    Hollow circles: when the model wrote each token; dots: when this client got it,
    coloured by connection; a red cross marks a copy the client had already had; red
    dashes on the left mark tokens it never got. Bars along the bottom are the connections;
    the grey band is the time with none; a dotted line marks when the fault struck.
    """
    seen: set[int] = set()
    for seq, sent, arrived, conn in run.events:
        colour = CONNECTION_COLOURS[conn % len(CONNECTION_COLOURS)]
        ax.plot([sent, arrived], [seq, seq], color="#bbbbbb", lw=0.7, zorder=1)
        ax.scatter([sent], [seq], s=16, facecolors="none", edgecolors="#777777", zorder=2)
        if seq in seen:
            ax.scatter([arrived], [seq], s=30, marker="x", color=REPEATED, zorder=4)
        else:
            ax.scatter([arrived], [seq], s=16, color=colour, zorder=3)
        seen.add(seq)
    lost = [seq for seq in range(run.n) if seq not in seen]
    ax.scatter([0] * len(lost), lost, marker="_", s=120, color=LOST, zorder=4, clip_on=False)
    bar = -2.2
    for i, c in enumerate(run.connections):
        end = c.ended if c.ended is not None else max((a for *_, a, _ in run.events), default=c.opened)
        ax.plot([c.opened, end], [bar, bar], lw=5, solid_capstyle="butt",
                color=CONNECTION_COLOURS[i % len(CONNECTION_COLOURS)])
        following = run.connections[i + 1].opened if i + 1 < len(run.connections) else None
        if following is not None:
            ax.axvspan(end, following, color="#999999", alpha=0.18, lw=0)
    for t in run.faults:
        ax.axvline(t, color="#444444", ls=":", lw=1)
    ax.annotate("connections", (1, bar + 0.4), xycoords=("axes fraction", "data"), ha="right",
                va="bottom", fontsize=6, color="#555555")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bar - 1.2, run.n + 0.5)
    ax.set_xlim(left=0)
    ax.set_xlabel("seconds since the prompt was sent", fontsize=8)
    ax.set_ylabel("token", fontsize=8)
    ax.tick_params(labelsize=7)
    good = run.finished and run.lost == 0 and run.repeated == 0
    lines = (title or f"{run.client} · {run.pattern}\n{run.outcome}; {run.model_ran}").split("\n")
    fit_title(ax, lines, fontsize=8, colour=OUTCOME_OK if good else OUTCOME_BAD)


def _last_moment(run: Followed) -> float:
    """The latest time anything in the run happened (an event, a connection's end, the fault)."""
    times = [arrived for *_, arrived, _ in run.events] + list(run.faults)
    times += [c.ended for c in run.connections if c.ended is not None]
    return max(times, default=1.0)


def plot_followed(runs: list[Followed], *, columns: int = 3, size=(10.5, None)) -> LabFigure:
    """Runs side by side (e.g. the three server patterns under one fault), sharing the x axis,
    which spans every run (not only the first panel's)."""
    columns = min(columns, len(runs))
    rows = -(-len(runs) // columns)
    fig = LabFigure(figsize=(size[0], size[1] or 0.8 + 2.6 * rows), layout="constrained")
    axes = panel_grid(fig, len(runs), columns, sharex=True)  # a short last row is centred
    faults = list(dict.fromkeys(run.fault for run in runs))
    for ax, run in zip(axes, runs):
        title = None if len(faults) == 1 else (f"{run.client} · {run.pattern} · {run.fault}\n"
                                               f"{run.outcome}; {run.model_ran}")
        draw_followed(ax, run, title)
    axes[0].set_xlim(0, 1.04 * max(_last_moment(run) for run in runs))
    fig.suptitle(faults[0] if len(faults) == 1 else "", fontsize=9)
    most = max(len(run.connections) for run in runs)
    dots = [Line2D([], [], ls="", marker="o", ms=4, color=CONNECTION_COLOURS[i % len(CONNECTION_COLOURS)])
            for i in range(max(2, most))]
    handles = [Line2D([], [], ls="", marker="o", ms=4, mfc="none", color="#777777"), *dots,
               Line2D([], [], ls="", marker="x", ms=5, color=REPEATED),
               Line2D([], [], ls="", marker="_", ms=8, mew=1.5, color=LOST),
               Line2D([], [], ls=":", color="#444444"), Patch(color="#999999", alpha=0.18)]
    labels = ["model wrote it", *(f"got it (connection {i + 1})" for i in range(len(dots))),
              "got it again", "never got it", "the fault struck", "no connection"]
    fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(fig, labels), fontsize=8,
               frameon=False)
    return fig
