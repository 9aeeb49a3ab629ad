"""What one probe saw, and what it means: reads, events, bursts, delays and a verdict.

Defined in notebooks/00_quickstart.ipynb; every notebook judges its runs with it.

Times are seconds since the request was sent, on the monotonic clock. A server that follows
the stamp contract (see ``servers/stamp.py``) puts ``{"seq": n, "sent": time.monotonic()}``
in each event's data. On one Linux machine every process shares CLOCK_MONOTONIC, so for a
loopback URL ``delay = arrived - sent`` is exact, even with nginx in between (clock
"shared"). For any other host the clocks differ: the stamps are shifted so that the fastest
event has delay 0 (clock "aligned"), which keeps every difference between events but cannot
show a lag that every event shares.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from functools import cached_property

BURST_WINDOW = 0.002
"""Events whose arrivals are at most this far apart (chained) form one burst, in seconds."""

MIN_LATE = 0.020
"""The smallest added delay, in seconds, that counts an event as late."""

VERDICTS = ("real-time", "stalled", "lagging", "batched", "held-until-end", "replayed", "cut", "unknown")

STOPPED = 1.0
"""Seconds of silence before the probe's time limit that make an unfinished stream a stopped one."""

REPLAY_BEFORE = 0.050
"""An event stamped this long before the request was made was not made for it: a replay."""

CUT_ENDINGS = {"cut": "the connection closed before the body ended",
               "timeout": "the client's read timeout gave up on it"}
"""``ended_by`` values that mean the stream did not reach its end (the probe's own limits do not)."""


@dataclass(frozen=True)
class Read:
    """One piece of body as httpx handed it over: when (s) and how many bytes."""

    t: float
    bytes: int


@dataclass(frozen=True)
class Event:
    """One SSE event: when its last byte arrived, and when the server says it sent it."""

    seq: int | None
    sent: float | None
    arrived: float
    bytes: int
    read: int
    name: str = "message"
    data: str = ""
    id: str | None = None

    @property
    def delay(self) -> float | None:
        return None if self.sent is None else self.arrived - self.sent


@dataclass
class Timeline:
    """One streamed response, as measured. ``verdict`` is computed, never given.

    An event is *late* when the path added more than ``late_threshold`` to its delay,
    ``late_threshold = max(20 ms, a quarter of the median gap between sends)``. With send
    stamps, the first rule that fits decides:

    - ``cut``: the stream did not reach its end: the connection closed mid-body (a chunked
      body without its last chunk, a short Content-Length, a reset), the client's read
      timeout fired, the stamps announced more events (``"of": N``) than arrived before the
      end, or it stopped: nothing came for at least STOPPED seconds (and 5 send gaps) before
      the probe's own time limit with announced events still missing. Whatever the delivery
      until then, which ``delivery`` gives (one of the verdicts below).
    - ``unknown``: fewer than 2 events arrived.
    - ``replayed``: the first event was sent more than REPLAY_BEFORE *before* the request was
      made (shared clock only): a cache handed over a stored copy of an earlier stream.
    - ``held-until-end``: at least 3 events, at least 90 % of them in the final burst, and at
      least half of them late: the path held the stream until the source finished.
    - ``real-time``: no event was late.
    - ``batched``: at least 30 % of the events arrived in bursts (arrivals at most
      BURST_WINDOW apart) that mix events sent more than ``late_threshold`` apart: the path
      collects events and releases them in groups. Events the source itself sent together
      may arrive together without this.
    - ``stalled``: some events were late, but at most a third of them: one or a few
      hiccups in an otherwise real-time stream (``stalls`` lists each run of late events).
    - ``lagging``: more than a third of the events were late, arriving one by one: the
      stream runs steadily behind (typically one event behind the source).

    Without send stamps only the arrival pattern is there: a cut is still a cut; one burst
    after a wait of more than 0.5 s reads as ``held-until-end``; mostly multi-event bursts as
    ``batched``; single arrivals as ``real-time`` (a lag cannot be seen without stamps).
    ``reason`` says which evidence decided, in figures a reader can check on the plot.
    """

    url: str
    status: int
    content_type: str
    reads: list[Read]
    events: list[Event]
    comments: int = 0
    clock: str | None = None
    ended_by: str = "eof"
    headers: dict = field(default_factory=dict)
    headers_at: float | None = None
    """Seconds from the request to the response headers (None where not measured)."""
    http_version: str = "HTTP/1.1"
    promised: int | None = None
    """How many events the stamps announced (their ``of`` field), None when they do not say."""
    retry: int | None = None
    """The reconnection time in ms the stream asked for with ``retry:``, None if it did not."""
    ended_at: float | None = None
    """Seconds from the request to the end of the stream: its end, a cut, or a probe limit."""

    # -- derived evidence -------------------------------------------------------------
    @property
    def stamped(self) -> bool:
        return bool(self.events) and all(e.sent is not None for e in self.events)

    @property
    def framing(self) -> str:
        """How the body's end is marked: what a proxy (and this probe) can tell a cut by."""
        if not self.http_version.startswith("HTTP/1"):
            return f"{self.http_version} frames"
        h = {k.lower(): v.lower() for k, v in self.headers.items()}
        if "chunked" in h.get("transfer-encoding", ""):
            return "chunked"
        return "content-length" if "content-length" in h else "close-delimited"

    @cached_property
    def lost(self) -> list[int]:
        """Stamped sequence numbers that never arrived (up to ``promised``, or the last seen)."""
        seqs = {e.seq for e in self.events if e.seq is not None}
        if not seqs:
            return []
        end = self.promised if self.promised is not None else max(seqs) + 1
        return [n for n in range(end) if n not in seqs]

    @cached_property
    def repeated(self) -> int:
        """Events whose stamped sequence number had already arrived (a replay, or a resend)."""
        seqs = [e.seq for e in self.events if e.seq is not None]
        return len(seqs) - len(set(seqs))

    @property
    def cut_reason(self) -> str | None:
        """Why the stream counts as cut, or None when it reached its end (or a probe limit)."""
        if self.ended_by in CUT_ENDINGS:
            return CUT_ENDINGS[self.ended_by]
        if self.promised is None:
            return None
        got = len({e.seq for e in self.events if e.seq is not None})
        if got >= self.promised or (self.events and self.events[-1].seq == self.promised - 1):
            return None
        if self.ended_by == "eof":
            return (f"the body ended ({self.framing}) before the last of the {self.promised} "
                    f"events its stamps announced")
        silence = self.ended_at - (self.reads[-1].t if self.reads else 0.0) if self.ended_at else 0.0
        if self.ended_by == "max_seconds" and silence >= max(STOPPED, 5 * (self.send_gap or 0.0)):
            return (f"it stopped: nothing arrived in the {silence:.1f} s before the probe's time limit, "
                    f"with {self.promised - got} of the {self.promised} announced events still to come")
        return None

    @cached_property
    def bursts(self) -> list[list[Event]]:
        """Events grouped by arrival: each group arrived within BURST_WINDOW of its predecessor."""
        groups: list[list[Event]] = []
        for e in self.events:
            if groups and e.arrived - groups[-1][-1].arrived <= BURST_WINDOW:
                groups[-1].append(e)
            else:
                groups.append([e])
        return groups

    @cached_property
    def send_gap(self) -> float | None:
        """Median time between consecutive sends (the source's own cadence)."""
        sent = [e.sent for e in self.events if e.sent is not None]
        gaps = [b - a for a, b in zip(sent, sent[1:])]
        return statistics.median(gaps) if gaps else None

    @property
    def late_threshold(self) -> float:
        return max(MIN_LATE, 0.25 * (self.send_gap or 0.0))

    @cached_property
    def added_delays(self) -> list[float]:
        """Each event's delay beyond the path's floor (0 with a shared clock)."""
        delays = [e.delay for e in self.events]
        return [d - (0.0 if self.clock == "shared" else min(delays)) for d in delays]

    def _batching_bursts(self) -> list[list[Event]]:
        """Bursts that hold events the source sent more than ``late_threshold`` apart."""
        return [b for b in self.bursts if len(b) > 1 and b[-1].sent - b[0].sent > self.late_threshold]

    # -- verdict ---------------------------------------------------------------------
    @cached_property
    def late(self) -> list[bool]:
        """Per event: did the path add more than ``late_threshold``? (empty without stamps)"""
        return [d > self.late_threshold for d in self.added_delays] if self.stamped else []

    @cached_property
    def stalls(self) -> list[list[Event]]:
        """Runs of consecutive late events: each is one stall of the stream."""
        runs: list[list[Event]] = []
        for i, (e, late) in enumerate(zip(self.events, self.late)):
            if late:
                if runs and i > 0 and self.late[i - 1]:
                    runs[-1].append(e)
                else:
                    runs.append([e])
        return runs

    @cached_property
    def _delivery(self) -> tuple[str, str]:
        n = len(self.events)
        if n < 2:
            return "unknown", f"only {n} event(s) arrived; at least 2 are needed to judge"
        return self._judge_stamped() if self.stamped else self._judge_unstamped()

    def _judge_stamped(self) -> tuple[str, str]:
        n, last = len(self.events), self.bursts[-1]
        first = self.events[0]
        if self.clock == "shared" and first.sent < -REPLAY_BEFORE:
            return "replayed", (
                f"the first event was sent {-first.sent:.2f} s before this request was made: "
                f"{n} events of an earlier stream, handed over by a cache")
        n_late = sum(self.late)
        thr = f"{self.late_threshold * 1000:.0f} ms"
        if n >= 3 and len(last) >= 0.9 * n and n_late >= 0.5 * n:
            return "held-until-end", (
                f"{len(last)} of {n} events arrived together at {last[-1].arrived:.2f} s, "
                f"though they were sent over {last[-1].sent - last[0].sent:.2f} s")
        if n_late == 0:
            return "real-time", (
                f"all {n} events arrived within {thr} of being sent "
                f"(median delay {self.summary['median_delay'] * 1000:.1f} ms)")
        in_batches = sum(len(b) for b in self._batching_bursts())
        if in_batches >= 0.3 * n:
            sizes = sorted(len(b) for b in self._batching_bursts())
            return "batched", (
                f"{in_batches} of {n} events arrived in {len(sizes)} bursts of "
                f"{sizes[0]}-{sizes[-1]} events that had been sent more than {thr} apart")
        if n_late <= n / 3:
            worst = max(self.added_delays)
            where = ", ".join(f"{s[0].arrived:.2f} s" for s in self.stalls[:4])
            return "stalled", (
                f"{n_late} of {n} events arrived more than {thr} late, in {len(self.stalls)} "
                f"stall(s) (at {where}; worst +{worst * 1000:.0f} ms); the other {n - n_late} on time")
        behind = statistics.median(self.added_delays) / (self.send_gap or 1.0)
        return "lagging", (
            f"{n_late} of {n} events were late by more than {thr} yet arrived one by one; "
            f"median added delay {statistics.median(self.added_delays) * 1000:.0f} ms "
            f"(about {behind:.1f} send gaps behind)")

    def _judge_unstamped(self) -> tuple[str, str]:
        n, bursts = len(self.events), self.bursts
        note = "no send stamps, judged by arrival pattern alone"
        if n >= 3 and len(bursts[-1]) >= 0.9 * n:
            if bursts[-1][0].arrived > 0.5:
                return "held-until-end", (f"{len(bursts[-1])} of {n} events arrived together at "
                                          f"{bursts[-1][-1].arrived:.2f} s ({note})")
            return "unknown", f"all {n} events arrived at once, quickly: the source may have sent them at once ({note})"
        multi = sum(len(b) for b in bursts if len(b) > 1)
        if multi >= 0.5 * n:
            return "batched", f"{multi} of {n} events arrived in multi-event bursts ({note})"
        return "real-time", f"{n - multi} of {n} events arrived one by one ({note}; a steady lag would not show)"

    @property
    def delivery(self) -> str:
        """How the events that did arrive arrived (the verdict, a cut left aside)."""
        return self._delivery[0]

    @property
    def verdict(self) -> str:
        return "cut" if self.cut_reason else self._delivery[0]

    @property
    def reason(self) -> str:
        why = self.cut_reason
        if why is None:
            return self._delivery[1]
        when = f" at {self.reads[-1].t:.2f} s" if self.reads else ""
        return (f"cut after {len(self.events)} event(s){when}: {why}; until then "
                f"{self._delivery[0]} ({self._delivery[1]})")

    @cached_property
    def summary(self) -> dict:
        """The figures a reader (and the verdict) looks at, in seconds and bytes."""
        delays = sorted(self.added_delays) if self.stamped else []
        burst_bytes = [sum(e.bytes for e in b) for b in self.bursts]
        pick = (lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]) if delays else (lambda q: None)
        return {
            "events": len(self.events),
            "reads": len(self.reads),
            "comments": self.comments,
            "first_byte": self.reads[0].t if self.reads else None,
            "first_event": self.events[0].arrived if self.events else None,
            "last_event": self.events[-1].arrived if self.events else None,
            "send_gap": self.send_gap,
            "median_delay": statistics.median(delays) if delays else None,
            "p90_delay": pick(0.9),
            "max_delay": delays[-1] if delays else None,
            "late_threshold": self.late_threshold if delays else None,
            "late_events": sum(d > self.late_threshold for d in delays),
            "bursts": len(self.bursts),
            "largest_burst": max((len(b) for b in self.bursts), default=0),
            "largest_burst_bytes": max(burst_bytes, default=0),
            "stalls": len(self.stalls),
            "clock": self.clock,
            "ended_by": self.ended_by,
            "headers_at": self.headers_at,
            "http_version": self.http_version,
            "framing": self.framing,
            "promised": self.promised,
            "lost": len(self.lost),
            "repeated": self.repeated,
        }

    def to_dict(self) -> dict:
        """The JSON shape of ``python -m sselab probe --json``."""
        return {
            "url": self.url,
            "status": self.status,
            "content_type": self.content_type,
            "verdict": self.verdict,
            "delivery": self.delivery,
            "reason": self.reason,
            "summary": self.summary,
            "reads": [asdict(r) for r in self.reads],
            "events": [
                {"seq": e.seq, "sent": e.sent, "arrived": e.arrived, "delay": e.delay,
                 "bytes": e.bytes, "read": e.read, "id": e.id}
                for e in self.events
            ],
        }

    def __repr__(self) -> str:
        return (f"<Timeline {self.url} {self.verdict}: {len(self.events)} events, "
                f"{len(self.reads)} reads, {len(self.bursts)} bursts>")
