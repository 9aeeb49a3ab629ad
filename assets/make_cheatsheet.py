"""assets/cheatsheet.png: one page, cause -> what its timeline looks like -> fix.

Every row is a real run of one of the lab's setups (the mysteries of
notebooks/12_diagnose.ipynb, started by ``sselab.start_mysteries``); the timelines, the
evidence lines, the layer each diagnosis names and its fix come from this run. Run by scripts/figures.
Without nginx only the setups that need none are drawn.
"""

import textwrap
from pathlib import Path

import sselab
from servers.mystery_setups import QUERY, SETUPS

CAUSE = {
    "nginx-unbuffered": "Nothing buffers\n(nginx, proxy_buffering off)",
    "nginx-defaults": "A buffering proxy\n(nginx defaults, h11 upstream)",
    "nginx-small-buffers": "A proxy buffer, released\nwhen full (512-byte buffers)",
    "nginx-gzip": "Compression\n(nginx gzip on)",
    "haproxy-defaults": "A proxy that sends in bursts\n(HAProxy without http-no-delay)",
    "lighttpd-defaults": "A proxy that keeps the body\n(lighttpd defaults)",
    "blocking-middleware": "A blocking generator\nbehind a middleware",
    "held-app": "The app holds its events\n(collects, yields once)",
}


def first_sentence(text: str) -> str:
    """The fix's first sentence: the cheat sheet quotes the diagnosis, it keeps no copy."""
    head, dot, _ = text.partition(". ")
    return head + ("." if dot else "")


def looks_like(t: sselab.Timeline, d: sselab.Diagnosis) -> str:
    ev = d.evidence
    first = f"first byte {ev['first_byte']:.2f} s" if ev["first_byte"] is not None else "no byte"
    shape = [f"{t.verdict}: {ev['events']} events in {ev['reads']} reads, {first}"]
    if ev["steady_read_bytes"]:
        shape.append(f"most reads exactly {ev['steady_read_bytes']} B")
    if ev["median_lag"] is not None:
        shape.append(f"median lag {ev['median_lag'] * 1000:.0f} ms")
    if d.layer == "event-loop":
        shape.append(f"late events released by the next send: {ev['released_by_next_send']}")
    header = ev["headers"].get("content-encoding") or ev["headers"].get("server")
    shape.append(f"header: {'Content-Encoding' if ev['headers'].get('content-encoding') else 'Server'}: {header}")
    return "; ".join(shape)


def main() -> None:
    mysteries = sselab.start_mysteries(SETUPS, "cheatsheet", query=QUERY, seed=0)
    try:  # probed as a browser asks: it accepts gzip, so a compressing proxy compresses
        runs = {mysteries.reveal()[k].key: sselab.probe(url, accept_encoding="gzip")
                for k, url in mysteries.urls.items()}
    finally:
        sselab.stop_all()
    order = [s for s in SETUPS if s.key in runs]
    fig = sselab._plot.LabFigure(figsize=(8.27, 1.75 * len(order) + 0.9), layout="constrained")
    fig.suptitle("Is my stream buffered?  cause -> what its timeline looks like -> fix\n"
                 "(python -m sselab probe URL; every row is a real run, see assets/make_cheatsheet.py)",
                 fontsize=10)
    grid = fig.add_gridspec(len(order), 3, width_ratios=[1.05, 1.5, 1.45])
    for row, setup in enumerate(order):
        t = runs[setup.key]
        d = sselab.diagnose(t)
        left = fig.add_subplot(grid[row, 0])
        left.axis("off")
        left.text(0, 0.95, CAUSE[setup.key], fontsize=9, fontweight="bold", va="top")
        left.text(0, 0.35, f"named layer: {d.layer}" + ("" if d.layer == setup.layer else
                                                          f"\n(expected {setup.layer})"),
                  fontsize=8, va="top", color="#333333")
        ax = fig.add_subplot(grid[row, 1])
        sselab.draw_timeline(ax, t, legend=False)  # one key for the page, below: in a row it covered the dots
        if row < len(order) - 1:
            ax.set_xlabel("")
        if not t.events:
            ax.text(0.5, 0.6, "no event arrived", transform=ax.transAxes,
                    ha="center", va="center", fontsize=8, color="#666666")
        right = fig.add_subplot(grid[row, 2])
        right.axis("off")
        right.text(0, 0.98, textwrap.fill(looks_like(t, d), 52), fontsize=7, va="top", color="#333333")
        right.text(0, 0.42, textwrap.fill("Fix: " + first_sentence(d.fix), 52), fontsize=7.5, va="top")
    sselab._plot.figure_legend(fig, list(runs.values()))
    out = Path(__file__).with_name("cheatsheet.png")
    fig.savefig(out, dpi=110)
    for key, t in runs.items():
        print(f"{key:20} {t.verdict:15} -> {sselab.diagnose(t).layer}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
