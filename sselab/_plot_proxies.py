"""Notebook 06's summary figure: one row per proxy × setting, one column per check, by verdict.

Defined in notebooks/06_other_proxies.ipynb (the runs come from ``sselab/_proxy_runs.py``).
Each cell is split in two: the left half is the run in front of uvicorn's h11, the right
half httptools. Its colour is that run's verdict, the colour every other figure in the lab
uses; a cell left white was not measured (a check that setting does not run).
"""

from __future__ import annotations

from matplotlib.patches import Patch, Rectangle

from ._plot import VERDICT_COLOURS, LabFigure
from ._proxy_runs import CHECKS, ProxyRun

HEADERS_HELD = VERDICT_COLOURS["held-until-end"]
"""The colour of a 'late first event' cell whose headers waited for the first event."""
SHORT = {"real-time": "ok", "stalled": "stall", "lagging": "lag", "batched": "batch",
         "held-until-end": "held", "replayed": "replay", "cut": "cut", "unknown": "?"}


def _colour(run: ProxyRun) -> tuple[str, str]:
    t = run.timeline
    if t is None:
        return VERDICT_COLOURS["cut"], str(run.status)
    if run.check == "late first event":
        held = "held until first event" in run.outcome
        return (HEADERS_HELD, "held") if held else (VERDICT_COLOURS["real-time"], "at once")
    if run.check.startswith("gzip") and t.verdict != "cut" and not t.headers.get("content-encoding"):
        return VERDICT_COLOURS[t.verdict], SHORT[t.verdict] + " (plain)"
    return VERDICT_COLOURS[t.verdict], SHORT[t.verdict]


def plot_proxy_matrix(runs: list[ProxyRun]) -> LabFigure:
    """The matrix of every run: rows proxy · setting, columns the checks, halves h11 | httptools."""
    rows = list(dict.fromkeys((r.proxy, r.setting) for r in runs))
    checks = [c for c in CHECKS if any(r.check == c for r in runs)]
    https = list(dict.fromkeys(r.http for r in runs))
    by = {(r.proxy, r.setting, r.check, r.http): r for r in runs}
    fig = LabFigure(figsize=(1.15 * len(checks) + 2.6, 0.3 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    width = 1 / max(1, len(https))
    for y, (proxy, setting) in enumerate(rows):
        for x, check in enumerate(checks):
            for i, http in enumerate(https):
                run = by.get((proxy, setting, check, http))
                if run is None:
                    continue
                colour, label = _colour(run)
                ax.add_patch(Rectangle((x + i * width, y), width, 1, facecolor=colour, edgecolor="white", lw=1))
                ax.text(x + (i + 0.5) * width, y + 0.5, label, ha="center", va="center", fontsize=6,
                        color="white")
    ax.set_xlim(0, len(checks))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([x + 0.5 for x in range(len(checks))], [c.replace(", ", ",\n") for c in checks], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([y + 0.5 for y in range(len(rows))], [f"{p} · {s}" for p, s in rows], fontsize=7)
    for y in range(1, len(rows)):
        if rows[y][0] != rows[y - 1][0]:
            ax.axhline(y, color="black", lw=1.2)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    verdicts = [v for v in VERDICT_COLOURS if any(
        r.timeline is not None and r.timeline.verdict == v for r in runs)]
    names = {"held-until-end": "held-until-end (late first event: headers held)"}
    handles = [Patch(color=VERDICT_COLOURS[v], label=names.get(v, v)) for v in verdicts]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(7, len(handles)), fontsize=7,
               frameon=False, title=f"each cell: left half {https[0]}, right half {https[-1]} upstream; "
                                    f"'(plain)': the proxy did not compress", title_fontsize=7)
    return fig
