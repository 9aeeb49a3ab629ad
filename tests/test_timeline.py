"""Verdicts from synthetic timelines: each rule, and the cases that must not trigger it."""

from sselab import Event, Read, Timeline


def timeline(pairs, clock="shared", stamped=True):
    """pairs: (sent, arrived) per event; reads are made one per distinct arrival time."""
    times = sorted({a for _, a in pairs})
    events = [Event(seq=i, sent=s if stamped else None, arrived=a, bytes=40, read=times.index(a))
              for i, (s, a) in enumerate(pairs)]
    return Timeline("http://127.0.0.1:1/x", 200, "text/event-stream",
                    [Read(t, 40) for t in times], events, clock=clock if stamped else None)


def test_real_time():
    t = timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(20)])
    assert t.verdict == "real-time"


def test_held_until_end():
    t = timeline([(i * 0.1, 2.0) for i in range(20)])
    assert t.verdict == "held-until-end"


def test_batched_in_groups_of_five():
    t = timeline([(i * 0.1, (i // 5) * 0.5 + 0.45) for i in range(20)])
    assert t.verdict == "batched"


def test_lagging_one_event_behind():
    t = timeline([(i * 0.1, i * 0.1 + 0.1) for i in range(20)])
    assert t.verdict == "lagging"
    assert "1.0 send gaps behind" in t.reason


def test_events_sent_together_arriving_together_are_not_batching():
    t = timeline([(i // 5 * 0.5, i // 5 * 0.5 + 0.001) for i in range(20)])
    assert t.verdict == "real-time"


def test_one_hiccup_is_a_stall_not_a_lag():
    pairs = [(i * 0.1, i * 0.1 + 0.001) for i in range(20)]
    pairs[7] = (0.7, 0.75)
    t = timeline(pairs)
    assert t.verdict == "stalled" and len(t.stalls) == 1, t.reason


def test_aligned_clock_ignores_a_constant_offset():
    t = timeline([(i * 0.1 - 50.0, i * 0.1 + 0.001) for i in range(20)], clock="aligned")
    assert t.verdict == "real-time"


def test_too_few_events_is_unknown():
    assert timeline([(0.0, 0.001)]).verdict == "unknown"


def test_without_stamps_a_late_single_burst_is_held():
    t = timeline([(0, 3.0)] * 10, stamped=False)
    assert t.verdict == "held-until-end" and "no send stamps" in t.reason


def test_without_stamps_a_quick_single_burst_is_unknown():
    assert timeline([(0, 0.01)] * 10, stamped=False).verdict == "unknown"


def test_without_stamps_spread_arrivals_are_real_time():
    assert timeline([(0, i * 0.1 + 0.05) for i in range(10)], stamped=False).verdict == "real-time"


def test_json_shape():
    d = timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(3)]).to_dict()
    assert set(d) >= {"url", "status", "content_type", "verdict", "summary", "reads", "events"}
    assert set(d["events"][0]) == {"seq", "sent", "arrived", "delay", "bytes", "read", "id"}
    assert set(d["reads"][0]) == {"t", "bytes"}
