"""From one measured stream to "which layer is the likely culprit, and what fixes it".

Defined in notebooks/12_diagnose.ipynb; ``python -m sselab probe`` prints it.

A verdict says *how* a stream arrived; a diagnosis reads the evidence behind it to say
*where* the delay most likely comes from. The decision tree, first match wins:

1. ``compression``: the body is compressed (``Content-Encoding``) and the events did not
   arrive in real time: a compressor collects bytes before it emits a block. (The probe
   undoes gzip/deflate to read the events; its reads count the compressed bytes.)
2. ``none``: the events arrived in real time. Nothing on this path buffers.
3. ``event-loop``: late events were released at the moment the source sent its *next*
   event, in reads the size of whole events. Something between the generator and the socket
   (a middleware's task, the server's write) only runs when the generator gives control back:
   a blocking call (``time.sleep``, a synchronous SDK iterator) inside an ``async`` generator.
4. ``proxy-buffer``: events arrived in bursts while most reads had one fixed size, unrelated
   to the event size: a buffer of about that many bytes, released each time it fills.
5. ``buffering-proxy``: everything arrived at the end and the response carries a proxy's
   signature (``Server`` other than an app server, ``Via``): the proxy held the whole response.
6. ``application``: everything arrived at the end, answered directly by an app server
   (``Server: uvicorn``, no ``Via``): the app itself produced the body in one go.
7. ``buffering``: bursts of no fixed size; ``lag``: a steady lag with no other sign.
8. ``unknown``: too few events to judge.

Without send stamps a steady lag cannot be seen, and a source that itself sends in bursts
looks like a buffer: the diagnosis says so and points to ``servers/clock.py``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

from ._format import ms as _ms
from ._timeline import Timeline

APP_SERVERS = ("uvicorn", "hypercorn", "daphne", "gunicorn", "granian", "werkzeug", "waitress")
"""``Server`` header values that mean the app answered directly, with no proxy rewriting it."""

HEADERS_OF_INTEREST = ("content-type", "content-encoding", "transfer-encoding", "content-length",
                       "server", "via", "x-accel-buffering", "cache-control", "connection")

LAYERS = ("none", "compression", "event-loop", "proxy-buffer", "buffering-proxy",
          "application", "buffering", "lag", "unknown")

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

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"likely layer: {self.layer} - {self.culprit}", f"fix: {self.fix}"]
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
        "first_byte": s["first_byte"],
        "first_event": s["first_event"],
        "last_byte": t.reads[-1].t if t.reads else None,
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

    def done(layer: str, culprit: str, fix: str) -> Diagnosis:
        return Diagnosis(t.verdict, layer, culprit, fix, ev, unknowns)

    encoding = ev["headers"].get("content-encoding", "")
    if encoding and encoding != "identity" and t.verdict != "real-time":
        return done("compression", *_compressed(t, encoding))
    if len(t.events) < 2:
        return done("unknown", *_too_few(t))
    if t.verdict == "real-time":
        return done("none", "the events arrived as they were sent; nothing on this path holds them",
                    "Nothing to fix on this path. If users still see the stream arrive late, probe the "
                    "path they use (their proxy, CDN, or client: a client that reads the whole "
                    "response, e.g. requests without stream=True, waits for the end).")
    hits, late = _released_by_next_send(t)
    steady = ev["steady_read_bytes"]
    if late >= 2 and hits >= 0.8 * late and steady is None:
        return done("event-loop", *_event_loop(t, hits, late))
    if t.verdict == "batched" and steady is not None:
        return done("proxy-buffer", *_proxy_buffer(t, steady))
    if t.verdict == "held-until-end":
        proxy = _proxy_signature(t.headers)
        if proxy:
            return done("buffering-proxy", *_held_by_proxy(t, proxy))
        if ev["headers"].get("server"):
            return done("application", *_held_by_app(t))
        return done("buffering-proxy", *_held_by_someone(t))
    if t.verdict == "batched":
        size = ev["median_burst_bytes"]
        return done("buffering", (
            f"events arrived in groups of varying size (median group {size} bytes) released "
            f"about every {_ms(ev['arrival_gap'], 0)}: a layer that collects output and flushes it "
            f"by time or by size (a proxy or CDN buffer, a compressor, or a source that writes in groups)"),
            "Find the layer with --compare: probe the upstream directly and then through each hop; "
            "the first hop where the bursts appear is the one to reconfigure (for nginx: "
            "proxy_buffering off or the response header X-Accel-Buffering: no).")
    if t.verdict == "lagging":
        return done("lag", (
            f"events arrived one by one but {_ms(ev['median_lag'], 0)} late (median), steadily: a layer "
            f"that holds each event for a while before passing it on"),
            "Probe each hop with --compare to find where the lag starts; check for a blocking call "
            "in the generator (time.sleep, a synchronous SDK) and for flush timers in proxies.")
    return done("unknown", f"the evidence fits no known pattern ({t.reason})",
                "Probe again with more events (--max-events) and with --compare against the upstream.")


def _compressed(t: Timeline, encoding: str) -> tuple[str, str]:
    reads, span = len(t.reads), (t.reads[-1].t - t.reads[0].t) if t.reads else 0.0
    total = sum(r.bytes for r in t.reads)
    together = reads and (reads <= 2 or span < 0.1 * t.reads[-1].t)
    how = (f"all {total} compressed bytes arrived in {reads} read(s) at {t.reads[-1].t:.2f} s"
           if together else f"{total} compressed bytes arrived in {reads} reads spread over {span:.2f} s")
    held = together and t.reads[-1].t > 0.5
    culprit = (f"the response is compressed (Content-Encoding: {encoding}) and {how}: "
               + ("a compressor that waits for a full block held the stream"
                  if held else f"the events arrived {t.verdict}: the compressor passes bytes on in blocks"))
    fix = ("Do not compress text/event-stream (nginx: leave it out of gzip_types, or 'gzip off' in "
           "the streaming location; Starlette's GZipMiddleware excludes it by default), or flush "
           "the compressor after every event. To compare with the uncompressed path, probe again "
           "with --header 'Accept-Encoding: identity'.")
    return culprit, fix


def _too_few(t: Timeline) -> tuple[str, str]:
    n, total = len(t.events), sum(r.bytes for r in t.reads)
    stop = {"max_seconds": "the time limit", "max_events": "the event limit", "eof": "the end of the body",
            "cut": "a cut connection", "max_bytes": "the byte limit"}[t.ended_by]
    if total == 0:
        culprit = (f"the server answered {t.status} but sent no body byte before {stop}: the source is "
                   f"silent, or a layer is holding everything it sent so far")
    else:
        culprit = (f"{total} bytes in {len(t.reads)} reads but only {n} complete event(s) before {stop}: "
                   f"the bytes are not SSE events (each ends with a blank line), or the rest is held")
    return culprit, ("Probe for longer (--max-seconds) or with more events, and check the same URL with "
                     "curl -N; if bytes appear with curl but not here, compare the headers.")


def _event_loop(t: Timeline, hits: int, late: int) -> tuple[str, str]:
    culprit = (f"{hits} of {late} late events arrived at the moment the source sent its next event "
               f"(send gap {_ms(t.send_gap, 0)}), each in its own read: the response only moves when the "
               f"generator gives control back, i.e. a blocking call (time.sleep, a synchronous SDK "
               f"iterator) inside an async generator, with a middleware or task that forwards the body")
    fix = ("Stop blocking the event loop: make the generator a plain 'def' generator (Starlette "
           "iterates it in a thread pool), wrap the synchronous iterator with "
           "starlette.concurrency.iterate_in_threadpool, or use the SDK's async client. An "
           "'await asyncio.sleep(0)' after each yield lets the forwarding task run first, which "
           "hides this symptom but still blocks every other request on the loop.")
    return culprit, fix


def _proxy_buffer(t: Timeline, size: int) -> tuple[str, str]:
    same = sum(r.bytes == size for r in t.reads[:-1])
    kib = f" ({size / 1024:g} KiB)" if size % 256 == 0 else ""
    proxy = _proxy_signature(t.headers)
    who = f" The response carries {proxy}." if proxy else ""
    culprit = (f"events arrived in bursts while {same} of {len(t.reads) - 1} reads were exactly "
               f"{size} bytes{kib}, unrelated to the event size "
               f"({statistics.median(e.bytes for e in t.events):.0f} B): "
               f"a buffer of about {size} bytes, passed on each time it fills.{who}")
    fix = ("Turn buffering off for this location (nginx: proxy_buffering off; or send the response "
           "header X-Accel-Buffering: no from the app), then probe again. Small events in a big buffer "
           "wait longest: the buffer size divided by the bytes per second of the stream is the worst delay.")
    return culprit, fix


def _held_by_proxy(t: Timeline, proxy: str) -> tuple[str, str]:
    last = t.bursts[-1]
    culprit = (f"{len(last)} of {len(t.events)} events arrived together at {last[-1].arrived:.2f} s and the "
               f"response carries {proxy}: a buffering proxy held the whole response until the source finished")
    fix = ("Turn buffering off where the proxy serves this stream (nginx: proxy_buffering off; or the response "
           "header X-Accel-Buffering: no; behind nginx with an HTTP/1.0 upstream, proxy_http_version 1.1 also "
           "matters). Confirm with --compare against the upstream URL: if the upstream alone is real-time, "
           "the proxy is the culprit; if it is held too, the application is.")
    return culprit, fix


def _held_by_app(t: Timeline) -> tuple[str, str]:
    last, server = t.bursts[-1], {k.lower(): v for k, v in t.headers.items()}.get("server")
    culprit = (f"{len(last)} of {len(t.events)} events arrived together at {last[-1].arrived:.2f} s, answered "
               f"directly by the app server (Server: {server}, no Via): the application produced the body "
               f"in one go, not a proxy")
    fix = ("Yield each event as soon as it exists: do not collect them in a list or string first, return a "
           "StreamingResponse over a generator (not a Response with the joined body), and check middleware "
           "that reads the whole body. If your users see this and the probe does not, their client is not "
           "streaming (e.g. requests without stream=True).")
    return culprit, fix


def _held_by_someone(t: Timeline) -> tuple[str, str]:
    last = t.bursts[-1]
    culprit = (f"{len(last)} of {len(t.events)} events arrived together at {last[-1].arrived:.2f} s; the "
               f"headers name no server, so the layer is either a buffering proxy or the application")
    fix = ("Probe the upstream directly with --compare: real-time there means the proxy buffers "
           "(nginx: proxy_buffering off / X-Accel-Buffering: no); held there too means the application does.")
    return culprit, fix


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
