"""The SSE parser: read boundaries must never change what events come out."""

import pytest

from sselab._sse import SSEParser

STREAM = b'data: {"seq": 0}\n\n: ping\n\nevent: delta\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\ndata: 3\r\r'


def parse_in_pieces(data: bytes, size: int):
    parser, out = SSEParser(), []
    for i in range(0, len(data), size):
        out += parser.feed(data[i:i + size])
    return out


def summarize(events):
    return [(e.event, e.data, e.id, e.comment) for e in events]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 1000])
def test_any_split_gives_the_same_events(size):
    assert summarize(parse_in_pieces(STREAM, size)) == [
        ("message", '{"seq": 0}', None, None),
        ("", "", None, "ping"),
        ("delta", "a\nb", "7", None),
        ("message", "3", "7", None),  # the last event ID carries over (WHATWG)
    ]


def test_several_events_in_one_read_are_all_returned_by_that_read():
    events = SSEParser().feed(b"data: 1\n\ndata: 2\n\ndata: 3\n\n")
    assert [e.data for e in events] == ["1", "2", "3"]


def test_an_event_is_returned_by_the_read_that_completes_it():
    parser = SSEParser()
    assert parser.feed(b"data: hel") == []
    assert parser.feed(b"lo\n") == []
    assert [e.data for e in parser.feed(b"\n")] == ["hello"]


def test_event_bytes_count_the_wire_bytes_including_line_breaks():
    (event,) = SSEParser().feed(b"data: ab\r\n\r\n")
    assert event.nbytes == len(b"data: ab\r\n\r\n")


def test_utf8_split_inside_a_character_and_invalid_bytes():
    parser = SSEParser()
    text = "data: 你好\n\n".encode()
    out = parser.feed(text[:8]) + parser.feed(text[8:])
    assert [e.data for e in out] == ["你好"]
    assert SSEParser().feed(b"data: \xff\xfe\n\n")[0].data == "\ufffd\ufffd"


def test_blank_lines_without_data_dispatch_nothing():
    assert SSEParser().feed(b"\n\n\nevent: x\n\n") == []
