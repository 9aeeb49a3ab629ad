"""A stand-in for a blocking SDK stream, like the source article's ``coze.chat.stream(...)``.

``chat_stream(n, gap)`` is a plain *synchronous* iterator: before each item it blocks the
calling thread for ``gap`` seconds, as an SDK does while it waits for the next token on its
own HTTP connection. ``achat_stream(n, gap)`` is its truly asynchronous twin (it awaits
instead of blocking).

Both keep a ``Record`` of every stream they start (in ``RECORDS``, newest last): when each
item was handed over, on which thread, and when and how the stream ended:

- ``"finished"``: it produced all ``n`` items;
- ``"closed"``: someone called ``close()``/``aclose()`` on it (``GeneratorExit``), e.g. when
  the generator holding it was finalized;
- ``"cancelled"``: (async twin only) the task awaiting it was cancelled;
- ``"running"``: not ended yet (or abandoned, never closed).

Notebook 02 (leaving early) reads these records to tell, after a client leaves, whether
the upstream kept working for nobody and when (if ever) it was closed. The specimens that
use it are ``servers/loop_*.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field, replace


@dataclass
class Record:
    """What one upstream stream did: monotonic times, like the stamp contract's ``sent``."""

    started: float
    n: int
    produced: list[float] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    ended: float | None = None
    how: str = "running"

    def produced_after(self, t: float) -> int:
        """Items the upstream produced after time ``t`` (e.g. after the client left)."""
        return sum(p > t for p in self.produced)

    async def settled(self, gap: float, timeout: float = 5.0) -> Record:
        """Wait (as an observer) until this stream has ended, or has made nothing for three
        gaps (abandoned: nobody asks it for more), or ``timeout`` passed. Returns a copy of
        the record as it was then (the original may still change later, e.g. when the
        garbage collector finally closes an abandoned stream)."""
        deadline = time.monotonic() + timeout
        while self.ended is None and time.monotonic() < deadline:
            last = self.produced[-1] if self.produced else self.started
            if time.monotonic() - last > 3 * gap + 0.05:
                break
            await asyncio.sleep(0.01)
        return replace(self, produced=list(self.produced), threads=set(self.threads))


RECORDS: list[Record] = []
"""Every stream started in this process, newest last (the notebook clears it between runs)."""


def latest() -> Record | None:
    return RECORDS[-1] if RECORDS else None


def chat_stream(n: int = 10, gap: float = 0.1):
    """A blocking SDK stream: ``time.sleep(gap)`` before each of ``n`` items (0, 1, ...)."""
    record = Record(time.monotonic(), n)
    RECORDS.append(record)
    try:
        for seq in range(n):
            time.sleep(gap)  # waiting for the next token: blocks whatever thread runs this
            record.produced.append(time.monotonic())
            record.threads.add(threading.current_thread().name)
            yield seq
        record.how = "finished"
    except GeneratorExit:
        record.how = "closed"
        raise
    finally:
        record.ended = time.monotonic()


async def achat_stream(n: int = 10, gap: float = 0.1):
    """The same stream from a truly async SDK: ``await asyncio.sleep(gap)`` before each item."""
    record = Record(time.monotonic(), n)
    RECORDS.append(record)
    try:
        for seq in range(n):
            await asyncio.sleep(gap)  # waiting for the next token: the event loop runs meanwhile
            record.produced.append(time.monotonic())
            record.threads.add(threading.current_thread().name)
            yield seq
        record.how = "finished"
    except GeneratorExit:
        record.how = "closed"
        raise
    except asyncio.CancelledError:
        record.how = "cancelled"
        raise
    finally:
        record.ended = time.monotonic()
