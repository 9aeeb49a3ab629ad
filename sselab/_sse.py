"""An incremental Server-Sent Events parser.

Why our own: the probe must know *which read completed each event*, so it feeds the parser
one read at a time and asks what came out. The rules follow the WHATWG HTML standard,
"Interpreting an event stream" (section 9.2.6):

- lines end in CRLF, LF or CR; a read may end anywhere, inside a line, inside a UTF-8
  character, or between the CR and the LF of one line break (an empty read in between too);
- one U+FEFF (BOM) at the very start of the stream is dropped;
- a blank line dispatches the event, unless no ``data`` line was seen since the last one;
- a line starting with ``:`` is a comment; ``field: value`` loses one leading space; a line
  with no colon is a field with an empty value;
- ``id`` sets the *last event ID*, which carries over to later events (an ``id`` with a NUL
  in it is ignored); ``retry`` counts only when it is ASCII digits.

The promise, tested with hypothesis in ``tests/test_sse_parser.py``: however a byte stream
is cut into reads, the events and comments that come out are the same, and they agree with
httpx-sse's decoder wherever httpx-sse follows the standard. (httpx-sse parses SSE too, but
it hides read boundaries, which are exactly what this lab measures.)
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class ParsedEvent:
    """One dispatched SSE event, or one comment line when ``comment`` is not None.

    ``nbytes`` counts the event's own lines on the wire, line breaks included (UTF-8).
    ``id`` is the last event ID in force when the event was dispatched (None if none yet).
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comment: str | None = None
    nbytes: int = 0


@dataclass
class SSEParser:
    """Feed bytes in; get the events each feed completed, in order.

    >>> p = SSEParser()
    >>> [e.data for e in p.feed(b"data: 1\\n\\nda")]
    ['1']
    >>> [e.data for e in p.feed(b"ta: 2\\r\\n\\r\\n")]
    ['2']
    """

    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )
    _started: bool = False
    _partial: list[str] = field(default_factory=list)
    _skip_lf: bool = False
    _fields: dict = field(default_factory=dict)
    _data: list[str] = field(default_factory=list)
    _nbytes: int = 0
    _last_id: str | None = None
    retry: int | None = None
    """The reconnection time (ms) the stream last asked for with ``retry:``, None if never."""

    def feed(self, chunk: bytes) -> list[ParsedEvent]:
        """Parse one read; return the events and comments it completed."""
        text = self._decoder.decode(chunk)
        if not text:
            return []  # nothing decoded (an empty read, or half a UTF-8 character): no state changes
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        out = []
        for line, raw_len in self._lines(text):
            parsed = self._take_line(line, raw_len)
            if parsed is not None:
                out.append(parsed)
        return out

    def _lines(self, text: str):
        """Yield (line, bytes on the wire) for each line this text completes.

        Scans only the new text, so one huge event arriving in many reads stays linear.
        """
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF that was split across two reads
        self._skip_lf = False
        start = 0
        for brk in _LINE_BREAK.finditer(text):
            if brk.group() == "\r" and brk.end() == len(text):
                self._skip_lf = True  # maybe the first half of a CRLF
            line = "".join(self._partial) + text[start:brk.start()]
            self._partial = []
            yield line, len(line.encode()) + len(brk.group())
            start = brk.end()
        if start < len(text):
            self._partial.append(text[start:])

    def _take_line(self, line: str, raw_len: int) -> ParsedEvent | None:
        if line.startswith(":"):
            return ParsedEvent(event="", comment=line[1:].removeprefix(" "), nbytes=raw_len)
        self._nbytes += raw_len
        if line == "":
            return self._dispatch()
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._fields[name] = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        elif name == "retry" and _DIGITS.fullmatch(value):
            self._fields[name] = self.retry = int(value)  # in force at once, event or not
        return None

    def _dispatch(self) -> ParsedEvent | None:
        fields, data, nbytes = self._fields, self._data, self._nbytes
        self._fields, self._data, self._nbytes = {}, [], 0
        if not data:
            return None  # the standard dispatches nothing when no data line was seen
        return ParsedEvent(
            event=fields.get("event") or "message",
            data="\n".join(data),
            id=self._last_id,
            retry=fields.get("retry"),
            nbytes=nbytes,
        )
