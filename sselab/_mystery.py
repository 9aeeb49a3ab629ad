"""Mystery setups for the diagnosis exercise: a catalogue of setups, started behind letters.

Defined in notebooks/12_diagnose.ipynb. The catalogue is passed in (the series' own is
``servers/mystery_setups.py``; the toolkit imports no specimen): each setup names its app, the
proxy kind in front (or none) with its settings, and the layer a diagnosis should name.
``start_mysteries(setups)`` starts every setup whose proxy is installed, shuffles them behind
A, B, C, ... and returns a :class:`Mysteries`: ``.urls`` is all a learner sees;
``.reveal()`` says which setup each letter was.
"""

from __future__ import annotations

import random

from ._nginx import NginxProxy
from ._proxies import PROXY_CLASSES
from ._server import serve
from ._tied import TiedProgram

PROXY_KINDS: dict[str, type[TiedProgram]] = {
    "nginx": NginxProxy, **{name.lower(): cls for name, cls in PROXY_CLASSES.items() if not cls.forward}}
"""Proxy kinds a setup may name, each a TiedProgram taking (upstream, name=..., **settings)."""


class Mysteries:
    """Letters to URLs; the answer stays in ``reveal()``."""

    def __init__(self, assigned: dict) -> None:
        self._assigned = assigned

    @property
    def urls(self) -> dict[str, str]:
        return {letter: url for letter, (_, url) in self._assigned.items()}

    def reveal(self) -> dict:
        return {letter: setup for letter, (setup, _) in self._assigned.items()}

    def __repr__(self) -> str:
        return "\n".join(f"{letter}: {url}" for letter, url in self.urls.items())


def _installed(kind: str | None) -> bool:
    return kind is None or PROXY_KINDS[kind](upstream="http://127.0.0.1:1").find_binary() is not None


def start_mysteries(setups, name: str = "mystery", *, query: str, seed: int | None = None,
                    proxies: bool | None = None) -> Mysteries:
    """Start every setup (those behind a proxy only when it is installed) behind shuffled letters.

    ``setups``: a catalogue like ``servers.mystery_setups.SETUPS`` (``key``, ``app``, ``proxy``,
    ``settings``, ``layer``); ``query`` is appended to every URL; ``name`` prefixes every server
    and proxy name (re-running replaces them); ``seed`` fixes the shuffle; ``proxies=False``
    leaves the proxied setups out even when their proxy is installed.
    """
    chosen = [s for s in setups if (s.proxy is None or proxies is not False) and _installed(s.proxy)]
    random.Random(seed).shuffle(chosen)
    assigned, upstreams = {}, {}
    for i, setup in enumerate(chosen):
        letter = chr(ord("A") + i)
        if setup.proxy is None:
            url = serve(setup.app, name=f"{name}-{setup.key}").url
        else:  # one h11 upstream per app, shared by every proxy in front of it
            key = id(setup.app)
            if key not in upstreams:
                upstreams[key] = serve(setup.app, name=f"{name}-upstream-{len(upstreams)}", http="h11")
            proxy = PROXY_KINDS[setup.proxy](upstreams[key], name=f"{name}-{setup.key}", **setup.settings)
            url = proxy.start().url
        assigned[letter] = (setup, url + query)
    return Mysteries(assigned)
