"""One row per server and media type: when the headers arrived, and each event, on one time axis.

Defined in notebooks/05_servers.ipynb (the runs come from ``sselab/_server_runs.py``).
"""

from __future__ import annotations

from ._plot import LabFigure
from ._server_runs import ServerRun

HELD, AT_ONCE, EVENT = "#c0392b", "#2a9d55", "#555555"


def plot_servers(runs: list[ServerRun], *, size=(8.0, None)) -> LabFigure:
    """A diamond where the headers arrived (red when they waited for the first event), dots at events."""
    rows = [(run, media) for run in runs for media in run.by_media]
    fig = LabFigure(figsize=(size[0], size[1] or 0.9 + 0.32 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    for y, (run, media) in enumerate(rows):
        t = run.by_media[media]
        colour = HELD if run.headers_held(media) else AT_ONCE
        ax.plot([e.arrived for e in t.events], [y] * len(t.events), "o", color=EVENT, markersize=3.5)
        if t.headers_at is not None:
            ax.plot(t.headers_at, y, "D", color=colour, markersize=7)
            ax.plot([0, t.headers_at], [y, y], color=colour, lw=2, alpha=0.4)
    ax.set_yticks(range(len(rows)), [f"{run.server} · {media}" for run, media in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel("seconds since the request (the first event was due after the app's wait)")
    handles = [ax.plot([], [], "D", color=AT_ONCE)[0], ax.plot([], [], "D", color=HELD)[0],
               ax.plot([], [], "o", color=EVENT, markersize=3.5)[0]]
    fig.legend(handles, ["headers (sent at once)", "headers (held until the first event)", "events"],
               loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return fig
