"""Several users at once: probe one URL from N concurrent clients and judge how they were served.

Defined in notebooks/10_coze.ipynb. Each user's own Timeline says whether *its* events
arrived as they were sent; the crowd's verdict says whether the users were served side by
side, which a stamp cannot show: a relay that serves users one after another stamps each
user's events when it finally gets to them, so every user's stream looks real-time while
the later users wait seconds before their first event.

Crowd verdicts, against a ``baseline``: one user alone, measured just before the crowd (the
crowd's fastest user would be a poor yardstick: when every user is slowed, so is the fastest):

- ``side by side``: every user's first event came within max(0.1 s, 50 %) of the baseline's,
  and every user finished within max(0.15 s, 25 %) of the baseline's finish;
- ``one at a time``: the streams did not overlap: each user's first event arrived after the
  previous user's last one;
- ``slowed``: anything in between (users overlapped, but some waited or stalled).

``stall`` is the longest gap between two consecutive arrivals (or from the request to the
first event): what a reader watching the text appear would notice.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ._probe import aprobe
from ._table import Table
from ._timeline import Timeline

CROWD_VERDICTS = ("side by side", "slowed", "one at a time", "unknown")
"""Every verdict a Crowd can reach (its figure has a colour for each)."""


def _first(t: Timeline) -> float:
    return t.events[0].arrived if t.events else float("inf")


def _last(t: Timeline) -> float:
    return t.events[-1].arrived if t.events else float("inf")


def stall(t: Timeline) -> float:
    """The longest wait the reader saw: request -> first event, or between two arrivals."""
    arrivals = [0.0] + [e.arrived for e in t.events]
    return max((b - a for a, b in zip(arrivals, arrivals[1:])), default=float("inf"))


@dataclass
class Crowd:
    """N users' Timelines of one URL, started together (``starts``: offsets in seconds)."""

    url: str
    timelines: list[Timeline]
    starts: list[float]
    baseline: Timeline | None = None

    def runs(self) -> dict[str, Timeline]:
        """The users as ``{"user 1": timeline, ...}``, for plot_runs and verdict_table."""
        return {f"user {i + 1}": t for i, t in enumerate(self.timelines)}

    @property
    def firsts(self) -> list[float]:
        """Each user's first event, seconds after their own request."""
        return [_first(t) for t in self.timelines]

    @property
    def finishes(self) -> list[float]:
        """Each user's last event, seconds after their own request."""
        return [_last(t) for t in self.timelines]

    @property
    def stalls(self) -> list[float]:
        return [stall(t) for t in self.timelines]

    def _reference(self) -> Timeline:
        return self.baseline or min(self.timelines, key=_last)  # only for Crowds built by hand

    @property
    def verdict(self) -> str:
        return self._judgement[0]

    @property
    def reason(self) -> str:
        return self._judgement[1]

    @property
    def _judgement(self) -> tuple[str, str]:
        if any(not t.events for t in self.timelines):
            return "unknown", "a user received no event"
        ref = self._reference()
        first_ok = _first(ref) + max(0.1, 0.5 * _first(ref))
        last_ok = _last(ref) + max(0.15, 0.25 * _last(ref))
        spans = sorted((s + f, s + la) for s, f, la in zip(self.starts, self.firsts, self.finishes))
        serial = len(spans) > 1 and all(b[0] >= a[1] - 0.005 for a, b in zip(spans, spans[1:]))
        firsts = ", ".join(f"{f:.2f}" for f in self.firsts)
        finishes = ", ".join(f"{f:.2f}" for f in self.finishes)
        if serial:
            return "one at a time", (f"no two streams overlapped: first events at {firsts} s, "
                                     f"finished at {finishes} s")
        if max(self.firsts) <= first_ok and max(self.finishes) <= last_ok:
            return "side by side", (f"every user's first event by {max(self.firsts):.2f} s "
                                    f"(alone: {_first(ref):.2f} s) and finish by "
                                    f"{max(self.finishes):.2f} s (alone: {_last(ref):.2f} s)")
        return "slowed", (f"first events at {firsts} s (alone: {_first(ref):.2f} s), finished at "
                          f"{finishes} s (alone: {_last(ref):.2f} s), longest stall "
                          f"{max(self.stalls):.2f} s")

    def __repr__(self) -> str:
        return f"<Crowd {self.url} x{len(self.timelines)}: {self.verdict}>"


async def acrowd(url: str, users: int = 3, *, stagger: float = 0.0,
                 baseline: Timeline | None = None, **probe_options) -> Crowd:
    """Probe ``url`` from ``users`` concurrent clients, each starting ``stagger`` s after the
    previous one; judge them against ``baseline`` (one user alone), which is measured first
    when not given."""
    if baseline is None:
        baseline = await aprobe(url, **probe_options)
    t0 = time.monotonic()
    starts = [0.0] * users

    async def one(i: int) -> Timeline:
        await asyncio.sleep(i * stagger)
        starts[i] = time.monotonic() - t0
        return await aprobe(url, **probe_options)

    timelines = await asyncio.gather(*(one(i) for i in range(users)))
    return Crowd(url, list(timelines), starts, baseline)


class CrowdTable(Table):
    """Crowds side by side: how each was served and the figures behind it."""

    COLUMNS = ("run", "served", "users", "first event (s)", "finished (s)", "longest stall",
               "each user's verdict")

    def __init__(self, crowds: dict[str, Crowd]) -> None:
        self.crowds = crowds

    def rows(self) -> list[tuple[str, ...]]:
        out = []
        for name, c in self.crowds.items():
            verdicts = [t.verdict for t in c.timelines]
            counted = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
            out.append((name, c.verdict, str(len(c.timelines)),
                        " / ".join(f"{f:.2f}" for f in c.firsts),
                        " / ".join(f"{f:.2f}" for f in c.finishes),
                        f"{max(c.stalls) * 1000:.0f} ms", counted))
        return out


def crowd_table(crowds: dict[str, Crowd]) -> CrowdTable:
    """A table of how each crowd was served and the figures behind it."""
    return CrowdTable(crowds)
