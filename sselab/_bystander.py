"""A second client: while one stream runs, keep asking the same server a quick question.

Defined in notebooks/01_event_loop.ipynb. A server whose event loop is blocked answers
nobody, so the longest wait of this bystander is how long the loop was frozen while the
stream ran. The bystander uses its own connection, opened (and warmed up with one request)
before the stream starts. ``plot_leaving`` draws what an upstream did after its client left,
for notebooks/02_leaving_early.ipynb.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import httpx

from ._probe import aprobe
from ._timeline import Timeline


@dataclass
class Bystander:
    """The quick requests a second client made during a stream: when each was sent
    (seconds since the stream's request) and how long its answer took."""

    url: str
    waits: list[tuple[float, float]] = field(default_factory=list)

    @property
    def worst(self) -> float | None:
        return max((w for _, w in self.waits), default=None)

    @property
    def median(self) -> float | None:
        return statistics.median(w for _, w in self.waits) if self.waits else None

    def __repr__(self) -> str:
        if not self.waits:
            return f"<Bystander {self.url}: no requests>"
        return (f"<Bystander {self.url}: {len(self.waits)} requests, median wait "
                f"{self.median * 1000:.1f} ms, worst {self.worst * 1000:.0f} ms>")


async def abystander(stream_url: str, side_url: str, *, every: float = 0.01,
                     **probe_options) -> tuple[Timeline, Bystander]:
    """Probe ``stream_url`` while a second client GETs ``side_url`` over and over
    (``every`` seconds apart) until the probe ends. Returns (timeline, bystander)."""
    side = Bystander(side_url)
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        (await client.get(side_url)).raise_for_status()  # open the connection first
        t0 = time.monotonic()
        stream = asyncio.ensure_future(aprobe(stream_url, **probe_options))
        try:
            while not stream.done():
                sent = time.monotonic()
                (await client.get(side_url)).raise_for_status()
                side.waits.append((sent - t0, time.monotonic() - sent))
                await asyncio.wait([stream], timeout=every)
            return stream.result(), side
        finally:
            if not stream.done():
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)


MARKERS = ("o", "s", "^", "D", "v", "P")


def draw_waits(ax, runs: dict[str, Bystander], *, gap: float | None = None) -> None:
    """Each bystander request on ``ax``: a dot at when it was sent (x) and how long it waited (y),
    and a faint bar over the time it was waiting (sent to answered). Requests are separate
    measurements, so no line joins them.

    A dashed line marks ``gap`` (the upstream's gap between items), the natural unit here.
    """
    for i, (name, side) in enumerate(runs.items()):
        sent = [s for s, _ in side.waits]
        waited = [w * 1000 for _, w in side.waits]
        dots = ax.plot(sent, waited, ls="", marker=MARKERS[i % len(MARKERS)], ms=4.5, alpha=0.85,
                       label=f"{name} (worst {side.worst * 1000:.0f} ms)" if side.waits else f"{name} (none)")
        ax.hlines(waited, sent, [s + w for s, w in side.waits], color=dots[0].get_color(), lw=3, alpha=0.25)
    if gap:
        ax.axhline(gap * 1000, color="#999999", ls="--", lw=0.8)
        ax.annotate(" one upstream gap", (0, gap * 1000), xycoords=("axes fraction", "data"), fontsize=7,
                    va="bottom", color="#666666")
    ax.set_xlabel("request sent at (s since the stream's request); bar: while it waited")
    ax.set_ylabel("second client's wait (ms)")
    top, right = ax.get_ylim()[1], ax.get_xlim()[1]
    ax.set_ylim(-0.02 * top, top)  # from 0, with the dots of quick answers clear of the axis
    ax.set_xlim(-0.02 * right, right)
    ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.01), ncols=2)


def plot_waits(runs: dict[str, Bystander], *, gap: float | None = None, size=(6, 3.2)):
    """The second client's waits during each run, as a Figure (see ``draw_waits``)."""
    from ._plot import LabFigure

    fig = LabFigure(figsize=size, layout="constrained")
    draw_waits(fig.add_subplot(), runs, gap=gap)
    return fig


def plot_leaving(runs: dict, *, size=(6, 3.2)):
    """What an upstream did after its client left: ``runs`` maps a name to ``(record, left)``.

    ``record`` has ``produced`` (times each item was made), ``ended`` and ``how``
    (``servers.slow_upstream.Record``); ``left`` is when the client closed the connection.
    Dots: items made, at times relative to ``left`` (grey before, red after: work for
    nobody). A black bar: the source was closed then; a grey bar: it ran to its end. A source
    still open when the record was taken has no end time: its row carries on, dotted, to
    the panel's edge, labelled "still open" outside the plot, not at a time.
    """
    from matplotlib.lines import Line2D

    from ._plot import LabFigure, legend_columns

    fig = LabFigure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    names = list(runs)
    for y, name in enumerate(names):
        _leaving_row(ax, y, *runs[name])
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi + 0.08 * (hi - lo))  # fixed now: the open rows below reach its edge, not a time
    for y, name in enumerate(names):
        record, left = runs[name]
        if record.ended is None:
            _still_open(ax, y, max((p - left for p in record.produced), default=0.0))
    ax.axvline(0, color="#333333", lw=0.8)
    ax.annotate(" client left", (0, 1.0), xycoords=("data", "axes fraction"), fontsize=7, ha="left",
                va="bottom", color="#333333")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(len(names) - 0.4, -0.6)
    ax.set_xlabel("seconds after the client left")
    handles = [Line2D([], [], ls="", marker="o", ms=4, color="#999999"),
               Line2D([], [], ls="", marker="o", ms=4, color="#c0392b"),
               Line2D([], [], ls="", marker="|", ms=9, mew=2, color="black"),
               Line2D([], [], ls="", marker="|", ms=9, mew=2, color="#999999"),
               Line2D([], [], ls=":", color="black")]
    labels = ["item made before", "made for nobody", "source closed", "ran to its end", "still open (never closed)"]
    fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(fig, labels), fontsize=8,
               frameon=False)
    return fig


def _leaving_row(ax, y: int, record, left: float) -> None:
    xs = [p - left for p in record.produced]
    before, after = [x for x in xs if x <= 0], [x for x in xs if x > 0]
    ax.scatter(before, [y] * len(before), s=14, color="#999999", zorder=3)
    ax.scatter(after, [y] * len(after), s=14, color="#c0392b", zorder=3)
    if record.ended is not None:
        colour = "#999999" if record.how == "finished" else "black"
        ax.plot([record.ended - left] * 2, [y - 0.3, y + 0.3], color=colour, lw=2)


def _still_open(ax, y: int, last: float) -> None:
    """A source never closed has no end time to mark: its row carries on, dotted, from its last
    item to the panel's edge, and says so outside the plot."""
    lo, hi = ax.get_xlim()
    ax.axhline(y, xmin=(last - lo) / (hi - lo), xmax=1.0, ls=":", color="black", lw=1)
    ax.annotate("still open", (1.0, y), xycoords=("axes fraction", "data"), xytext=(3, 0),
                textcoords="offset points", fontsize=7, va="center", annotation_clip=False)
