"""The plain-text report that ``python -m sselab probe`` prints."""

from __future__ import annotations

from ._diagnose import diagnose
from ._format import ms as _ms
from ._table import Table
from ._timeline import Timeline


def _headers_line(headers: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in headers.items()) or "(none of interest)"


def text_report(timeline: Timeline) -> str:
    """Verdict first, then the evidence it rests on, then the likely layer and its fix."""
    s, d = timeline.summary, diagnose(timeline)
    ev = d.evidence
    lines = [
        f"{timeline.url}",
        f"verdict: {timeline.verdict} - {timeline.reason}",
        f"  events {s['events']} in {s['reads']} reads, {s['bursts']} bursts "
        f"(largest {s['largest_burst']} events, {s['largest_burst_bytes']} bytes); "
        f"comments {s['comments']}; ended by {s['ended_by']}",
        f"  headers {_ms(s['headers_at'])}, first byte {_ms(s['first_byte'])}, "
        f"first event {_ms(s['first_event'])}, last event {_ms(s['last_event'])}",
        f"  {s['http_version']}, body {s['framing']}, "
        f"encoding {timeline.headers.get('content-encoding', 'identity')}"
        + (f"; stamps announced {s['promised']} events, {s['lost']} missing, {s['repeated']} repeated"
           if s["promised"] is not None or s["lost"] or s["repeated"] else ""),
        f"  cadence: sent every {_ms(ev['send_gap'])}, arrived every {_ms(ev['arrival_gap'])} "
        f"(median gaps between bursts)",
        f"  bursts of several events: {ev['multi_event_bursts']} (median {ev['median_burst_bytes'] or 0} bytes); "
        f"reads: median {ev['median_read_bytes'] or 0} bytes"
        + (f", mostly exactly {ev['steady_read_bytes']} bytes" if ev["steady_read_bytes"] else ""),
    ]
    if timeline.stamped:
        lines.append(f"  delay median {_ms(s['median_delay'])}, p90 {_ms(s['p90_delay'])}, "
                     f"max {_ms(s['max_delay'])}; send gap {_ms(s['send_gap'])}; clock {s['clock']}")
    elif not timeline.events:
        lines.append("  no complete event arrived: nothing to time")
    else:
        lines.append("  no send stamps: delays cannot be measured, only the arrival pattern "
                     "(serve servers/clock.py or the stamp format in servers/stamp.py to get them)")
    lines.append(f"  headers: {_headers_line(ev['headers'])}")
    lines.append(str(d))
    return "\n".join(lines)


class VerdictTable(Table):
    """Runs side by side: each run's verdict and the figures from its Timeline."""

    COLUMNS = ("run", "verdict", "events", "bursts", "largest burst", "median delay", "max delay")

    def __init__(self, runs: dict[str, Timeline]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        out = []
        for name, t in self.runs.items():
            s = t.summary
            out.append((name, t.verdict, str(s["events"]), str(s["bursts"]),
                        f"{s['largest_burst']} ({s['largest_burst_bytes']} B)",
                        _ms(s["median_delay"]), _ms(s["max_delay"])))
        return out


def verdict_table(runs: dict[str, Timeline]) -> VerdictTable:
    """A table of each run's verdict and the figures behind it."""
    return VerdictTable(runs)


class VerdictGrid(Table):
    """Setups down, paths across: each cell the verdict of that run (``runs[(setup, path)]``)."""

    def __init__(self, runs: dict[tuple[str, str], Timeline]) -> None:
        self.runs = runs
        self.setups = list(dict.fromkeys(s for s, _ in runs))
        self.paths = list(dict.fromkeys(p for _, p in runs))
        self.COLUMNS = ("setup", *self.paths)

    def rows(self) -> list[tuple[str, ...]]:
        def cell(key):
            t = self.runs.get(key)
            return "-" if t is None else f"{t.verdict} ({t.http_version})"

        return [(s, *(cell((s, p)) for p in self.paths)) for s in self.setups]


def verdict_grid(runs: dict[tuple[str, str], Timeline]) -> VerdictGrid:
    """A table of verdicts with one row per setup and one column per path."""
    return VerdictGrid(runs)
