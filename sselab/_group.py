"""Run a server that forks workers so that no worker outlives it: ``python -m sselab._group CMD...``.

gunicorn and granian start worker processes of their own. ``setpriv --pdeathsig``
(``sselab/_child.py``) ties only the process it starts to the kernel: when the kernel dies,
the server's master is killed and its workers live on, orphaned (seen here with gunicorn 27
and granian 2.8). This small leader runs the server in a process group of its own, forwards
the signals it gets (TERM, INT, QUIT to stop; HUP for gunicorn's graceful reload), and when
the server's main process has exited, or ``GRACE`` seconds after a stop signal, kills what is
left of the group. ``_child.spawn_tied`` starts it with ``--pdeathsig TERM``, so a dying
kernel reaches it as a signal it can act on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE = 3.0
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def main(command: list[str]) -> int:
    child = subprocess.Popen(command, start_new_session=True)  # its own group: pgid == child.pid
    deadline = [None]

    def forward(signum, _frame):
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass
        if signum in STOPS and deadline[0] is None:
            deadline[0] = time.monotonic() + GRACE

    for signum in (*STOPS, signal.SIGHUP):
        signal.signal(signum, forward)
    while child.poll() is None and (deadline[0] is None or time.monotonic() < deadline[0]):
        time.sleep(0.05)
    try:
        os.killpg(child.pid, signal.SIGKILL)  # workers left behind, if any
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
