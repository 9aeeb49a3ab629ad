"""Timeline figures: one run, or several side by side (the series' before/after figure).

Defined in notebooks/00_quickstart.ipynb. Built on ``matplotlib.figure.Figure`` directly,
not pyplot, so importing sselab changes no global matplotlib state and a figure is only
shown where a cell returns it.

The layout helpers here (``fit_columns``, ``panel_grid``, ``fit_title``, ``set_time_axis``)
are shared by every figure of the toolkit: panels that fit the runs (no empty ones), tick
labels on every panel, titles wrapped to their panel, and a millisecond axis for short runs.
"""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ._timeline import Timeline


class LabFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter without pyplot or any global setting."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


VERDICT_COLOURS = {"real-time": "#2a9d55", "stalled": "#b38f00", "lagging": "#d9730d",
                   "batched": "#c0392b", "held-until-end": "#8e1b1b", "replayed": "#1f5fa8", "cut": "#6a3d9a",
                   "unknown": "#666666"}
"""One colour per verdict of ``sselab._timeline.VERDICTS``: dots and title of a run share it."""

SHORT_RUN = 0.2
"""A time axis spanning less than this many seconds is labelled in milliseconds."""

TICKS = (0.02, 0.09)
"""Where the read ticks sit, as fractions of the panel's height (the events sit above)."""

SENT, NEUTRAL = "#555555", "#444444"


# -- layout shared by every figure -----------------------------------------------------------
def plural(n: int, word: str) -> str:
    """``1 read``, ``2 reads``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def fit_columns(n: int) -> int:
    """Columns for ``n`` panels: pairs side by side, and no empty panel where a grid allows it."""
    if n <= 3:
        return max(n, 1)
    if n % 2 == 0:
        return 4 if n % 4 == 0 and n > 8 else 2
    return 3


def panel_grid(fig: Figure, n: int, ncols: int, *, sharex: bool = False, sharey: bool = False) -> list:
    """``n`` axes in rows of ``ncols``; a short last row is centred, so no panel is left empty.
    Every panel keeps its own tick labels, shared axes or not."""
    if n == 0:
        return []
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    grid = fig.add_gridspec(nrows, 2 * ncols)
    axes: list = []
    for i in range(n):
        row, col = divmod(i, ncols)
        in_row = min(ncols, n - row * ncols)
        start = (ncols - in_row) + 2 * col
        first = axes[0] if axes else None
        axes.append(fig.add_subplot(grid[row, start:start + 2], sharex=first if sharex else None,
                                    sharey=first if sharey else None))
    return axes


def panel_width(ax) -> float:
    """About how wide ``ax`` will be once laid out, in inches (its share of the figure's grid,
    less the room its y labels take); known before the layout runs, unlike its position."""
    spec, fig = ax.get_subplotspec(), ax.figure
    width = fig.bbox.width / fig.dpi
    if spec is None:
        return ax.get_position().width * width
    ratios = spec.get_gridspec().get_width_ratios() or [1] * spec.get_gridspec().ncols
    return sum(ratios[c] for c in spec.colspan) / sum(ratios) * width - 0.6


def fit_title(ax, lines: list[str], *, fontsize: float = 10, colour=None) -> None:
    """A title wrapped to the width of its panel (a title wider than its panel runs into the
    next one, or off the figure)."""
    chars = max(14, int(panel_width(ax) * 72 / (0.56 * fontsize)))  # DejaVu Sans: about 0.52 em a character
    text = "\n".join(textwrap.fill(line, chars, break_on_hyphens=False) for line in lines if line)
    ax.set_title(text, fontsize=fontsize, **({"color": colour} if colour else {}))


def legend_columns(fig: Figure, labels: list[str], fontsize: float = 8) -> int:
    """As many legend columns as the figure's width holds (a legend wider than its figure is cut)."""
    widest = max((len(label) for label in labels), default=1) * 0.56 * fontsize / 72 + 0.5
    return max(1, min(len(labels), int((fig.bbox.width / fig.dpi - 0.2) // widest)))


def short_axis(lo: float, hi: float) -> bool:
    return hi - lo < SHORT_RUN


def seconds(x: float, ms: bool) -> str:
    """A time as the axis shows it: ``12 ms`` on a millisecond axis, ``1.25 s`` otherwise."""
    return f"{x * 1000:.0f} ms" if ms else f"{x:.2f} s"


def set_time_axis(ax, lo: float, hi: float, what: str = "since the request") -> bool:
    """x limits ``lo..hi`` (seconds, negative allowed) with a unit that suits the span; returns
    whether the axis is in milliseconds (the data stay in seconds either way)."""
    ax.set_xlim(lo, hi)
    ms = short_axis(lo, hi)
    if ms:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{round(x * 1000, 6) + 0:g}"))
    ax.set_xlabel(f"{'ms' if ms else 'seconds'} {what}")
    return ms


# -- one run --------------------------------------------------------------------------------------
def verdict_label(timeline: Timeline) -> str:
    """The verdict as a title says it: a cut stream also says how it went until the cut."""
    if timeline.verdict != "cut":
        return timeline.verdict
    if not timeline.events:
        return "cut before the first event"
    return f"cut after {plural(len(timeline.events), 'event')} ({timeline.delivery} until then)"


def time_extent(timeline: Timeline) -> tuple[float, float]:
    """The times a panel must show, in seconds: from the request (or an earlier send stamp, as
    a cache replays) to the last read, arrival, or cut."""
    xs = [r.t for r in timeline.reads] + [e.arrived for e in timeline.events]
    xs += [e.sent for e in timeline.events if e.sent is not None]
    if timeline.verdict == "cut" and timeline.ended_at:
        xs.append(timeline.ended_at)
    return min([0.0, *xs]), max(xs, default=1.0)


def padded(lo: float, hi: float) -> tuple[float, float]:
    pad = 0.04 * ((hi - lo) or 1.0)
    return lo - pad, hi + pad


def _event_rows(ax, ys: list[int]) -> None:
    """y limits that keep the events above the read ticks, and integer ticks only where events are."""
    if not ys:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        return
    low, high = min(ys), max(ys)
    span = (high - low) or 1
    height = span / (0.93 - 0.2)
    ax.set_ylim(low - 0.2 * height, low - 0.2 * height + height)
    ax.set_yticks([v for v in MaxNLocator(integer=True, nbins=6).tick_values(low, high) if low <= v <= high])
    ax.set_ylabel("event")


def _bursts(ax, timeline: Timeline, colour, span: float) -> None:
    """Shade each burst (events arriving within BURST_WINDOW of each other) that looks like one
    moment at this scale: a band as wide as the burst plus a fixed share of the axis. On a
    millisecond axis a chain of 2 ms gaps can span the whole run; the arrivals then show one
    by one and a band over all of them would only hide that."""
    width = 0.006 * span
    for burst in timeline.bursts:
        if len(burst) > 1 and burst[-1].arrived - burst[0].arrived <= 0.1 * span:
            ax.axvspan(burst[0].arrived - width, burst[-1].arrived + width, color=colour, alpha=0.15, lw=0,
                       gid="burst")


def _reads(ax, timeline: Timeline, lo: float, hi: float) -> None:
    """A tick per read along the bottom; the largest reads labelled with their size, clear of
    the y axis and of each other."""
    reads = timeline.reads
    if not reads:
        return
    ax.vlines([r.t for r in reads], *TICKS, transform=ax.get_xaxis_transform(), color="#333333", lw=0.8)
    typical = sorted(r.bytes for r in reads)[len(reads) // 2]
    notable = [r for r in reads if r.bytes > 1.5 * typical] or reads[-1:]
    placed: list[float] = []
    for r in sorted(sorted(notable, key=lambda r: r.bytes)[-3:], key=lambda r: r.t):
        at = (r.t - lo) / (hi - lo)
        if any(abs(at - p) < 0.16 for p in placed):
            continue
        placed.append(at)
        ha = "left" if at < 0.15 else "right" if at > 0.85 else "center"
        ax.annotate(f"{r.bytes} B", (r.t, TICKS[1]), xycoords=("data", "axes fraction"), xytext=(0, 1),
                    textcoords="offset points", fontsize=6.5, ha=ha, va="bottom", color="#333333")


def _cut(ax, timeline: Timeline, colour, ms: bool) -> None:
    """A cut: a dashed line where the stream stopped, and the silence until the end, if any."""
    if timeline.verdict != "cut":
        return
    fraction = ("data", "axes fraction")
    if not timeline.reads:
        if timeline.ended_at:
            lo, hi = ax.get_xlim()
            left = (timeline.ended_at - lo) / (hi - lo) > 0.4  # the note on whichever side has room
            ax.axvline(timeline.ended_at, color=colour, lw=1.2, ls="--")
            ax.annotate(f" cut at {seconds(timeline.ended_at, ms)}:\n nothing arrived ", (timeline.ended_at, 0.5),
                        xycoords=fraction, color=colour, fontsize=8, ha="right" if left else "left", va="center")
        return
    last = timeline.reads[-1].t
    ax.axvline(last, color=colour, lw=1.2, ls="--")
    ax.annotate(" cut", (last, 0.97), xycoords=fraction, color=colour, fontsize=8, va="top")
    if timeline.ended_at and timeline.ended_at - last > 0.1:  # it stopped: show the silence
        ax.axvspan(last, timeline.ended_at, color=colour, alpha=0.08, lw=0)
        ax.annotate(f"silent {seconds(timeline.ended_at - last, ms)}", ((last + timeline.ended_at) / 2, 0.5),
                    xycoords=fraction, color=colour, fontsize=8, ha="center")


def _late(timeline: Timeline) -> list:
    """The late events a ring marks: only in a stalled stream, where they are the evidence."""
    if timeline.delivery != "stalled" or not timeline.stamped:
        return []
    return [(e, y) for e, y, late in zip(timeline.events, _ys(timeline), timeline.late) if late]


def _ys(timeline: Timeline) -> list[int]:
    return [e.seq if e.seq is not None else i for i, e in enumerate(timeline.events)]


def draw_timeline(ax, timeline: Timeline, title: str | None = None, *, xlim: tuple[float, float] | None = None,
                  legend: bool = True) -> None:
    """Draw one run on ``ax``: y is the event number, x the time since the request.

    Hollow circles: when the server sent each event; filled dots: when it arrived, in the
    colour of the run's verdict; a line joins the two. Ticks along the bottom mark each read,
    the largest labelled with its size. Shaded bands are bursts: several events arriving in
    one go. A send stamp earlier than the request (a cache's replay) shows at negative time,
    left of a dotted line at 0. ``xlim`` (seconds) fixes the axis, as ``plot_runs`` does to
    share it; ``legend=False`` leaves the key to the figure (``plot_runs`` puts one below all
    panels, where it covers nothing).
    """
    events, ys = timeline.events, _ys(timeline)
    colour = VERDICT_COLOURS[timeline.verdict]
    lo, hi = xlim or padded(*time_extent(timeline))
    ms = set_time_axis(ax, lo, hi)
    _bursts(ax, timeline, colour, hi - lo)
    if lo < 0 and any(e.sent is not None and e.sent < 0 for e in events):
        ax.axvline(0, color=NEUTRAL, lw=0.8, ls=":")
        ax.annotate(" request", (0, 0.97), xycoords=("data", "axes fraction"), fontsize=7, va="top",
                    color=NEUTRAL)
    for e, y in zip(events, ys):
        if e.sent is not None:
            ax.plot([e.sent, e.arrived], [y, y], color="#999999", lw=0.8)
    if timeline.stamped:
        ax.scatter([e.sent for e in events], ys, s=18, facecolors="none", edgecolors=SENT)
    ax.scatter([e.arrived for e in events], ys, s=18, color=colour, zorder=3)
    late = _late(timeline)
    ax.scatter([e.arrived for e, _ in late], [y for _, y in late], s=70, facecolors="none",
               edgecolors=colour, linewidths=1.2, zorder=3)
    _reads(ax, timeline, lo, hi)
    _event_rows(ax, ys)
    reads = plural(len(timeline.reads), "read").replace(" ", "\u00a0")  # kept with the verdict
    fit_title(ax, [title or "", f"{verdict_label(timeline)}\u00a0·\u00a0{reads}"],
              colour=colour)
    _cut(ax, timeline, colour, ms)
    if legend:
        handles, labels = legend_entries([timeline], shades_bursts([ax]))
        ax.legend(handles, labels, loc="best", fontsize=7, frameon=False)  # in a caller's grid: takes no room


def shades_bursts(axes) -> bool:
    return any(p.get_gid() == "burst" for ax in axes for p in ax.patches)


def legend_entries(timelines: list[Timeline], bursts: bool = True) -> tuple[list, list[str]]:
    """The key to what the panels of these runs show (only what at least one of them has;
    ``bursts``: whether any burst is shaded)."""
    entries = []
    if any(t.stamped for t in timelines):
        entries.append((Line2D([], [], ls="", marker="o", ms=4.5, mfc="none", color=SENT),
                        "sent (its stamp)"))
    if any(t.events for t in timelines):
        entries.append((Line2D([], [], ls="", marker="o", ms=4.5, color=NEUTRAL),
                        "arrived (colour: the verdict)"))
    if any(_late(t) for t in timelines):
        entries.append((Line2D([], [], ls="", marker="o", ms=8, mfc="none", color=NEUTRAL), "late (a stall)"))
    if any(t.reads for t in timelines):
        entries.append((Line2D([], [], ls="", marker="|", ms=8, color="#333333"),
                        "a read (N B: its size)"))
    if bursts:
        entries.append((Patch(color=NEUTRAL, alpha=0.15, lw=0), "a burst: arrived together"))
    if any(e.sent is not None and e.sent < 0 for t in timelines for e in t.events):
        entries.append((Line2D([], [], ls=":", color=NEUTRAL), "the request (t = 0)"))
    if any(t.verdict == "cut" for t in timelines):
        entries.append((Line2D([], [], ls="--", color=VERDICT_COLOURS["cut"]), "the stream was cut"))
    return [h for h, _ in entries], [label for _, label in entries]


def figure_legend(fig: Figure, timelines: list[Timeline]) -> None:
    handles, labels = legend_entries(timelines, shades_bursts(fig.axes))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(fig, labels), fontsize=8,
                   frameon=False)


# -- figures ---------------------------------------------------------------------------------------
def plot_timeline(timeline: Timeline, title: str | None = None, *, size=(6, 3.5)) -> LabFigure:
    """One run's timeline as a Figure (a notebook shows the Figure a cell returns)."""
    fig = LabFigure(figsize=(size[0], size[1] + 0.35), layout="constrained")
    draw_timeline(fig.add_subplot(), timeline, title, legend=False)
    figure_legend(fig, [timeline])
    return fig


def plot_runs(runs: dict[str, Timeline], *, ncols: int | None = None, size=(4.2, 3.2),
              sharex: bool = True) -> LabFigure:
    """Several runs side by side, titled by their keys, on a shared time axis (from the earliest
    send stamp to the last arrival of any run) unless ``sharex=False``. ``ncols`` defaults to
    what fits the runs: pairs side by side, no empty panel (``fit_columns``)."""
    ncols = min(ncols or fit_columns(len(runs)), max(len(runs), 1))
    nrows = -(-len(runs) // ncols)
    fig = LabFigure(figsize=(size[0] * ncols, size[1] * nrows + 0.45), layout="constrained")
    axes = panel_grid(fig, len(runs), ncols, sharex=sharex)
    shared = None
    if sharex and runs:
        extents = [time_extent(t) for t in runs.values()]
        shared = padded(min(lo for lo, _ in extents), max(hi for _, hi in extents))
    for ax, (title, timeline) in zip(axes, runs.items()):
        draw_timeline(ax, timeline, title, xlim=shared, legend=False)
    figure_legend(fig, list(runs.values()))
    return fig


def plot_delays(runs: dict[str, Timeline], *, title: str | None = None, size=(7, None)):
    """Each event's delay (ms, log scale), one row per run; the first event is a square. Red:
    late by the run's own threshold (as its verdict counts it); each row is labelled with the
    verdict, in its colour. A run without send stamps has no delays to show, and says so.

    For effects of a few tens of milliseconds, which a whole-stream timeline hides.
    """
    fig = LabFigure(figsize=(size[0], size[1] or 0.8 + 0.28 * len(runs)), layout="constrained")
    ax = fig.add_subplot()
    for y, t in enumerate(runs.values()):
        if not t.stamped:
            ax.annotate("no send stamps: no delays" if t.events else "no events", (0.01, y),
                        xycoords=("axes fraction", "data"), fontsize=7, va="center", color="#666666")
            continue
        delays = [max(e.delay, 1e-5) * 1000 for e in t.events]
        colours = ["#c0392b" if late else "#2a9d55" for late in t.late]
        ax.scatter(delays[1:], [y] * len(delays[1:]), s=14, c=colours[1:], alpha=0.7)
        ax.scatter(delays[:1], [y], s=30, c=colours[:1], marker="s")
    ax.set_xscale("log")
    ax.set_yticks(range(len(runs)), [f"{name} · {t.verdict}" for name, t in runs.items()], fontsize=8)
    for label, t in zip(ax.get_yticklabels(), runs.values()):
        label.set_color(VERDICT_COLOURS[t.verdict])
    ax.set_ylim(len(runs) - 0.5, -0.5)
    ax.axvline(40, color="#999999", lw=0.8, ls="--")
    ax.set_xlabel("each event's delay, ms (log scale)\nred: late for its run; dashed: 40 ms", fontsize=9)
    if title:  # over the whole figure: the row labels take much of the width
        chars = int((fig.bbox.width / fig.dpi - 0.3) * 72 / (0.58 * 10))
        fig.suptitle(textwrap.fill(title, chars), fontsize=10)
    return fig
