"""assets/nginx.png: the ticker through nginx, knob by knob (notebooks/04_nginx.ipynb).

Run by scripts/figures; every number in the figure comes from this run.
"""

from pathlib import Path

import sselab
from servers import article_headers, heartbeat

STREAM = "/events?n=10&interval=0.05"
PANELS = [  # title, app, http, path, nginx knobs
    ("nginx defaults, h11 upstream", article_headers.app, "h11", STREAM, {}),
    ("nginx defaults, httptools upstream", article_headers.app, "httptools", STREAM, {}),
    ("proxy_http_version 1.1, h11", article_headers.app, "h11", STREAM, {"proxy_http_version": "1.1"}),
    ("app sends X-Accel-Buffering: no, h11", article_headers.app, "h11", STREAM + "&send=x-accel-buffering", {}),
    ("1 KB events, nginx defaults, h11", article_headers.app, "h11", STREAM + "&pad=1000", {}),
    ("proxy_read_timeout 1s, 1.5 s silence", heartbeat.app, "h11", "/events?n=6&interval=0.05&gap=1.5",
     {"proxy_read_timeout": "1s", "proxy_buffering": False}),
]


def main() -> None:
    runs = {}
    for title, app, http, path, knobs in PANELS:
        with sselab.BackgroundServer(app, http=http) as server, sselab.NginxProxy(server, **knobs) as proxy:
            t = sselab.probe(proxy.url + path)
        if t.ended_by != "eof":
            title += f"\n{len(t.events)} events, then: {t.ended_by}"
        runs[title] = t
    out = Path(__file__).with_name("nginx.png")
    figure = sselab.plot_runs(runs, sharex=False)
    figure.axes[-1].set_xlim(0, 1.6)  # show the silence the timeout ended
    figure.savefig(out, dpi=100)
    print(sselab.verdict_table(runs))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
