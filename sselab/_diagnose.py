"""From one measured stream to "which layer is the likely culprit, and what fixes it".

Defined in notebooks/12_diagnose.ipynb; ``python -m sselab probe`` prints it.

A verdict says *how* a stream arrived; a diagnosis reads the evidence behind it to say
*where* the delay most likely comes from. The decision tree, first match wins:

1. ``none``: the events arrived in real time. Nothing on this path holds them.
2. ``idle-timeout`` / ``dropped``: the stream was cut. After a silence (nothing arrived for
   at least ``IDLE`` seconds before the cut) it is a read or idle timeout in a proxy or the
   client; while bytes were flowing, a dropped connection (a restart, a crash, the network).
3. ``undetermined``: fewer than 2 events: too little to judge. ``cache-replay``: the first
   event was sent before the request: a cache replayed a stored stream (notebooks 04, 06).
4. ``compression``: the body is compressed (``Content-Encoding``) and the decoded events did
   not arrive in real time: a compressor collects bytes before it emits a block. (The probe
   decodes what it asked for and refuses an encoding it cannot decode, so this is judged
   from the events, never from compressed bytes.)
5. ``event-loop``: late events were released at the moment the source sent its *next*
   event, in reads the size of whole events: something between the generator and the
   socket only runs when the generator gives control back (a blocking call inside an
   ``async`` generator, with a middleware or task that forwards the body).
6. ``full-buffer``: events arrived in bursts while most reads had one fixed size, unrelated
   to the event size: a buffer of about that many bytes, released each time it fills.
7. ``held-by-proxy`` / ``held-by-app`` / ``held-somewhere``: everything arrived at the end;
   the response carries a proxy's signature (``Server`` other than an app server, ``Via``),
   or an app server's (``Server: uvicorn``), or neither.
8. ``irregular-bursts``: bursts of no fixed size; ``one-off-stall``: an otherwise real-time
   stream with a few late events; ``steady-lag``: a steady lag with no other sign.

Which proxy answered, when its headers or the timeline's shape say (``sselab/_proxy_signature.py``,
notebook 06), is ``Diagnosis.proxy``; that proxy's own setting then replaces the generic fix.
Every generic fix sentence lives once, in ``FIXES``; the cheat sheet and the report both read it.
Without send stamps a steady lag cannot be seen, and a source that itself sends in bursts
looks like a buffer: the diagnosis says so and points to ``servers/clock.py``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

from ._format import ms as _ms
from ._proxy_signature import proxy_fix, which_proxy
from ._table import Table
from ._timeline import Timeline

APP_SERVERS = ("uvicorn", "hypercorn", "daphne", "gunicorn", "granian", "werkzeug", "waitress")
"""``Server`` header values that mean the app answered directly, with no proxy rewriting it."""

HEADERS_OF_INTEREST = ("content-type", "content-encoding", "transfer-encoding", "content-length",
                       "server", "via", "x-accel-buffering", "cache-control", "connection")

IDLE = 0.5
"""Seconds of silence before a cut that make it an idle timeout rather than a drop."""

FIXES = {
    "none": ("Nothing to fix on this path. If users still see the stream arrive late, probe the path "
             "they use (their proxy, CDN or client) the way they fetch it (browsers ask for compression: "
             "probe with --compressed; a client that reads the whole response, e.g. requests without "
             "stream=True, waits for the end)."),
    "idle-timeout": ("Keep bytes moving: send an SSE comment (': ping') more often than the shortest idle "
                     "timeout on the path (nginx proxy_read_timeout, 60 s by default; a client's read "
                     "timeout), and send one at once so the first byte never waits for the first event. "
                     "Raising the timeout only moves the cut."),
    "dropped": ("The connection itself went away while data was flowing (a restart, a crash, a network "
                "change). Make the stream resumable: an id: on every event, and a server that replays "
                "after the Last-Event-ID a reconnecting client sends (notebook 09)."),
    "undetermined": ("Probe for longer (--max-seconds) or with more events, and check the same URL with "
                     "curl -N; if bytes appear with curl but not here, compare the headers."),
    "cache-replay": ("Keep the stream out of every cache on the path: send Cache-Control: no-cache from the "
                     "app (nginx: proxy_cache off for the location; Varnish: return (pass) in vcl_recv). A "
                     "cache that stores a stream hands the next client an old answer."),
    "compression": ("Do not compress text/event-stream (nginx: leave it out of gzip_types, or 'gzip off' in "
                    "the streaming location; Starlette's GZipMiddleware excludes it by default), or flush "
                    "the compressor after every event. Compare with the uncompressed path by probing "
                    "without --compressed."),
    "event-loop": ("Stop blocking the event loop: make the generator a plain 'def' generator (Starlette "
                   "iterates it in a thread pool), wrap the synchronous iterator with "
                   "starlette.concurrency.iterate_in_threadpool, or use the SDK's async client. An "
                   "'await asyncio.sleep(0)' after each yield lets the forwarding task run first, which "
                   "hides this symptom while every other request on the loop still waits."),
    "full-buffer": ("Turn buffering off where the stream passes (nginx: proxy_buffering off, or the "
                    "response header X-Accel-Buffering: no from the app), then probe again. Small events in "
                    "a big buffer wait longest: buffer size / bytes per second is the worst delay."),
    "held-by-proxy": ("Turn buffering off where the proxy serves this stream (nginx: proxy_buffering off, "
                      "or X-Accel-Buffering: no from the app). Confirm with --compare against the upstream "
                      "URL: real-time there means the proxy holds it."),
    "held-by-app": ("Yield each event as soon as it exists: do not collect them first; return a "
                    "StreamingResponse over a generator (not a Response with the joined body), and check "
                    "middleware that reads the whole body."),
    "held-somewhere": ("Probe the upstream directly with --compare: real-time there means a proxy on the "
                       "way holds it; held there too means the application does."),
    "irregular-bursts": ("Find the layer with --compare: probe the upstream directly and then through each "
                         "hop; the first hop where the bursts appear is the one to reconfigure."),
    "one-off-stall": ("A hiccup, not a setting: probe again. If it recurs at the same place (the first "
                      "event, or every N seconds), look for a blocking call at that point in the generator, "
                      "a garbage-collection pause, or Nagle's algorithm on a socket without TCP_NODELAY."),
    "steady-lag": ("Probe each hop with --compare to find where the lag starts; check for a blocking call in "
                   "the generator (time.sleep, a synchronous SDK) and for flush timers in proxies."),
}
"""One fix sentence per layer. ``LAYERS`` is its key order."""

LAYERS = tuple(FIXES)

SIGNS = {
    "none": "every event arrives within the late threshold of being sent",
    "idle-timeout": "the connection is cut after a silence (nothing arrived for a while before the cut)",
    "dropped": "the connection is cut while bytes were still flowing",
    "undetermined": "fewer than 2 events arrived",
    "cache-replay": "the first event was sent before the request was made: a stored copy",
    "compression": "`Content-Encoding` is set and the decoded events arrive late or together",
    "event-loop": "each late event arrives the moment the *next* one is sent, in reads the size of one event",
    "full-buffer": "bursts, and most reads have one fixed size unrelated to the events",
    "held-by-proxy": "everything at the end, and `Server:` is a proxy (or there is a `Via:`)",
    "held-by-app": "everything at the end, answered by the app server itself (`Server: uvicorn`)",
    "held-somewhere": "everything at the end, and no header names who answered",
    "irregular-bursts": "bursts of no fixed size",
    "one-off-stall": "a few late events in one or two stalls; the rest on time",
    "steady-lag": "most events late, one by one, with no other sign",
}
"""What a timeline with each layer looks like (the decision tree's conditions, in words)."""

CLOCK_HINT = ("Serve servers/clock.py (a stamped stream, one file, FastAPI only) behind the "
              "same path and probe it there: its send stamps make lag and bursts exact.")


@dataclass
class Diagnosis:
    """The likely layer, the culprit in one sentence, the fix, and the evidence behind them."""

    verdict: str
    layer: str
    culprit: str
    fix: str
    evidence: dict = field(default_factory=dict)
    unknowns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the protocol (TLS, HTTP/2) adds to the picture, where the evidence points at it."""
    proxy: str | None = None
    """Which proxy answered (``sselab/_proxy_signature.py``), None when nothing points at one."""
    proxy_evidence: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"likely layer: {self.layer} - {self.culprit}", f"fix: {self.fix}"]
        if self.proxy:
            lines.insert(1, f"proxy: {self.proxy} ({self.proxy_evidence})")
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"cannot tell: {u}" for u in self.unknowns]
        return "\n".join(lines)


# -- evidence ----------------------------------------------------------------------------
def _steady_read_size(t: Timeline) -> int | None:
    """The one read size most reads had, when it is not simply the size of an event.

    A buffer that is released when full hands over reads of exactly its size, whatever the
    events in it; a stream passed on event by event gives reads the size of its events.
    """
    sizes = [r.bytes for r in t.reads[:-1]]  # the last read is whatever was left over
    if len(sizes) < 2:
        return None
    size, count = Counter(sizes).most_common(1)[0]
    if count < 2 or count < 0.5 * len(sizes):
        return None
    event_size = statistics.median(e.bytes for e in t.events) if t.events else 0
    if event_size and abs(size - event_size) <= 0.1 * event_size:
        return None
    if event_size and size % event_size == 0 and all(e.bytes == event_size for e in t.events):
        return None  # whole equal events per read: a source writing several at once
    return size


def _released_by_next_send(t: Timeline) -> tuple[int, int]:
    """(late events that arrived when the next event was sent, late events with a successor)."""
    if not t.stamped or len(t.events) < 3:
        return 0, 0
    tolerance = max(0.010, 0.2 * (t.send_gap or 0.0))
    late = [i for i, d in enumerate(t.added_delays[:-1]) if d > t.late_threshold]
    hits = sum(abs(t.events[i].arrived - t.events[i + 1].sent) <= tolerance for i in late)
    return hits, len(late)


def _silence_before_end(t: Timeline) -> float | None:
    """Seconds between the last byte and the end of the stream (None where the end is unknown)."""
    if t.ended_at is None:
        return None
    last = t.reads[-1].t if t.reads else (t.headers_at or 0.0)
    return t.ended_at - last


def _proxy_signature(headers: dict) -> str | None:
    """Why the response looks proxied (a sentence fragment), or None when it does not."""
    h = {k.lower(): v for k, v in headers.items()}
    if h.get("via"):
        return f"a Via header ({h['via']})"
    server = h.get("server", "")
    if server and not server.lower().startswith(APP_SERVERS):
        return f"Server: {server}"
    return None


def evidence(t: Timeline) -> dict:
    """The figures a diagnosis rests on, in seconds and bytes (None where unmeasurable)."""
    s = t.summary
    burst_arrivals = [b[0].arrived for b in t.bursts]
    cadence = [b - a for a, b in zip(burst_arrivals, burst_arrivals[1:])]
    burst_bytes = [sum(e.bytes for e in b) for b in t.bursts]
    multi = [n for n, b in zip(burst_bytes, t.bursts) if len(b) > 1]
    hits, late = _released_by_next_send(t)
    h = {k.lower(): v for k, v in t.headers.items()}
    return {
        "events": len(t.events),
        "reads": len(t.reads),
        "total_bytes": sum(r.bytes for r in t.reads),
        "headers_at": t.headers_at,
        "first_byte": s["first_byte"],
        "first_event": s["first_event"],
        "last_byte": t.reads[-1].t if t.reads else None,
        "ended_at": t.ended_at,
        "silence_before_end": _silence_before_end(t),
        "send_gap": t.send_gap,
        "arrival_gap": statistics.median(cadence) if cadence else None,
        "bursts": len(t.bursts),
        "multi_event_bursts": len(multi),
        "median_burst_bytes": statistics.median(multi) if multi else None,
        "largest_burst_bytes": max(burst_bytes, default=0),
        "median_read_bytes": statistics.median(r.bytes for r in t.reads) if t.reads else None,
        "steady_read_bytes": _steady_read_size(t),
        "median_lag": s["median_delay"],
        "p90_lag": s["p90_delay"],
        "released_by_next_send": f"{hits}/{late}" if late else None,
        "stamped": t.stamped,
        "clock": t.clock,
        "ended_by": t.ended_by,
        "http_version": t.http_version,
        "framing": t.framing,
        "headers": {k: h[k] for k in HEADERS_OF_INTEREST if k in h},
    }


# -- the decision tree ---------------------------------------------------------------------
def diagnose(t: Timeline) -> Diagnosis:
    """Name the likely layer behind what ``t`` shows, with a fix. See the module docstring."""
    ev = evidence(t)
    unknowns = [] if t.stamped or not t.events else [
        "the stream carries no send stamps, so a steady lag cannot show, and a source that "
        "itself sends in groups looks like a buffer. " + CLOCK_HINT]
    if t.events and t.clock == "aligned":
        unknowns.append("client and server clocks differ (not a loopback URL): delays are shifted "
                        "so the fastest event has 0, so a lag that every event shares cannot show.")
    if t.framing == "close-delimited" and t.verdict != "cut":
        unknowns.append("the body is close-delimited (no chunked framing, no Content-Length), so a "
                        "connection cut early looks like a normal end unless the stamps announce a count.")

    proxy, why = which_proxy(t) or (None, "")

    def done(layer: str, culprit: str) -> Diagnosis:
        return Diagnosis(t.verdict, layer, culprit, proxy_fix(proxy, layer, FIXES[layer]), ev, unknowns,
                         _protocol_notes(t, layer) + _first_byte_notes(t), proxy, why)

    if t.verdict == "real-time":
        return done("none", "the events arrived as they were sent; nothing on this path holds them")
    if t.verdict == "cut":
        return done(*_cut(t, ev))
    if len(t.events) < 2:
        return done("undetermined", _too_few(t))
    if t.verdict == "replayed":
        return done("cache-replay", f"{t.reason}: a cache on the path stored an earlier stream and "
                                    f"handed its copy over")
    encoding = ev["headers"].get("content-encoding", "")
    if encoding and encoding != "identity":
        return done("compression", _compressed(t, encoding))
    hits, late = _released_by_next_send(t)
    steady = ev["steady_read_bytes"]
    if late >= 2 and hits >= 0.8 * late and steady is None:
        return done("event-loop", _event_loop(t, hits, late))
    if t.verdict == "batched" and steady is not None:
        return done("full-buffer", _full_buffer(t, steady))
    if t.verdict == "held-until-end":
        return done(*_held(t, ev, why if proxy else None))
    if t.verdict == "batched":
        return done("irregular-bursts", (
            f"events arrived in groups of varying size (median group {ev['median_burst_bytes']} bytes) "
            f"released about every {_ms(ev['arrival_gap'], 0)}: a layer that collects output and flushes "
            f"it by time or by size (a proxy or CDN buffer, a compressor, or a source that writes in groups)"))
    if t.verdict == "stalled":
        worst = max(t.added_delays)
        return done("one-off-stall", (
            f"{sum(t.late)} of {len(t.events)} events were late in {len(t.stalls)} stall(s) (worst "
            f"+{worst * 1000:.0f} ms) and the rest arrived on time: a hiccup, not a buffer"))
    if t.verdict == "lagging":
        return done("steady-lag", (
            f"events arrived one by one but {_ms(ev['median_lag'], 0)} late (median), steadily: a layer "
            f"that holds each event for a while before passing it on"))
    return done("undetermined", f"the evidence fits no known pattern ({t.reason})")


FIRST_BYTE_LATE = 1.0
"""Seconds after which a first response byte is late enough for a proxy's timeout to matter."""


def _first_byte_notes(t: Timeline) -> list[str]:
    """Headers late, or only the first event late? (notebook 05 measures which servers hold headers)"""
    first = t.summary["first_event"]
    if t.headers_at is None or first is None or first < FIRST_BYTE_LATE:
        return []
    server = t.headers.get("server") or t.headers.get("Server")
    hint = f" (Server: {server})" if server else ""
    if first - t.headers_at < 0.5 * FIRST_BYTE_LATE:
        return [f"headers late: the response headers arrived only {_ms(first - t.headers_at)} before "
                f"the first event, {_ms(t.headers_at)} after the request: the server{hint} or a proxy "
                f"held them until the first body bytes. A proxy's first-byte timeout (nginx "
                f"proxy_read_timeout, 60 s; a gateway's 29-100 s) counts from the request until then: "
                f"send a comment (': connected') at once, or serve with one that sends headers on "
                f"http.response.start."]
    return [f"first event late: the headers came at {_ms(t.headers_at)} but the first event only at "
            f"{_ms(first)}: the source was silent (a model's first token?). Nothing held the headers; "
            f"a heartbeat comment keeps an idle timeout from cutting such a stream."]


def _protocol_notes(t: Timeline, layer: str) -> list[str]:
    """TLS and HTTP/2 effects the evidence points at (notebook 07 measures each)."""
    notes = []
    https = t.url.startswith("https://")
    if https and t.http_version == "HTTP/1.1" and layer in ("held-by-proxy", "full-buffer", "irregular-bursts"):
        notes.append(
            "over HTTPS a proxy also gathers its output into TLS records: nginx writes a record when "
            "ssl_buffer_size (default 16k) is full or the data is flushed, and with proxy_buffering on "
            "nothing flushes it (ngx_ssl_send_chain). HTTP/2 flushes each DATA frame: probe again with "
            "--http2; if that is real-time, the TLS buffer was the holder, and proxy_buffering off (or "
            "X-Accel-Buffering: no) fixes both.")
    if t.http_version == "HTTP/2" and layer in ("idle-timeout", "dropped") and t.lost:
        notes.append(
            "on HTTP/2 a stream also stops when its connection's flow-control window is used up: "
            "another response on the same connection that nobody reads holds the window (16 MiB in "
            "httpx), and no stream on that connection gets data until it is read or closed.")
    return notes


def _cut(t: Timeline, ev: dict) -> tuple[str, str]:
    silence = ev["silence_before_end"]
    until = f"{len(t.events)} event(s) arrived, {t.delivery} until then"
    if silence is not None and silence >= IDLE:
        return "idle-timeout", (
            f"the stream was cut after {silence:.2f} s in which nothing arrived ({t.cut_reason}; {until}): "
            f"a read or idle timeout in a proxy or the client gave up on a quiet stream")
    if silence is None:
        return "dropped", f"the stream was cut ({t.cut_reason}; {until})"
    return "dropped", (f"the stream was cut {silence:.2f} s after the last byte, while data was flowing "
                       f"({t.cut_reason}; {until}): the connection itself went away")


def _compressed(t: Timeline, encoding: str) -> str:
    return (f"the response is compressed (Content-Encoding: {encoding}) and its decoded events arrived "
            f"{t.verdict} ({t.reason}): a compressor that waits to fill a block before it emits one")


def _too_few(t: Timeline) -> str:
    n, total = len(t.events), sum(r.bytes for r in t.reads)
    stop = {"max_seconds": "the time limit", "max_events": "the event limit", "eof": "the end of the body",
            "max_bytes": "the byte limit"}.get(t.ended_by, t.ended_by)
    if total == 0:
        return (f"the server answered {t.status} but sent no body byte before {stop}: the source is "
                f"silent, or a layer is holding everything it sent so far")
    return (f"{total} bytes in {len(t.reads)} reads but only {n} complete event(s) before {stop}: "
            f"the bytes are not SSE events (each ends with a blank line), or the rest is held")


def _event_loop(t: Timeline, hits: int, late: int) -> str:
    return (f"{hits} of {late} late events arrived at the moment the source sent its next event "
            f"(send gap {_ms(t.send_gap, 0)}), each in its own read: the response only moves when the "
            f"generator gives control back, i.e. a blocking call (time.sleep, a synchronous SDK "
            f"iterator) inside an async generator, with a middleware or task that forwards the body")


def _full_buffer(t: Timeline, size: int) -> str:
    same = sum(r.bytes == size for r in t.reads[:-1])
    kib = f" ({size / 1024:g} KiB)" if size % 256 == 0 else ""
    proxy = _proxy_signature(t.headers)
    who = f" The response carries {proxy}." if proxy else ""
    return (f"events arrived in bursts while {same} of {len(t.reads) - 1} reads were exactly "
            f"{size} bytes{kib}, unrelated to the event size "
            f"({statistics.median(e.bytes for e in t.events):.0f} B): "
            f"a buffer of about {size} bytes, passed on each time it fills.{who}")


def _held(t: Timeline, ev: dict, proxy: str | None = None) -> tuple[str, str]:
    last = t.bursts[-1]
    together = f"{len(last)} of {len(t.events)} events arrived together at {last[-1].arrived:.2f} s"
    proxy = proxy or _proxy_signature(t.headers)
    if proxy:
        return "held-by-proxy", (f"{together} and the response carries {proxy}: a buffering proxy held "
                                 f"the whole response until the source finished")
    server = ev["headers"].get("server")
    if server:
        return "held-by-app", (f"{together}, answered directly by the app server (Server: {server}, no "
                               f"Via): the application produced the body in one go, not a proxy")
    return "held-somewhere", (f"{together}; the headers name no server, so the layer is either a "
                              f"buffering proxy or the application")


class DecisionTree(Table):
    """The decision tree as a table: what the timeline shows, the layer, and its fix's first sentence."""

    COLUMNS = ("What the timeline shows", "Likely layer", "Fix")

    def rows(self) -> list[tuple[str, ...]]:
        return [(SIGNS[layer], f"`{layer}`", FIXES[layer].partition(". ")[0].rstrip(".") + ".") for layer in LAYERS]


def decision_tree() -> DecisionTree:
    """Every layer the diagnosis can name, in the order it tries them (first match wins)."""
    return DecisionTree()


# -- two ways, side by side -----------------------------------------------------------------
def compare_sentence(name_a: str, a: Diagnosis, name_b: str, b: Diagnosis) -> str:
    """One computed sentence about two probes of the same stream."""
    if a.layer == b.layer:
        return (f"Both ways give the same picture ({a.verdict}, layer {a.layer}): whatever causes it "
                f"sits on the part of the path they share (or nowhere).")
    if a.layer == "none" or b.layer == "none":
        good, bad = (name_a, name_b) if a.layer == "none" else (name_b, name_a)
        worse = b if a.layer == "none" else a
        return (f"'{good}' is real-time and '{bad}' is {worse.verdict} (layer {worse.layer}): the culprit "
                f"is on the part of the path that '{bad}' passes through and '{good}' does not.")
    return (f"'{name_a}' is {a.verdict} (layer {a.layer}) and '{name_b}' is {b.verdict} (layer {b.layer}): "
            f"each way passes a different culprit; fix the one named for each.")
