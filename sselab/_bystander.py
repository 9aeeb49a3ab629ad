"""A second client: while one stream runs, keep asking the same server a quick question.

Defined in notebooks/01_event_loop.ipynb. A server whose event loop is blocked answers
nobody, so the longest wait of this bystander is how long the loop was frozen while the
stream ran. The bystander uses its own connection, opened (and warmed up with one request)
before the stream starts.
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


def draw_waits(ax, runs: dict[str, Bystander], *, gap: float | None = None) -> None:
    """Each bystander request as a dot on ``ax``: when it was sent (x), how long it waited (y).

    A dashed line marks ``gap`` (the upstream's gap between items), the natural unit here.
    """
    for name, side in runs.items():
        ax.plot([s for s, _ in side.waits], [w * 1000 for _, w in side.waits], marker="o",
                ms=4, lw=0.8, label=f"{name} (worst {side.worst * 1000:.0f} ms)")
    if gap:
        ax.axhline(gap * 1000, color="#999999", ls="--", lw=0.8)
        ax.annotate("one upstream gap", (0, gap * 1000), fontsize=7, va="bottom", color="#666666")
    ax.set_xlabel("request sent at (s since the stream's request)")
    ax.set_ylabel("second client's wait (ms)")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.legend(fontsize=7, frameon=False)


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
    nobody). A black bar: the source was closed; an open circle at the right edge: still open.
    """
    from ._plot import LabFigure

    fig = LabFigure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    names = list(runs)
    right = max([r.produced[-1] - left for r, left in runs.values() if r.produced] + [0.1]) + 0.1
    for y, name in enumerate(names):
        record, left = runs[name]
        xs = [p - left for p in record.produced]
        ax.scatter([x for x in xs if x <= 0], [y] * sum(x <= 0 for x in xs), s=14, color="#999999")
        ax.scatter([x for x in xs if x > 0], [y] * sum(x > 0 for x in xs), s=14, color="#c0392b")
        if record.ended is not None and record.how != "finished":
            ax.plot([record.ended - left] * 2, [y - 0.3, y + 0.3], color="black", lw=2)
        elif record.ended is None:
            ax.scatter([right], [y], s=30, facecolors="none", edgecolors="black")
    ax.axvline(0, color="#333333", lw=0.8)
    ax.annotate("client left", (0, len(names) - 0.5), fontsize=7, ha="left", color="#333333")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("s after the client left   (red: made for nobody, bar: closed, ○: still open)")
    return fig
