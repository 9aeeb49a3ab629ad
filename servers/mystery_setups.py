"""The mystery setups of the diagnosis exercise: which specimen, behind which proxy, and the
layer a correct diagnosis names for each.

This is a catalogue, not a server:
``sselab.start_mysteries(mystery_setups.SETUPS, query=mystery_setups.QUERY)`` starts every
setup and hides them behind letters (notebooks/12_diagnose.ipynb). Every URL ends in the same
path and query, so the URL gives nothing away: ``as_events`` serves another route of a
specimen at ``/events`` too (plain ASGI, a few lines).

Introduced in notebooks/12_diagnose.ipynb.
"""

from dataclasses import dataclass, field

from servers import loop_middleware, ticker

QUERY = "/events?n=24&interval=0.05&pad=100"
"""24 stamped events, one every 50 ms, each padded to about 150 bytes (about 3.7 kB in all)."""


def as_events(app, path: str, rename: tuple[bytes, bytes] | None = None):
    """Serve ``app``'s ``path`` at ``/events`` (optionally renaming a query parameter)."""
    async def asgi(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/events":
            query = scope.get("query_string", b"")
            if rename:
                query = query.replace(rename[0], rename[1])
            scope = {**scope, "path": path, "raw_path": path.encode(), "query_string": query}
        await app(scope, receive, send)
    return asgi


@dataclass(frozen=True)
class Setup:
    """One mystery: what it is, the app that serves it, the proxy in front (kind and its
    settings, or None) and the layer a correct diagnosis names."""

    key: str
    what: str
    layer: str
    app: object = ticker.app
    proxy: str | None = None
    settings: dict = field(default_factory=dict)


SETUPS = (
    Setup("nginx-defaults", "servers/ticker.py behind nginx's defaults (h11 upstream)", "held-by-proxy",
          proxy="nginx"),
    Setup("nginx-unbuffered", "servers/ticker.py behind nginx with proxy_buffering off", "none",
          proxy="nginx", settings={"proxy_buffering": False}),
    Setup("nginx-small-buffers", "servers/ticker.py behind nginx with proxy_buffer_size 512, proxy_buffers 4 512 "
          "and proxy_max_temp_file_size 0 (h11 upstream)", "full-buffer", proxy="nginx",
          settings={"proxy_buffer_size": "512", "proxy_buffers": "4 512", "extra": "proxy_max_temp_file_size 0;"}),
    Setup("nginx-gzip", "servers/ticker.py behind nginx with gzip on for text/event-stream "
          "(proxy_http_version 1.1)", "compression", proxy="nginx",
          settings={"gzip": True, "proxy_http_version": "1.1"}),
    Setup("haproxy-defaults", "servers/ticker.py behind HAProxy's defaults (no option http-no-delay)",
          "irregular-bursts", proxy="haproxy"),
    Setup("lighttpd-defaults", "servers/ticker.py behind lighttpd's defaults (server.stream-response-body 0)",
          "held-by-proxy", proxy="lighttpd"),
    Setup("blocking-middleware", "servers/loop_middleware.py: a blocking iterator in an async "
          "generator behind a pass-through middleware", "event-loop",
          app=as_events(loop_middleware.app, "/stream", (b"interval=", b"gap="))),
    Setup("held-app", "servers/ticker.py's /held: the app sends every event at the end", "held-by-app",
          app=as_events(ticker.app, "/held")),
)
