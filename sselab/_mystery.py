"""Mystery setups for the diagnosis exercise: the series' own specimens, behind letters.

Defined in notebooks/12_diagnose.ipynb. ``start_mysteries()`` starts every setup (the nginx
ones only when nginx is installed), shuffles them behind the letters A, B, C, ... and
returns a :class:`Mysteries`: ``.urls`` is all a learner sees; ``.reveal()`` says which
setup each letter was and which layer a diagnosis should name for it.

Every URL ends in the same path and query, so the URL gives nothing away: a small path
rewrite (``_as_events``) serves the held and the middleware specimens at ``/events`` too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._nginx import NginxProxy, find_nginx
from ._server import serve

QUERY = "/events?n=24&interval=0.05&pad=100"
"""24 stamped events, one every 50 ms, each padded to about 150 bytes (about 3.7 kB in all)."""


@dataclass(frozen=True)
class Setup:
    """One mystery: what it is, and the layer a correct diagnosis names."""

    key: str
    what: str
    layer: str
    nginx: bool


SETUPS = (
    Setup("nginx-defaults", "servers/ticker.py behind nginx's defaults (h11 upstream)", "buffering-proxy", True),
    Setup("nginx-unbuffered", "servers/ticker.py behind nginx with proxy_buffering off", "none", True),
    Setup("nginx-small-buffers", "servers/ticker.py behind nginx with proxy_buffer_size 512, proxy_buffers 4 512 and "
          "proxy_max_temp_file_size 0 (h11 upstream)", "proxy-buffer", True),
    Setup("nginx-gzip", "servers/ticker.py behind nginx with gzip on for text/event-stream "
          "(proxy_http_version 1.1)", "compression", True),
    Setup("blocking-middleware", "servers/loop_middleware.py: a blocking iterator in an async "
          "generator behind a pass-through middleware", "event-loop", False),
    Setup("held-app", "servers/ticker.py's /held: the app sends every event at the end", "application", False),
)


class Mysteries:
    """Letters to URLs; the answer stays in ``reveal()``."""

    def __init__(self, assigned: dict[str, tuple[Setup, str]]) -> None:
        self._assigned = assigned

    @property
    def urls(self) -> dict[str, str]:
        return {letter: url for letter, (_, url) in self._assigned.items()}

    def reveal(self) -> dict[str, Setup]:
        return {letter: setup for letter, (setup, _) in self._assigned.items()}

    def __repr__(self) -> str:
        return "\n".join(f"{letter}: {url}" for letter, url in self.urls.items())


def _as_events(app, path: str, rename: tuple[bytes, bytes] | None = None):
    """Serve ``app``'s ``path`` at ``/events`` (optionally renaming a query parameter)."""
    async def asgi(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/events":
            query = scope.get("query_string", b"")
            if rename:
                query = query.replace(rename[0], rename[1])
            scope = {**scope, "path": path, "raw_path": path.encode(), "query_string": query}
        await app(scope, receive, send)
    return asgi


def _blocking_app():
    """servers/loop_middleware.py (notebook 01), served at /events with ``interval`` as ``gap``."""
    from servers import loop_middleware

    return _as_events(loop_middleware.app, "/stream", (b"interval=", b"gap="))


def _start(setup: Setup, name: str, upstream) -> str:
    from servers import ticker

    if setup.key == "blocking-middleware":
        return serve(_blocking_app(), name=f"{name}-blocking").url + QUERY
    if setup.key == "held-app":
        return serve(_as_events(ticker.app, "/held"), name=f"{name}-held").url + QUERY
    knobs = {
        "nginx-defaults": {},
        "nginx-unbuffered": {"proxy_buffering": False},
        "nginx-small-buffers": {"proxy_buffer_size": "512", "proxy_buffers": "4 512",
                                "extra": "proxy_max_temp_file_size 0;"},
        "nginx-gzip": {"gzip": True, "proxy_http_version": "1.1"},
    }[setup.key]
    return NginxProxy(upstream, name=f"{name}-{setup.key}", **knobs).start().url + QUERY


def start_mysteries(name: str = "mystery", *, seed: int | None = None, nginx: bool | None = None) -> Mysteries:
    """Start every setup (nginx ones only with nginx) behind shuffled letters.

    ``name`` prefixes every server and proxy name (re-running replaces them); ``seed`` fixes
    the shuffle; ``nginx=False`` leaves the nginx setups out even when nginx is there.
    """
    with_nginx = find_nginx() is not None if nginx is None else nginx
    chosen = [s for s in SETUPS if with_nginx or not s.nginx]
    random.Random(seed).shuffle(chosen)
    from servers import ticker

    upstream = serve(ticker.app, name=f"{name}-ticker", http="h11")  # one ticker behind every nginx
    return Mysteries({chr(ord("A") + i): (s, _start(s, name, upstream)) for i, s in enumerate(chosen)})
