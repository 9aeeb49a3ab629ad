"""The series' stamp contract: every stamped event's data is ``{"seq": n, "sent": t}``.

- ``seq``: the event's number, from 0.
- ``sent``: the server's ``time.monotonic()`` at the moment the generator yields the event.
- ``of`` (optional): how many events the stream will send in all. With it, a client can tell
  a stream that was cut from one that ended, even when the body's framing cannot (an HTTP/1.0
  style body simply ends when the connection closes), and count events lost or repeated.

On Linux, CLOCK_MONOTONIC is one clock for every process on the machine, so a client on the
same machine computes ``delay = arrival - sent`` exactly, even with nginx in between.
``sselab.probe`` reads these fields; anything else in the object is carried along.

Introduced in notebooks/00_quickstart.ipynb.
"""

import json
import time


def stamped(seq: int, **extra) -> str:
    """One SSE frame carrying the stamp: ``data: {"seq": 3, "sent": 1234.5678}\\n\\n``."""
    return f"data: {json.dumps({'seq': seq, 'sent': time.monotonic(), **extra})}\n\n"
