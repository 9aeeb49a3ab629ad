"""The source article's claims, each judged by a tested rule from this run's measurements.

Defined in notebooks/01_event_loop.ipynb; notebooks 01, 03, 04 and 10 measure, then call
``sselab.judge_claims(notebook, runs, **facts)``, and ``scripts/findings`` collects what they
judged into the README's "What the series found" table. No cell decides a verdict.

A claim names the notebook that measures it and a rule. A rule reads named measurements
(Timelines in ``runs``, other figures in ``facts``) and returns one of ``OUTCOMES`` with an
evidence sentence built only from the measured values. A measurement that is missing (nginx
not installed, a section skipped) makes the outcome ``not measured here``, never a guess.
Every rule can reach each of its outcomes; ``tests/test_claims.py`` shows each on synthetic
measurements.

The names the rules read (the notebooks use exactly these):

- 01: runs ``article``, ``article + sleep(0)``, ``middleware``, ``middleware + sleep(0)``,
  ``fastapi.sse``, ``fastapi.sse + sleep(0)``; facts ``waits`` (variant -> Bystander),
  ``fixes`` (the variants that are real fixes) and ``gap`` (the upstream's seconds per item).
- 03: facts ``nodelay`` (uvicorn configuration -> list of TCP_NODELAY flags) and runs
  ``nagle: <label>`` (labels start with ``uvicorn`` or ``Nagle ON``/``Nagle off``, end with
  ``fresh``/``reused``), ``pieces`` (3 yields per event, read by httpx) and ``burst`` (50 events
  back to back, read with recv()).
- 04: runs ``<setting> · <upstream>`` for upstreams ``h11`` and ``httptools``, settings
  ``default``, ``proxy_http_version 1.1``, ``send=cache-control``, ``send=connection``,
  ``send=x-accel-buffering``, ``proxy_buffering off``, ``proxy_cache on`` (and
  ``... (2nd)``, the second request), ``proxy_cache on + send=cache-control``,
  ``read_timeout 1s``, ``read_timeout 1s + heartbeats``, ``send_timeout 1s``, and
  ``default · httptools (2nd)``; ``close-delimited HTTP/1.1 · raw asyncio``; fact
  ``upstream_framing`` (upstream -> "chunked" or "close-delimited", its answer to HTTP/1.0).
- 10: runs ``article`` and ``article + sleep(0)`` (one user alone); facts ``crowds`` (relay ->
  Crowd) for ``article``, ``article + sleep(0)``, ``AsyncCoze``.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from ._table import Table

OUTCOMES = ("right", "right for another reason", "myth", "not measured here")
UPSTREAMS = ("h11", "httptools")


class Missing(LookupError):
    """A measurement a rule needs was not made in this run."""


class Measurements:
    """The runs and facts one notebook measured, by name; a missing name raises Missing."""

    def __init__(self, runs: dict | None = None, facts: dict | None = None) -> None:
        self.runs, self.facts = runs or {}, facts or {}

    def run(self, name: str):
        if name not in self.runs:
            raise Missing(name)
        return self.runs[name]

    def fact(self, name: str):
        if name not in self.facts:
            raise Missing(name)
        return self.facts[name]

    def verdict(self, name: str) -> str:
        return self.run(name).verdict

    def runs_starting(self, prefix: str) -> dict:
        found = {k[len(prefix):]: t for k, t in self.runs.items() if k.startswith(prefix)}
        if not found:
            raise Missing(prefix + "*")
        return found


@dataclass(frozen=True)
class Claim:
    key: str
    text: str
    notebook: str
    rule: Callable[[Measurements], tuple[str, str]]


@dataclass(frozen=True)
class Finding:
    claim: Claim
    outcome: str
    evidence: str


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _late(t) -> bool:
    return t.stamped and any(t.late)


# -- 01: the event loop ----------------------------------------------------------------------
def _behind(t, gap: float) -> float:
    """How many upstream gaps, on average, an event arrived after it was sent."""
    return statistics.mean(t.added_delays) / gap


def sleep0_flushes(m: Measurements) -> tuple[str, str]:
    gap, waits = m.fact("gap"), m.fact("waits")
    where = {"article": "a bare StreamingResponse", "middleware": "behind a pass-through middleware",
             "fastapi.sse": "with fastapi.sse"}
    helped, parts = [], []
    for base, said in where.items():
        without, with_ = m.run(base), m.run(base + " + sleep(0)")
        if _behind(with_, gap) < _behind(without, gap) - 0.2:  # a fifth of a gap or more
            helped.append(base)
        parts.append(f"{said}: {without.verdict} without, {with_.verdict} with")
    frozen = max(waits[b + " + sleep(0)"].worst for b in where)
    fixed = max(waits[f].worst for f in m.fact("fixes"))
    evidence = (f"{'; '.join(parts)}; with sleep(0) a second client still waited up to {_ms(frozen)} "
                f"({frozen / gap:.1f} upstream gaps), with the real fixes {_ms(fixed)}")
    if not helped:
        return "myth", evidence
    if "article" in helped and frozen <= 1.5 * gap:
        return "right", evidence
    return "right for another reason", (
        evidence + f": it changed delivery only {' and '.join(where[h] for h in helped)}, where another "
        f"task writes to the socket and needs a turn of the loop; it flushes no buffer")


# -- 03: the network -------------------------------------------------------------------------
def nagle_merges(m: Measurements) -> tuple[str, str]:
    nodelay = [flag for key, flags in m.fact("nodelay").items() if key.startswith("uvicorn") for flag in flags]
    runs = m.runs_starting("nagle: ")
    uvicorn_late = [k for k, t in runs.items() if k.startswith("uvicorn") and _late(t)]
    raw_late = [k for k, t in runs.items() if not k.startswith("uvicorn") and _late(t)]
    on = bool(nodelay) and all(nodelay)
    raw = (f"with Nagle forced on in servers/net_raw.py, {len(raw_late)} of "
           f"{sum(not k.startswith('uvicorn') for k in runs)} runs were late"
           + (f" ({', '.join(sorted({k.rsplit(', ', 1)[-1] for k in raw_late}))} connections; first event "
              f"+{_ms(max(runs[k].events[0].delay for k in raw_late))} at most)" if raw_late else ""))
    evidence = (f"TCP_NODELAY set on {sum(nodelay)} of {len(nodelay)} uvicorn connections; "
                f"{len(uvicorn_late)} uvicorn runs had a late event; {raw}")
    if uvicorn_late and not on:
        return "right", evidence
    if uvicorn_late:
        return "right for another reason", evidence + ": events were late, but Nagle was off"
    return "myth", evidence + ": for uvicorn, whose event loop turns Nagle off"


def app_buffers(m: Measurements) -> tuple[str, str]:
    t = m.run("pieces")  # every event yielded in 3 pieces
    yields = 3 * len(t.events)
    evidence = f"{len(t.events)} events yielded as {yields} pieces reached httpx in {len(t.reads)} reads ({t.verdict})"
    if len(t.reads) >= yields:
        return "myth", evidence + ": each yield left on its own"
    if _late(t):
        return "right", evidence + ": pieces were merged and held"
    return "right for another reason", evidence + ": pieces were merged on the way, but none was late"


def events_merge(m: Measurements) -> tuple[str, str]:
    t = m.run("burst")
    evidence = (f"{len(t.events)} events sent back to back arrived in {len(t.reads)} socket reads, "
                f"{t.verdict}")
    if len(t.reads) >= len(t.events):
        return "myth", evidence + ": one read per event"
    if _late(t):
        return "right", evidence
    return "right for another reason", evidence + (": TCP is a byte stream, so reads carry several "
                                                   "events, and an SSE parser still sees each on time")


# -- 04: nginx ------------------------------------------------------------------------------------
def _both(m: Measurements, setting: str) -> dict:
    return {h: m.run(f"{setting} · {h}") for h in UPSTREAMS}


def _say(runs: dict) -> str:
    return ", ".join(f"{h} {t.verdict}" for h, t in runs.items())


def _held_by_default(m: Measurements) -> list[str]:
    return [h for h, t in _both(m, "default").items() if t.verdict != "real-time"]


def nginx_buffers_by_default(m: Measurements) -> tuple[str, str]:
    default, held = _both(m, "default"), _held_by_default(m)
    framing = m.facts.get("upstream_framing", {})  # upstream -> how it frames its answer to HTTP/1.0
    evidence = "nginx defaults: " + ", ".join(
        f"{h} upstream {t.verdict}" + (f" (it answers HTTP/1.0 {framing[h]})" if h in framing else "")
        for h, t in default.items())
    if len(held) == len(default):
        return "right", evidence
    if held:
        return "right for another reason", (evidence + ": it held only the upstream whose answer to "
                                            "nginx's HTTP/1.0 request was not chunked")
    return "myth", evidence


def http10_hurts(m: Measurements) -> tuple[str, str]:
    if "h11" not in _held_by_default(m):
        return "not measured here", "the h11 upstream was not held by nginx's defaults, so there was nothing to fix"
    v11 = m.verdict("proxy_http_version 1.1 · h11")
    closed = m.verdict("close-delimited HTTP/1.1 · raw asyncio")
    evidence = (f"h11 behind nginx's defaults: {m.verdict('default · h11')}; with proxy_http_version 1.1: "
                f"{v11}; a close-delimited HTTP/1.1 upstream: {closed}")
    if v11 != "real-time":
        return "myth", evidence
    if closed != "real-time":
        return "right for another reason", evidence + ": what matters is the body's framing, not the version"
    return "right", evidence


def _header_fixes(m: Measurements, setting: str) -> tuple[str, str]:
    runs, held = _both(m, setting), _held_by_default(m)
    if not held:
        return "not measured here", "nginx's defaults held neither upstream, so no header could be shown to help"
    fixed = all(runs[h].verdict == "real-time" for h in held)
    return ("right" if fixed else "myth"), f"{setting} behind nginx's defaults: {_say(runs)}"


def x_accel_buffering(m: Measurements) -> tuple[str, str]:
    return _header_fixes(m, "send=x-accel-buffering")


def connection_keep_alive(m: Measurements) -> tuple[str, str]:
    outcome, evidence = _header_fixes(m, "send=connection")
    return outcome, evidence + (": a hop-by-hop header, which nginx does not pass on" if outcome == "myth" else "")


def proxy_buffering_off(m: Measurements) -> tuple[str, str]:
    return _header_fixes(m, "proxy_buffering off")


def _replayed(t) -> bool:
    """The second request got the first one's events (sent before it was made: a cache)."""
    return t.verdict == "replayed" or (t.verdict == "cut" and t.delivery == "replayed")


def cache_control_no_cache(m: Measurements) -> tuple[str, str]:
    delivery = _header_fixes(m, "send=cache-control")
    cached = m.run("proxy_cache on · httptools (2nd)")
    guarded = m.run("proxy_cache on + send=cache-control · httptools (2nd)")
    evidence = (f"{delivery[1]}; behind proxy_cache the second request was "
                f"{'a replay' if _replayed(cached) else 'fresh'}, with the header "
                f"{'a replay' if _replayed(guarded) else 'fresh'}")
    if delivery[0] == "right":
        return "right", evidence
    if _replayed(cached) and not _replayed(guarded):
        return "right for another reason", evidence + ": it stops a cache replaying an old stream"
    if delivery[0] == "not measured here" and not _replayed(cached):
        return "not measured here", evidence
    return "myth", evidence


def proxy_cache_off(m: Measurements) -> tuple[str, str]:
    cached = m.run("proxy_cache on · httptools (2nd)")
    default = m.run("default · httptools (2nd)")
    how = {True: "a replay of the first", False: "fresh"}
    evidence = (f"a second request through nginx's defaults was {how[_replayed(default)]}; with "
                f"proxy_cache on it was {how[_replayed(cached)]}")
    if _replayed(default):
        return "right", evidence + ": this nginx caches by default"
    if _replayed(cached):
        return "right for another reason", evidence + ": off is already nginx's default; a cache replays streams"
    return "myth", evidence + ": no cache replayed the stream here"


def _cut(t) -> bool:
    return t.verdict == "cut" or (t.promised is not None and len(t.events) < t.promised)


def read_timeout(m: Measurements) -> tuple[str, str]:
    quiet, pinged = _both(m, "read_timeout 1s"), _both(m, "read_timeout 1s + heartbeats")
    cut = [h for h, t in quiet.items() if _cut(t)]
    kept = [h for h, t in pinged.items() if not _cut(t)]
    evidence = (f"proxy_read_timeout 1s on a stream silent for longer: {_say(quiet)}; "
                f"the same with heartbeat comments: {_say(pinged)}")
    if not cut:
        return "myth", evidence
    if len(kept) == len(pinged):
        return "right for another reason", evidence + ": heartbeats keep a quiet stream open without a day-long timer"
    return "right", evidence


def send_timeout(m: Measurements) -> tuple[str, str]:
    runs = _both(m, "send_timeout 1s")
    evidence = f"proxy_send_timeout 1s on a stream silent for longer: {_say(runs)}"
    if any(_cut(t) for t in runs.values()):
        return "right", evidence
    return "myth", evidence + ": it times nginx's writes to the upstream, not the silence of the response"


# -- 10: a real chatbot relay ------------------------------------------------------------------
def sleep0_relay_one_user(m: Measurements) -> tuple[str, str]:
    without, with_ = m.run("article"), m.run("article + sleep(0)")
    evidence = f"one user of the sync cozepy relay: {without.verdict} without sleep(0), {with_.verdict} with it"
    if without.verdict == "real-time":
        return "myth", evidence + ": each yield already reached the socket"
    if with_.verdict == "real-time":
        return "right", evidence
    return "myth", evidence + ": sleep(0) did not make it real-time either"


def sleep0_relay(m: Measurements) -> tuple[str, str]:
    crowds = m.fact("crowds")
    blocking, turns, fixed = (crowds[k] for k in ("article", "article + sleep(0)", "AsyncCoze"))
    evidence = (f"three users of the sync cozepy relay: {blocking.verdict} without sleep(0), "
                f"{turns.verdict} with it, {fixed.verdict} with AsyncCoze")
    if turns.verdict == "side by side":
        return "right", evidence
    if turns.verdict != blocking.verdict:
        return "right for another reason", evidence + ": it lets users take turns; the loop still blocks"
    return "myth", evidence


CLAIMS = (
    Claim("nagle", "Nagle's algorithm / delayed ACK merge SSE events", "03", nagle_merges),
    Claim("app-buffers", "uvicorn / the ASGI app buffers the body", "03", app_buffers),
    Claim("events-merge", "Events are merged on the way and arrive together", "03", events_merge),
    Claim("sleep0", "`await asyncio.sleep(0)` after each `yield` \"flushes the buffer\"", "01", sleep0_flushes),
    Claim("sleep0-relay-one", "A relay around a blocking SDK stream needs `sleep(0)` to flush each event",
          "10", sleep0_relay_one_user),
    Claim("sleep0-relay", "`sleep(0)` fixes a relay around a blocking SDK stream (several users)", "10",
          sleep0_relay),
    Claim("nginx-default", "nginx buffers upstream responses by default", "04", nginx_buffers_by_default),
    Claim("http10", "HTTP/1.0 to the upstream hurts", "04", http10_hurts),
    Claim("x-accel", "`X-Accel-Buffering: no`", "04", x_accel_buffering),
    Claim("cache-control", "`Cache-Control: no-cache`", "04", cache_control_no_cache),
    Claim("connection", "`Connection: keep-alive`", "04", connection_keep_alive),
    Claim("proxy-buffering", "`proxy_buffering off`", "04", proxy_buffering_off),
    Claim("proxy-cache", "`proxy_cache off`", "04", proxy_cache_off),
    Claim("read-timeout", "`proxy_read_timeout 86400s`", "04", read_timeout),
    Claim("send-timeout", "`proxy_send_timeout 86400s`", "04", send_timeout),
)
"""Every claim, in the order of the README's table."""


def judge(claim: Claim, measurements: Measurements) -> Finding:
    try:
        outcome, evidence = claim.rule(measurements)
    except Missing as missing:
        return Finding(claim, "not measured here", f"this run did not measure {missing.args[0]!r}")
    assert outcome in OUTCOMES, outcome
    return Finding(claim, outcome, evidence)


class ClaimTable(Table):
    """The article's claims one notebook measured, judged; also readable by scripts/findings."""

    COLUMNS = ("The article's claim", "Verdict", "Measured here")
    MIME = "application/vnd.sselab.findings+json"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings

    def rows(self) -> list[tuple[str, ...]]:
        return [(f.claim.text, f"**{f.outcome}**", f.evidence.replace("|", "/")) for f in self.findings]

    def __getitem__(self, key: str) -> Finding:
        return next(f for f in self.findings if f.claim.key == key)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        records = [{"key": f.claim.key, "claim": f.claim.text, "notebook": f.claim.notebook,
                    "outcome": f.outcome, "evidence": f.evidence} for f in self.findings]
        return {"text/markdown": self._repr_markdown_(), "text/plain": str(self), self.MIME: json.dumps(records)}


def judge_claims(which, runs: dict | None = None, **facts) -> ClaimTable:
    """Judge claims from a notebook's runs and facts: ``which`` is a notebook ("01", "03",
    "04", "10": every claim it measures) or a list of claim keys (e.g. ``["nginx-default"]``,
    which the quickstart measures ahead of notebook 04)."""
    measurements = Measurements(runs, facts)
    chosen = [c for c in CLAIMS if (c.notebook == which if isinstance(which, str) else c.key in which)]
    if not chosen:
        raise ValueError(f"no claim is measured in {which!r}; notebooks: "
                         f"{sorted({c.notebook for c in CLAIMS})}, keys: {[c.key for c in CLAIMS]}")
    return ClaimTable([judge(c, measurements) for c in chosen])
