"""Every plot helper, drawn on synthetic runs with Agg, and the layout facts a reader relies on:
no empty panel, nothing cut off at the figure's edge, titles that do not run into each other,
tick labels on every panel with data, negative time for a replay, a millisecond axis for a
short run, burst shading scaled to the axis, and colours that agree with the verdicts."""

from types import SimpleNamespace

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from test_timeline import cut_timeline, timeline

import sselab
from sselab import Read, Timeline
from sselab._bystander import Bystander
from sselab._concurrent import CROWD_VERDICTS, Crowd
from sselab._connections import ManyStreams, Stream
from sselab._plot import VERDICT_COLOURS
from sselab._plot_crowd import CROWD_COLOURS
from sselab._reconnect import Connection, Followed
from sselab._server_runs import ServerRun
from sselab._timeline import VERDICTS


# -- synthetic runs -----------------------------------------------------------------------------
def with_reads(t: Timeline, sizes: dict[int, int]) -> Timeline:
    """``t`` with some reads made larger (their size labels are what the figures print)."""
    reads = [Read(r.t, sizes.get(i, r.bytes)) for i, r in enumerate(t.reads)]
    return Timeline(t.url, t.status, t.content_type, reads, t.events, clock=t.clock, ended_by=t.ended_by,
                    promised=t.promised, ended_at=t.ended_at)


def four_runs() -> dict[str, Timeline]:
    """04's kind of grid: four runs, one held, one batched, one cut, with long titles."""
    return {
        "proxy_cache on + send=cache-control · h11 (2nd request)": timeline([(i * 0.05, 0.47) for i in range(10)]),
        "proxy_cache on + send=cache-control · httptools (2nd request)":
            with_reads(timeline([(i * 0.05, i * 0.05 + 0.002) for i in range(10)]), {0: 900, 1: 880, 9: 700}),
        "1 KB events, nginx defaults, h11": timeline([(i * 0.05, (i // 4) * 0.2 + 0.16) for i in range(10)]),
        "proxy_read_timeout 1s": cut_timeline([(i * 0.05, i * 0.05 + 0.002) for i in range(3)], ended_by="cut",
                                              ended_at=1.0),
    }


def replay() -> Timeline:
    """04's cache: every event sent about 0.48 s before this request, all handed over at once."""
    return timeline([(i * 0.05 - 0.48, 0.004 + i * 0.0002) for i in range(10)])


def short_bursts() -> Timeline:
    """03's write-size run: bursts 8 ms apart, the whole run in 25 ms."""
    return timeline([(i * 0.002, (i // 4) * 0.008 + 0.0081) for i in range(12)])


def stalled() -> Timeline:
    pairs = [(i * 0.1, i * 0.1 + 0.001) for i in range(12)]
    pairs[5] = (0.5, 0.58)
    return timeline(pairs)


def every_verdict() -> dict[str, Timeline]:
    runs = {
        "real-time": timeline([(i * 0.1, i * 0.1 + 0.001) for i in range(10)]),
        "held": timeline([(i * 0.1, 2.0) for i in range(10)]),
        "batched": timeline([(i * 0.1, (i // 5) * 0.5 + 0.45) for i in range(20)]),
        "lagging": timeline([(i * 0.1, i * 0.1 + 0.1) for i in range(10)]),
        "stalled": stalled(),
        "cut": cut_timeline([(0.0, 0.001), (0.1, 0.101)], ended_by="cut"),
        "replayed": replay(),
        "unknown": timeline([(0.0, 0.001)]),
    }
    assert {t.verdict for t in runs.values()} == set(VERDICTS)
    return runs


def server_runs() -> list[ServerRun]:
    def run(name, held):
        t = timeline([(1.0 + i * 0.05, 1.0 + i * 0.05 + 0.001) for i in range(10)])
        t.headers_at = 1.0 if held else 0.003
        return ServerRun(name, {"text/event-stream": t, "text/plain": t}, {}, 0.01)
    return [run("uvicorn (h11)", False), run("daphne", True)]


def many_streams() -> list[ManyStreams]:
    def one(label, at_once):
        return ManyStreams(label, "http://x", [Stream(i, 0.01 if i < at_once else 0.3 * (i - at_once + 1),
                                                      0.3 * max(0, i - at_once + 1) + 0.02, 3) for i in range(8)], 3)
    return [one("HTTP/1.1", 6), one("HTTPS, HTTP/2 (nginx)", 8), one("HTTPS, HTTP/2 (hypercorn)", 8)]


def followed(n: int = 3) -> list[Followed]:
    def one(pattern):
        events = [(i, i * 0.1, i * 0.1 + 0.002, 0) for i in range(5)]
        events += [(i, 0.8 + i * 0.05, 0.8 + i * 0.05 + 0.002, 1) for i in range(10)]
        return Followed("EventSource", pattern, "network cut after 0.45 s", 10, events,
                        [Connection(0.0, 0.45, "cut"), Connection(0.8, 1.4, "eof")], "", model_runs=1, faults=[0.45])
    return [one(p) for p in ("rerun", "live", "resume", "rerun again")[:n]]


def bystanders() -> dict[str, Bystander]:
    return {"article": Bystander("http://x", [(0.0, 0.5), (0.51, 0.003)]),
            "article + sleep(0)": Bystander("http://x", [(0.0, 0.05), (0.06, 0.05), (0.12, 0.049)]),
            "def generator": Bystander("http://x", [(i * 0.012, 0.0015) for i in range(40)])}


def leaving() -> dict:
    def record(produced, ended, how):
        return SimpleNamespace(produced=produced, ended=ended, how=how)
    return {"article": (record([9.95 + i * 0.05 for i in range(10)], 10.45, "finished"), 10.0),
            "article + sleep(0)": (record([9.95, 10.0, 10.05, 10.1], 10.12, "closed"), 10.0),
            "iterate_in_threadpool": (record([9.95, 10.0, 10.05], None, "running"), 10.0)}


def crowds() -> dict[str, Crowd]:
    def user(start):
        return timeline([(start + 0.3 + i * 0.04, start + 0.3 + i * 0.04 + 0.002) for i in range(15)])
    alone = user(0.0)
    return {"article": Crowd("http://x", [user(0.0), user(0.9), user(1.8)], [0.0] * 3, alone),
            "AsyncCoze": Crowd("http://x", [user(0.0), user(0.01), user(0.02)], [0.0] * 3, alone)}


FIGURES = {
    "plot_timeline": lambda: sselab.plot_timeline(four_runs()["1 KB events, nginx defaults, h11"], "one run"),
    "plot_runs, four": lambda: sselab.plot_runs(four_runs()),
    "plot_runs, five": lambda: sselab.plot_runs(dict(list((four_runs() | {"replay": replay()}).items()))),
    "plot_runs, every verdict": lambda: sselab.plot_runs(every_verdict()),
    "plot_runs, not shared": lambda: sselab.plot_runs({"short": short_bursts(), "replay": replay()}, sharex=False),
    "plot_runs, ncols=3 for four": lambda: sselab.plot_runs(four_runs(), ncols=3, size=(3.6, 2.6)),
    "plot_delays": lambda: sselab.plot_delays(every_verdict() | {"no stamps": timeline([(0, 0.1), (0, 0.2)],
                                                                                       stamped=False)},
                                              title="Every event's delay, by Nagle, writes per event, gap and "
                                                    "connection, with a title long enough to wrap"),
    "plot_servers": lambda: sselab.plot_servers(server_runs()),
    "plot_many_streams": lambda: sselab.plot_many_streams(many_streams()),
    "plot_followed": lambda: sselab.plot_followed(followed(3)),
    "plot_followed, four": lambda: sselab.plot_followed(followed(4)),
    "plot_waits": lambda: sselab.plot_waits(bystanders(), gap=0.05),
    "plot_leaving": lambda: sselab.plot_leaving(leaving(), size=(7, 3.6)),
    "plot_crowd": lambda: sselab.plot_crowd(crowds()),
    "plot_crowd, one": lambda: sselab.plot_crowd(crowds()["article"]),
}


# -- what a figure looks like, measured -----------------------------------------------------------
def drawn(fig: Figure):
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def unseen_ticks(fig: Figure) -> set[int]:
    """Tick labels matplotlib keeps for ticks outside the view (it does not draw them)."""
    out = set()
    for ax in fig.axes:
        for axis, at in ((ax.xaxis, 0), (ax.yaxis, 1)):
            lo, hi = sorted(axis.get_view_interval())
            out |= {id(t) for t in axis.get_ticklabels() if not lo - 1e-12 <= t.get_position()[at] <= hi + 1e-12}
    return out


def texts(fig: Figure) -> list[Text]:
    """Every text the figure draws."""
    unseen = unseen_ticks(fig)
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in unseen]


def labels(axis_labels) -> list[str]:
    """The tick labels drawn (in view, not blank)."""
    shown = [t for t in axis_labels if t.get_visible() and t.get_text()]
    return [t.get_text() for t in shown if t.axes is None or id(t) not in unseen_ticks(t.axes.figure)]


def overlap(a, b, slack: float = 1.0) -> bool:
    return a.x0 + slack < b.x1 and b.x0 + slack < a.x1 and a.y0 + slack < b.y1 and b.y0 + slack < a.y1


@pytest.fixture(scope="module", params=FIGURES, ids=list(FIGURES))
def figure(request):
    fig = FIGURES[request.param]()
    return fig, drawn(fig)


def test_no_empty_or_hidden_panel(figure):
    fig, _ = figure
    assert fig.axes
    assert all(ax.get_visible() for ax in fig.axes), "a hidden (empty) panel"
    assert all(ax.has_data() for ax in fig.axes), "a panel without data"


def test_no_text_is_cut_off_at_the_figure_edge(figure):
    fig, renderer = figure
    edge = fig.bbox
    for t in texts(fig):
        box = t.get_window_extent(renderer)
        assert box.x0 >= edge.x0 - 1 and box.x1 <= edge.x1 + 1 and box.y0 >= edge.y0 - 1 and box.y1 <= edge.y1 + 1, \
            f"cut off: {t.get_text()!r} at {box} in {edge}"


def test_titles_stay_over_their_own_panel(figure):
    fig, renderer = figure
    titles = [(ax, ax.title) for ax in fig.axes if ax.title.get_text()]
    for ax, title in titles:
        box, panel = title.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.width <= panel.width * 1.1 + 4, f"title wider than its panel: {title.get_text()!r}"
    for i, (_, a) in enumerate(titles):
        for _, b in titles[i + 1:]:
            assert not overlap(a.get_window_extent(renderer), b.get_window_extent(renderer)), \
                f"titles overlap: {a.get_text()!r} / {b.get_text()!r}"


def test_every_panel_with_data_has_tick_labels(figure):
    fig, _ = figure
    for ax in fig.axes:
        assert len(labels(ax.get_xticklabels())) >= 2, f"no x tick labels on {ax.get_title()!r}"
        assert labels(ax.get_yticklabels()), f"no y tick labels on {ax.get_title()!r}"


def test_the_columns_fit_the_runs():
    assert [sselab._plot.fit_columns(n) for n in range(1, 10)] == [1, 2, 3, 2, 3, 2, 3, 2, 3]
    fig = sselab.plot_runs(four_runs())
    assert len({ax.get_subplotspec().rowspan.start for ax in fig.axes}) == 2  # 2 x 2, pairs side by side
    fig = sselab.plot_runs(four_runs() | {"replay": replay()})
    last_row = [ax for ax in fig.axes if ax.get_subplotspec().rowspan.start == 1]
    assert len(last_row) == 2 and last_row[0].get_subplotspec().colspan.start == 1, "the short last row is centred"


def test_a_replay_shows_its_send_stamps_before_the_request():
    fig = sselab.plot_runs({"cached": replay(), "not cached": timeline([(i * 0.05, i * 0.05 + 0.002)
                                                                      for i in range(10)])})
    drawn(fig)
    for ax in fig.axes:  # shared: both panels show the same negative stretch
        assert ax.get_xlim()[0] < -0.48
        assert any(label.startswith("−") for label in labels(ax.get_xticklabels())), "no negative tick"
    sent = [o for o in fig.axes[0].collections if isinstance(o, PathCollection)][0].get_offsets()[:, 0]
    assert min(sent) == pytest.approx(-0.48), "the stamps are drawn where they are, not clipped at 0"


def test_a_short_run_has_a_millisecond_axis_and_narrow_burst_shading():
    fig = sselab.plot_timeline(short_bursts())
    drawn(fig)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("ms ")
    ticks = labels(ax.get_xticklabels())
    assert "10" in ticks and "20" in ticks, ticks
    lo, hi = ax.get_xlim()
    shaded = sum(p.get_width() for p in ax.patches if isinstance(p, Rectangle))
    assert 0 < shaded < 0.2 * (hi - lo), f"bursts shade {shaded / (hi - lo):.0%} of the axis"
    chained = sselab.plot_timeline(timeline([(i * 0.0001, 0.0027 + i * 0.0007) for i in range(6)]))
    assert len(chained.axes[0].patches) == 0, "03's socket burst: 2 ms gaps chained across the whole run"
    long = sselab.plot_timeline(four_runs()["1 KB events, nginx defaults, h11"])
    assert long.axes[0].get_xlabel().startswith("seconds ")


def test_the_legend_explains_ticks_and_byte_labels():
    fig = sselab.plot_runs(four_runs())
    legend = " | ".join(t.get_text() for lg in fig.legends for t in lg.get_texts())
    assert "a read" in legend and "N B" in legend and "burst" in legend and "cut" in legend, legend


def test_byte_labels_stay_inside_their_panel_and_apart():
    fig = sselab.plot_runs(four_runs())
    renderer = drawn(fig)
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().endswith(" B")]
        panel = ax.get_window_extent(renderer)
        assert all(b.x0 >= panel.x0 and b.x1 <= panel.x1 for b in boxes), "a byte label over the y axis"
        assert not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), "byte labels overlap"
    assert any(t.get_text() == "900 B" for ax in fig.axes for t in ax.texts)


def test_counts_are_singular_for_one():
    fig = sselab.plot_runs(four_runs())
    titles = [ax.get_title() for ax in fig.axes]
    assert any("1\u00a0read" in t for t in titles), titles
    assert not any("1\u00a0reads" in t or "1 reads" in t for t in titles), titles


def test_each_run_is_coloured_by_its_verdict():
    assert set(VERDICT_COLOURS) == set(VERDICTS) and len(set(VERDICT_COLOURS.values())) == len(VERDICTS)
    runs = every_verdict()
    fig = sselab.plot_runs(runs)
    for ax, t in zip(fig.axes, runs.values()):
        colour = VERDICT_COLOURS[t.verdict]
        assert to_hex(ax.title.get_color()) == colour, ax.get_title()
        arrived = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_facecolors())]
        assert any(to_hex(c.get_facecolors()[0]) == colour for c in arrived), f"dots of {t.verdict}"
    stall = fig.axes[list(runs).index("stalled")]
    rings = [c for c in stall.collections if isinstance(c, PathCollection) and len(c.get_edgecolors())
             and not len(c.get_facecolors()) and len(c.get_offsets()) == 1]
    assert rings, "the stalled event is marked"


def test_the_crowd_figure_titles_how_the_crowd_was_served():
    assert set(CROWD_COLOURS) == set(CROWD_VERDICTS)
    runs = crowds()
    fig = sselab.plot_crowd(runs)
    for ax, crowd in zip(fig.axes, runs.values()):
        assert crowd.verdict in ax.get_title()
        assert to_hex(ax.title.get_color()) == CROWD_COLOURS[crowd.verdict]
        assert len(ax.get_yticks()) == len(crowd.timelines) + 1  # each user, and the run alone
    assert [c.verdict for c in runs.values()] == ["one at a time", "side by side"]
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim(), "one time axis"


def test_bystander_requests_are_dots_not_a_line():
    fig = sselab.plot_waits(bystanders(), gap=0.05)
    for line in fig.axes[0].get_lines():
        if len(line.get_xdata()) > 2 or line.get_marker() not in ("None", None, ""):
            assert line.get_linestyle() == "None", "requests joined by a line"


def test_a_source_still_open_is_marked_at_the_edge_not_at_a_time():
    fig = sselab.plot_leaving(leaving())
    renderer = drawn(fig)
    ax = fig.axes[0]
    mark = [t for t in ax.texts if t.get_text() == "still open"]
    assert len(mark) == 1 and mark[0].get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    last_made = 0.05
    points = [x for c in ax.collections if isinstance(c, PathCollection) for x in c.get_offsets()[:, 0]]
    markers = [x for line in ax.get_lines() if line.get_marker() not in ("None", None, "")
               for x in line.get_xdata()]
    assert max(points + markers) <= 0.45 + 1e-9 and last_made in [round(p, 2) for p in points]


def test_draw_timeline_on_a_callers_axes_keeps_its_own_key():
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    sselab.draw_timeline(ax, stalled(), "stalled")
    renderer = drawn(fig)
    legend = ax.get_legend()
    assert legend is not None and "a read (N B: its size)" in [t.get_text() for t in legend.get_texts()]
    box = legend.get_window_extent(renderer)
    dots = [ax.transData.transform(xy) for c in ax.collections if isinstance(c, PathCollection)
            for xy in c.get_offsets()]
    assert not any(box.contains(x, y) for x, y in dots), "the key covers the data"


def test_an_empty_run_still_draws():
    # sselab.watch shows an empty timeline while it waits for the first byte
    empty = Timeline("http://x", 200, "text/event-stream", [], [])
    fig = sselab.plot_timeline(empty, "waiting...")
    drawn(fig)
    assert fig.axes[0].get_title().startswith("waiting...")
    assert all(isinstance(line, Line2D) for line in fig.axes[0].get_lines())
