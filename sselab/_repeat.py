"""The same probe, several times: does a verdict hold, or was one run unlucky?

Defined in notebooks/01_event_loop.ipynb. A verdict rests on one run; on a busy laptop a
pause of a few hundred milliseconds can flip a borderline one. Where a notebook's point rests
on such a case, it probes it a few times and says how many runs agreed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ._probe import aprobe
from ._timeline import Timeline


@dataclass
class Repeats:
    """Several timelines of one URL, and how their verdicts agree."""

    url: str
    timelines: list[Timeline]

    @property
    def verdicts(self) -> Counter:
        return Counter(t.verdict for t in self.timelines)

    @property
    def verdict(self) -> str:
        """The most common verdict (ties: the first run's)."""
        counts = self.verdicts
        best = max(counts.values())
        return next(t.verdict for t in self.timelines if counts[t.verdict] == best)

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {v}" for v, n in self.verdicts.most_common())
        return f"{self.verdicts[self.verdict]} of {len(self.timelines)} runs {self.verdict} ({counts})"

    __repr__ = __str__


async def arepeat(url: str, times: int = 3, **probe_options) -> Repeats:
    """Probe ``url`` ``times`` times, one after another, with the same options."""
    return Repeats(url, [await aprobe(url, **probe_options) for _ in range(times)])
