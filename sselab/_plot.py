"""Timeline figures: one run, or several side by side (the series' before/after figure).

Defined in notebooks/00_quickstart.ipynb. Built on ``matplotlib.figure.Figure`` directly,
not pyplot, so importing sselab changes no global matplotlib state and a figure is only
shown where a cell returns it.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._timeline import Timeline


class LabFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter without pyplot or any global setting."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


VERDICT_COLOURS = {"real-time": "#2a9d55", "stalled": "#7d8f12", "lagging": "#d08a00",
                   "batched": "#c0392b", "held-until-end": "#8e1b1b", "replayed": "#1f5fa8", "cut": "#6a3d9a",
                   "unknown": "#666666"}


def verdict_label(timeline: Timeline) -> str:
    """The verdict as a title says it: a cut stream also says how it went until the cut."""
    if timeline.verdict != "cut":
        return timeline.verdict
    if not timeline.events:
        return "cut before the first event"
    return f"cut after {len(timeline.events)} events ({timeline.delivery} until then)"


def draw_timeline(ax, timeline: Timeline, title: str | None = None) -> None:
    """Draw one run on ``ax``: y is the event number, x the time since the request.

    Hollow circles: when the server sent each event; filled dots: when it arrived; a line
    joins the two. Ticks along the bottom mark each read, labelled with its size. Shaded
    bands are bursts: several events arriving in one go.
    """
    events = timeline.events
    ys = [e.seq if e.seq is not None else i for i, e in enumerate(events)]
    colour = VERDICT_COLOURS[timeline.verdict]
    for burst in timeline.bursts:
        if len(burst) > 1:
            ax.axvspan(burst[0].arrived - 0.004, burst[-1].arrived + 0.004, color=colour, alpha=0.15, lw=0)
    for e, y in zip(events, ys):
        if e.sent is not None:
            ax.plot([e.sent, e.arrived], [y, y], color="#999999", lw=0.8)
    if timeline.stamped:
        ax.scatter([e.sent for e in events], ys, s=18, facecolors="none", edgecolors="#555555", label="sent")
    ax.scatter([e.arrived for e in events], ys, s=18, color=colour, label="arrived", zorder=3)
    low = min(ys, default=0) - 1.5
    for r in timeline.reads:
        ax.plot([r.t, r.t], [low, low + 0.8], color="#333333", lw=0.8)
    typical = sorted(r.bytes for r in timeline.reads)[len(timeline.reads) // 2] if timeline.reads else 0
    notable = [r for r in timeline.reads if r.bytes > 1.5 * typical] or timeline.reads[-1:]
    for r in sorted(notable, key=lambda r: r.bytes)[-3:]:
        ax.annotate(f"{r.bytes} B", (r.t, low + 0.8), fontsize=7, ha="right", va="bottom", color="#333333")
    ax.plot([], [], "|", color="#333333", label=f"{len(timeline.reads)} reads")  # the ticks, in the legend
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("seconds since the request")
    ax.set_ylabel("event")
    ax.set_ylim(low - 0.3, max(ys, default=0) + 1)
    ax.set_xlim(left=0)
    heading = f"{title}\n" if title else ""
    ax.set_title(f"{heading}{verdict_label(timeline)}", color=colour, fontsize=10)
    if timeline.verdict == "cut" and not timeline.reads and timeline.ended_at:
        ax.axvline(timeline.ended_at, color=colour, lw=1.2, ls="--")
        ax.annotate(f"cut at {timeline.ended_at:.2f} s:\nnothing arrived ", (timeline.ended_at, low + 1.5),
                    color=colour, fontsize=8, ha="right")
    if timeline.verdict == "cut" and timeline.reads:
        last = timeline.reads[-1].t
        ax.axvline(last, color=colour, lw=1.2, ls="--")
        ax.annotate(" cut", (last, max(ys, default=0) + 0.5), color=colour, fontsize=8)
        if timeline.ended_at and timeline.ended_at - last > 0.1:  # it stopped: show the silence
            ax.axvspan(last, timeline.ended_at, color=colour, alpha=0.08, lw=0)
            ax.annotate(f"silent {timeline.ended_at - last:.1f} s", ((last + timeline.ended_at) / 2, low + 1.5),
                        color=colour, fontsize=8, ha="center")
    ax.legend(loc="best", fontsize=7, frameon=False)  # upper left for most runs; clear of the data


def plot_timeline(timeline: Timeline, title: str | None = None, *, size=(6, 3.5)) -> LabFigure:
    """One run's timeline as a Figure (a notebook shows the Figure a cell returns)."""
    fig = LabFigure(figsize=size, layout="constrained")
    draw_timeline(fig.add_subplot(), timeline, title)
    return fig


def plot_runs(runs: dict[str, Timeline], *, ncols: int | None = None, size=(4.2, 3.2),
              sharex: bool = True) -> LabFigure:
    """Several runs side by side, titled by their keys, on a shared time axis."""
    ncols = ncols or min(len(runs), 3)
    nrows = -(-len(runs) // ncols)
    fig = LabFigure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=sharex, squeeze=False).ravel()
    for ax, (title, timeline) in zip(axes, runs.items()):
        draw_timeline(ax, timeline, title)
    for ax in axes[len(runs):]:
        ax.set_visible(False)
    if sharex:  # each draw_timeline froze the shared axis at its own data; widen it to all runs
        ends = [x for t in runs.values() for x in [*(r.t for r in t.reads), *(e.arrived for e in t.events),
                                                   *([t.ended_at] if t.verdict == "cut" and t.ended_at else [])]]
        axes[0].set_xlim(0, max(ends, default=1.0) * 1.03)
    return fig


def plot_delays(runs: dict[str, Timeline], *, title: str | None = None, size=(7, None)):
    """Each event's delay (ms, log scale), one row per run; the first event is a square.

    For effects of a few tens of milliseconds, which a whole-stream timeline hides.
    """
    fig = LabFigure(figsize=(size[0], size[1] or 0.8 + 0.28 * len(runs)), layout="constrained")
    ax = fig.add_subplot()
    for y, (_name, t) in enumerate(runs.items()):
        delays = [max(e.delay, 1e-5) * 1000 for e in t.events if e.delay is not None]
        late = [d > t.late_threshold * 1000 for d in delays]
        colours = ["#c0392b" if x else "#2a9d55" for x in late]
        ax.scatter(delays[1:], [y] * len(delays[1:]), s=14, c=colours[1:], alpha=0.7)
        ax.scatter(delays[:1], [y], s=30, c=colours[:1], marker="s")
    ax.set_xscale("log")
    ax.set_yticks(range(len(runs)), list(runs), fontsize=8)
    ax.invert_yaxis()
    ax.axvline(40, color="#999999", lw=0.8, ls="--")
    ax.set_xlabel("delay of each event, ms (log scale; dashed: 40 ms)")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
