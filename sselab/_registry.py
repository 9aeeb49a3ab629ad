"""What the lab started in this process, by kind and name, so nothing outlives its cell.

Starting something under a name that is already running stops the old one first (a re-run
notebook cell replaces, never leaks); ``sselab.stop_all()`` stops every kind, and every
registry stops what it holds when Python exits.
"""

from __future__ import annotations

import atexit
import threading


class Registry:
    """Running things of one kind (each has ``stop()``), at most one per name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, object] = {}
        self._lock = threading.Lock()
        atexit.register(self.stop_all)

    def replace(self, name: str) -> None:
        """Stop whatever runs under ``name``, before something new starts there."""
        with self._lock:
            previous = self._items.pop(name, None)
        if previous is not None:
            previous.stop()

    def add(self, name: str, item) -> None:
        with self._lock:
            self._items[name] = item

    def discard(self, name: str, item) -> None:
        """Forget ``item`` (it has stopped), unless another item has taken its name since."""
        with self._lock:
            if self._items.get(name) is item:
                del self._items[name]

    def running(self) -> list:
        with self._lock:
            return list(self._items.values())

    def stop_all(self) -> None:
        for item in self.running():
            item.stop()


SERVERS = Registry("uvicorn server")
PROXIES = Registry("nginx")
JUPYTER_SERVERS = Registry("Jupyter server")
CERTIFICATES = Registry("TLS certificates")
