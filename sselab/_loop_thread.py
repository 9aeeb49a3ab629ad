"""A coroutine on an event loop of its own, in a daemon thread; and a blocking way to run one.

Why a loop of its own: a probe that reads on the kernel's loop stamps every read that waited
behind a cell (a figure being drawn, a server starting) as late as that cell. Run on a loop in
another thread, a read waits at most the GIL's switch interval (5 ms) while the cell runs
Python. ``sselab.watch`` (``_live``) and ``sselab.probe_in_background`` (``_server_runs``) both
use :class:`LoopThread`; ``sselab.probe`` and the control panels use :func:`run_blocking`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading


class LoopThread:
    """Run ``coroutine`` to completion on a new event loop in a daemon thread called ``name``.

    ``await`` it (from any loop) or call :meth:`result` for what the coroutine returned or
    raised; :meth:`stop` cancels it. ``on_done`` is called in that thread once it has ended,
    whichever way (a ``RuntimeError`` from it, e.g. a caller's loop that is gone, is ignored).
    """

    def __init__(self, coroutine, *, name: str, on_done=None) -> None:
        self._future: concurrent.futures.Future = concurrent.futures.Future()
        self._on_done = on_done
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(coroutine)  # before the loop runs: stop() always has a task
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._future.set_result(self._loop.run_until_complete(self._task))
        except BaseException as error:  # noqa: BLE001 (handed to whoever asks for the result)
            self._future.set_exception(error)
        finally:
            self._loop.close()
            if self._on_done is not None:
                with contextlib.suppress(RuntimeError):
                    self._on_done()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the coroutine and wait (at most ``timeout`` s) for the thread to end."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=timeout)

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None):
        """What the coroutine returned (or raise what it raised), waiting at most ``timeout`` s."""
        return self._future.result(timeout)

    def __await__(self):
        return asyncio.wrap_future(self._future).__await__()


def run_blocking(make_coroutine, *args, **kwargs):
    """``await make_coroutine(*args, **kwargs)`` from code that cannot await.

    With no event loop running in this thread that is ``asyncio.run``; inside one (a notebook
    cell, an ipywidgets callback) ``asyncio.run`` refuses, so the coroutine runs on a fresh
    loop in a worker thread while this thread waits.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine(*args, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sselab-blocking") as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine(*args, **kwargs))).result()
