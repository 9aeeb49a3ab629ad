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


# -- stalls, cuts and what a cut stream delivered ------------------------------------------------
def test_a_late_first_event_alone_is_a_stall():
    # notebook 03's Nagle case: only the first of ten events is 43 ms late
    pairs = [(i * 0.1, i * 0.1 + 0.001) for i in range(10)]
    pairs[0] = (0.0, 0.043)
    t = timeline(pairs)
    assert t.verdict == "stalled" and "1 of 10" in t.reason and "1 stall" in t.reason


def test_up_to_a_third_late_is_stalled_beyond_that_lagging():
    def late(k):
        return [(i * 0.1, i * 0.1 + (0.06 if i < k else 0.001)) for i in range(12)]
    assert timeline(late(4)).verdict == "stalled"
    assert timeline(late(5)).verdict == "lagging"


def test_two_separate_hiccups_are_two_stalls():
    pairs = [(i * 0.1, i * 0.1 + 0.001) for i in range(20)]
    pairs[3], pairs[12] = (0.3, 0.36), (1.2, 1.26)
    t = timeline(pairs)
    assert t.verdict == "stalled" and len(t.stalls) == 2


def cut_timeline(pairs, **fields):
    t = timeline(pairs)
    return Timeline(t.url, t.status, t.content_type, t.reads, t.events, clock="shared", **fields)


def test_a_connection_closed_mid_body_is_cut_whatever_came_before():
    t = cut_timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(3)], ended_by="cut")
    assert t.verdict == "cut" and t.delivery == "real-time"
    assert t.reason.startswith("cut after 3 event(s)") and "until then real-time" in t.reason


def test_a_client_read_timeout_is_a_cut():
    t = cut_timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(2)], ended_by="timeout")
    assert t.verdict == "cut" and "read timeout" in t.reason


def test_stamps_that_announce_more_events_reveal_a_cut_at_a_clean_end():
    pairs = [(i * 0.1, i * 0.1 + 0.001) for i in range(3)]
    assert cut_timeline(pairs, ended_by="eof", promised=6).verdict == "cut"
    assert cut_timeline(pairs, ended_by="eof", promised=3).verdict == "real-time"


def test_a_cut_with_no_event_is_still_a_cut():
    t = Timeline("http://127.0.0.1:1/x", 200, "text/event-stream", [], [], ended_by="cut")
    assert t.verdict == "cut" and t.delivery == "unknown"


def test_the_probe_own_limits_are_not_cuts():
    for limit in ("max_seconds", "max_events", "max_bytes"):
        t = cut_timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(5)], ended_by=limit)
        assert t.verdict == "real-time", limit


def test_lost_and_repeated_count_stamped_sequence_numbers():
    t = timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(6)])
    events = [t.events[0], t.events[1], t.events[1], t.events[3]]  # 2 lost, 1 repeated
    t2 = Timeline(t.url, 200, t.content_type, t.reads, events, clock="shared", promised=5)
    assert t2.lost == [2, 4] and t2.repeated == 1


def test_framing_is_read_from_the_headers_and_protocol():
    base = dict(url="http://127.0.0.1:1/x", status=200, content_type="text/event-stream", reads=[], events=[])
    assert Timeline(**base, headers={"Transfer-Encoding": "chunked"}).framing == "chunked"
    assert Timeline(**base, headers={"content-length": "10"}).framing == "content-length"
    assert Timeline(**base, headers={}).framing == "close-delimited"
    assert Timeline(**base, http_version="HTTP/2").framing == "HTTP/2 frames"


def test_every_verdict_is_reachable_and_named():
    from sselab._timeline import VERDICTS
    seen = {
        timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(20)]).verdict,
        timeline([(i * 0.1, 2.0) for i in range(20)]).verdict,
        timeline([(i * 0.1, (i // 5) * 0.5 + 0.45) for i in range(20)]).verdict,
        timeline([(i * 0.1, i * 0.1 + 0.1) for i in range(20)]).verdict,
        timeline([(0.0, 0.043)] + [(i * 0.1, i * 0.1 + 0.001) for i in range(1, 10)]).verdict,
        cut_timeline([(0.0, 0.001), (0.1, 0.101)], ended_by="cut").verdict,
        timeline([(i * 0.1 - 1.0, 0.01) for i in range(5)]).verdict,
        timeline([(0.0, 0.001)]).verdict,
    }
    assert seen == set(VERDICTS)


def test_events_sent_before_the_request_are_a_replay():
    t = timeline([(i * 0.1 - 0.5, 0.01 + i * 0.0001) for i in range(5)])
    assert t.verdict == "replayed" and "before this request" in t.reason
    remote = timeline([(i * 0.1 - 0.5, 0.01) for i in range(5)], clock="aligned")
    assert remote.verdict != "replayed"  # clocks that differ cannot tell


def test_repeats_count_how_many_runs_agree(ticker_server):
    import asyncio

    import sselab
    r = asyncio.run(sselab.arepeat(ticker_server.url + "/held?n=10&interval=0.02", times=3))
    assert r.verdict == "held-until-end" and str(r).startswith("3 of 3 runs held-until-end")


def test_a_stream_that_stops_before_the_time_limit_is_cut_one_that_is_still_flowing_is_not():
    pairs = [(i * 0.05, i * 0.05 + 0.001) for i in range(7)]
    stopped = cut_timeline(pairs, ended_by="max_seconds", promised=20, ended_at=3.0)
    assert stopped.verdict == "cut" and "it stopped" in stopped.reason and "13 of the 20" in stopped.reason
    flowing = cut_timeline(pairs, ended_by="max_seconds", promised=20, ended_at=0.4)
    assert flowing.verdict == "real-time"
