"""Start a helper program (nginx, a Jupyter server) that dies with this Python process.

On Linux the child starts under ``setpriv --pdeathsig KILL``: the kernel kills it when its
parent dies, a killed Jupyter kernel included. PR_SET_PDEATHSIG follows the *thread* that
forked, not the process, so every child is started from one long-lived launcher thread;
started from a short-lived thread (a worker, ``asyncio.to_thread``) it would be killed as
soon as that thread ended. Where setpriv is missing (macOS), ``atexit`` and the registries
(``sselab/_registry.py``) are what stop it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

LAUNCHER_THREAD = "sselab-launcher"
_launcher: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def spawn_tied(command: list[str], *, death_signal: str = "KILL", **popen) -> subprocess.Popen:
    """``subprocess.Popen(command, **popen)``, tied to this process's life (see above).

    ``death_signal`` is what the child gets when we die: KILL, or TERM for a child that must
    clean up after itself (``sselab/_group.py``).
    """
    global _launcher
    if shutil.which("setpriv"):
        command = ["setpriv", "--pdeathsig", death_signal, "--", *command]
    with _lock:
        if _launcher is None:
            _launcher = ThreadPoolExecutor(1, thread_name_prefix=LAUNCHER_THREAD)
    return _launcher.submit(subprocess.Popen, command, **popen).result()


def _forget_launcher() -> None:
    global _launcher
    _launcher = None  # a forked child has no launcher thread; it starts its own


os.register_at_fork(after_in_child=_forget_launcher)
