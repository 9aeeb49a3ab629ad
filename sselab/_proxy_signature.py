"""Which proxy answered, from its headers or the shape of the timeline, and that proxy's own fix.

Defined in notebooks/06_other_proxies.ipynb; ``sselab.diagnose`` (and so ``python -m sselab
probe``) uses it. What each proxy leaves on a streamed response, as measured there:

- Varnish adds ``Via: 1.1 varnish (Varnish/7.1)`` and ``X-Varnish``; Squid ``Via: 1.1 host
  (squid/5.7)`` and ``X-Cache``; Caddy adds ``Caddy`` to ``Server``; nginx replaces ``Server``.
- Apache, lighttpd and HAProxy pass the app's ``Server: uvicorn`` on and add nothing, so
  only what they do to the stream gives them away: lighttpd's default buffers the whole body
  and sends it with a ``Content-Length`` (uvicorn streams with chunked framing, never with a
  length); HAProxy's default releases the stream in bursts about 200 ms apart (it sends with
  ``MSG_MORE``, and Linux holds such data for up to 200 ms).
"""

from __future__ import annotations

import statistics

from ._timeline import Timeline

SIGNATURES = (  # (proxy, header, substring), first match wins
    ("Varnish", "x-varnish", ""),
    ("Varnish", "via", "varnish"),
    ("Squid", "via", "squid"),
    ("Squid", "x-cache", " from "),
    ("Caddy", "server", "caddy"),
    ("nginx", "server", "nginx"),
    ("Apache", "server", "apache"),
    ("lighttpd", "server", "lighttpd"),
    ("HAProxy", "server", "haproxy"),
)

CORK = (0.15, 0.26)
"""Seconds between burst releases that fit Linux's 200 ms ceiling for corked (MSG_MORE) data."""

PROXY_FIXES = {
    "Varnish": {
        "held-by-proxy": "Varnish: keep do_stream on (its default) and do not set beresp.do_gzip for streams.",
        "compression": ("Varnish: do not set beresp.do_gzip = true for text/event-stream (its gzip runs "
                        "with Z_NO_FLUSH until the body ends)."),
        "cache-replay": ("Varnish caches a stream without Cache-Control for its default_ttl (120 s) and hands "
                     "the stored copy to the next client: send Cache-Control: no-cache from the app, or "
                     "return (pass) in vcl_recv for the streaming path."),
    },
    "Caddy": {
        "compression": ("Caddy: leave text/event-stream out of encode (its encoder is not flushed per event "
                        "once a first write passed minimum_length, 512 B)."),
    },
    "HAProxy": {
        "irregular-bursts": ("HAProxy: add 'option http-no-delay' to the frontend or backend: without it, "
                             "HAProxy sends with MSG_MORE while a response is unfinished and Linux holds the "
                             "data up to 200 ms."),
        "steady-lag": ("HAProxy: leave text/event-stream out of 'compression type' (its gzip is one event "
                       "behind)."),
    },
    "lighttpd": {
        "held-by-proxy": ("lighttpd: set server.stream-response-body = 2 (its default, 0, buffers the whole "
                          "response before sending it)."),
    },
    "Squid": {
        "idle-timeout": ("Squid: send a heartbeat comment more often than read_timeout (15 minutes by "
                         "default), or raise read_timeout."),
    },
}
"""A proxy's own setting for a layer, where it differs from the generic (nginx-worded) fix."""


def which_proxy(t: Timeline) -> tuple[str, str] | None:
    """(proxy name, the evidence in a sentence fragment), or None when nothing points at one."""
    h = {k.lower(): v for k, v in t.headers.items()}
    for proxy, header, part in SIGNATURES:
        value = h.get(header)
        if value is not None and part in value.lower():
            return proxy, f"{header.title()}: {value}" if value else f"an {header.title()} header"
    streamed_by_app = h.get("server", "").lower().startswith("uvicorn")
    if (t.verdict == "held-until-end" and streamed_by_app and "content-length" in h
            and t.content_type.startswith("text/event-stream")):
        return "lighttpd", (f"a Content-Length ({h['content-length']} B) on a stream that uvicorn sends "
                            f"chunked: a proxy gathered the whole body first, as lighttpd's default does")
    releases = [b[0].arrived for b in t.bursts]
    gaps = [b - a for a, b in zip(releases, releases[1:])]
    # The longest gap: the last release comes early, when the response ends (no MSG_MORE then).
    if t.verdict == "batched" and gaps and CORK[0] <= max(gaps) <= CORK[1]:
        return "HAProxy", (f"bursts released up to {max(gaps) * 1000:.0f} ms apart (median "
                           f"{statistics.median(gaps) * 1000:.0f} ms), Linux's 200 ms ceiling for data "
                           f"sent with MSG_MORE, as HAProxy does by default")
    return None


def proxy_fix(proxy: str | None, layer: str, generic: str) -> str:
    """That proxy's own fix for ``layer``, else ``generic``."""
    return PROXY_FIXES.get(proxy or "", {}).get(layer, generic)
