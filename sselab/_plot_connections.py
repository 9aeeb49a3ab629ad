"""The connection-limit figure: one row per EventSource, when it opened and got its first event.

Defined in notebooks/07_https_http2.ipynb (see ``sselab/_connections.py``).
"""

from __future__ import annotations

from ._connections import ManyStreams
from ._plot import LabFigure, fit_title, panel_grid

WAITED, AT_ONCE = "#c0392b", "#2a9d55"


def plot_many_streams(runs: list[ManyStreams], *, ncols: int = 2, size=(4.4, 2.9)) -> LabFigure:
    """A panel per protocol; a row per EventSource: bar from 0 to ``open``, dot at the first event."""
    ncols = min(ncols, len(runs))
    nrows = -(-len(runs) // ncols)
    fig = LabFigure(figsize=(size[0] * ncols, size[1] * nrows + 0.4), layout="constrained")
    axes = panel_grid(fig, len(runs), ncols, sharex=True, sharey=True)  # a short last row is centred
    end = max((s.first_event or s.opened or 0) for r in runs for s in r.streams) * 1000
    for ax, run in zip(axes, runs):
        waited = {s.index for s in run.waited}
        for s in run.streams:
            colour = WAITED if s.index in waited else AT_ONCE
            if s.opened is not None:
                ax.barh(s.index, s.opened * 1000, height=0.5, color=colour, alpha=0.35)
                ax.plot(s.opened * 1000, s.index, "|", color=colour, markersize=10)
            if s.first_event is not None:
                ax.plot(s.first_event * 1000, s.index, "o", color=colour, markersize=5)
        fit_title(ax, [run.label, f"{run.opened_at_once} of {len(run.streams)} open at once, "
                                  f"{len(waited)} waited"], fontsize=9)
        ax.set_xlabel("ms since the page opened them", fontsize=8)
        ax.set_xlim(0, end * 1.08 + 1)
        ax.set_ylabel("EventSource #", fontsize=8)
    axes[0].invert_yaxis()  # shared y: once for all panels; stream 0 on top
    axes[0].set_yticks(range(max(len(r.streams) for r in runs)))
    handles = [axes[0].plot([], [], "|", color="#555", markersize=10)[0],
               axes[0].plot([], [], "o", color="#555", markersize=5)[0],
               axes[0].plot([], [], "s", color=WAITED, alpha=0.5)[0]]
    fig.legend(handles, ["open", "first event", "waited for a connection"],
               loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return fig
