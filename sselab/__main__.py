"""``python -m sselab probe URL``: is this stream buffered, and where? For any SSE endpoint.

Exit status: 0 when the stream was measured and judged; 1 when it was measured but no two
events arrived to judge by (the report says what did arrive); 2, with one paragraph on
stderr, when it could not be measured (bad option, refused connection, HTTP error, not an
event stream, no response headers in time).
"""

from __future__ import annotations

import argparse
import json
import sys

from ._diagnose import compare_sentence, diagnose
from ._encodings import decodable
from ._probe import ProbeError, probe
from ._report import text_report

EPILOG = """\
examples:
  python -m sselab probe 'http://127.0.0.1:8000/clock?n=20&interval=0.25'
  python -m sselab probe https://my.site/clock --compare http://10.0.0.5:8000/clock
  python -m sselab probe --http2 --cacert ca.pem 'https://127.0.0.1:8443/events?n=20'
  python -m sselab probe --proxy http://127.0.0.1:3128 --compressed http://example.test/clock
  python -m sselab probe --accept-encoding br https://my.site/clock
  python -m sselab probe https://my.site/v1/chat -X POST -d '{"stream": true}' \\
      -H "Authorization: Bearer $TOKEN" --max-seconds 20 --plot chat.png

The report gives the verdict (real-time, stalled, lagging, batched, held-until-end, cut),
the evidence (when the headers and the first byte came, cadence, burst sizes in bytes, lag,
protocol and framing) and the likely layer with a fix.
Your own events carry no send stamps, so lag cannot be measured on them: deploy
servers/clock.py (one file, FastAPI only) behind the same proxy and probe that.

exit status: 0 judged; 1 measured but fewer than 2 events to judge; 2 could not measure.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one paragraph (and exit 2) like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {message}. Run 'python -m sselab probe --help' for every option.\n")


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sselab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = commands.add_parser(
        "probe", help="stream a URL, judge it, and name the likely buffering layer",
        description="Stream URL, time every read and every SSE event, judge the stream\n"
                    "(real-time, stalled, lagging, batched, held-until-end, cut) and name the layer\n"
                    "that most likely delays it, with a fix.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="the SSE endpoint, e.g. http://127.0.0.1:8000/events")
    p.add_argument("--compare", metavar="URL2",
                   help="also probe URL2 with the same options (e.g. the upstream directly, URL "
                        "through the proxy) and report both side by side, one after the other")
    p.add_argument("--header", "-H", action="append", type=_header, default=[], metavar="'K: V'",
                   help="a request header, e.g. -H 'Authorization: Bearer ...' (repeatable)")
    p.add_argument("--method", "-X", help="HTTP method (default GET, or POST when --data is given)")
    p.add_argument("--data", "-d", metavar="BODY",
                   help="request body, e.g. a JSON string; implies POST and, unless a header says "
                        "otherwise, Content-Type: application/json")
    p.add_argument("--max-events", type=_positive(int), metavar="N", help="stop after N events")
    p.add_argument("--max-seconds", type=_positive(float), default=30.0, metavar="S",
                   help="stop after S seconds in all, for endless streams (default 30)")
    p.add_argument("--compressed", action="store_true",
                   help="ask for a compressed body, as browsers do (every encoding this Python can "
                        "decode: gzip, deflate, and br/zstd when brotli/zstandard are installed) and "
                        "decode it before parsing; without it the probe asks for Accept-Encoding: identity")
    p.add_argument("--accept-encoding", metavar="ENCODING", choices=("gzip", "deflate", "br", "zstd"),
                   help="ask for exactly this encoding (gzip, deflate, br or zstd) and decode it")
    p.add_argument("--proxy", metavar="URL",
                   help="send the request through this forward proxy (e.g. http://127.0.0.1:3128); "
                        "HTTP_PROXY and friends in the environment are always ignored")
    p.add_argument("--http2", action="store_true",
                   help="offer HTTP/2 (negotiated by TLS ALPN on https:// URLs); the report says "
                        "which protocol was used")
    p.add_argument("--cacert", metavar="FILE", help="trust the CA certificate in FILE (PEM) for https://")
    p.add_argument("--insecure", action="store_true",
                   help="do not check the server's TLS certificate (a lab only)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (the timeline, plus 'diagnosis'; with --compare, "
                        "the second run under 'compare' and a 'comparison' sentence)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also save the timeline figure (both runs with --compare) to FILE.png")
    return parser


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _accept_encoding(args) -> str:
    if args.accept_encoding:
        if args.accept_encoding not in decodable():
            raise ProbeError(f"this Python cannot decode {args.accept_encoding}, so asking for it would "
                             f"measure nothing (install 'brotli' for br, 'zstandard' for zstd).")
        return args.accept_encoding
    return ", ".join(decodable()) if args.compressed else "identity"


def _run(url: str, args, headers: dict):
    verify = False if args.insecure else (args.cacert or True)
    return probe(url, method=args.method, headers=headers, data=args.data,
                 max_events=args.max_events, max_seconds=args.max_seconds,
                 accept_encoding=_accept_encoding(args), proxy=args.proxy,
                 http2=args.http2, verify=verify)


def _plot(path: str, runs: dict) -> None:
    from ._plot import plot_runs, plot_timeline

    if len(runs) > 1:
        figure = plot_runs(runs, ncols=len(runs))
    else:
        (title, timeline), = runs.items()
        figure = plot_timeline(timeline, title)
    figure.savefig(path, dpi=110)


def _record(timeline) -> dict:
    return {**timeline.to_dict(), "diagnosis": diagnose(timeline).to_dict()}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    headers = dict(args.header)
    if args.data is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    args.method = (args.method or ("POST" if args.data is not None else "GET")).upper()
    if args.plot and not args.plot.lower().endswith((".png", ".svg", ".pdf")):
        return _fail(f"--plot needs a file name ending in .png (or .svg, .pdf), got {args.plot!r}.")
    runs = {}
    try:
        for url in filter(None, (args.url, args.compare)):
            runs[url if url not in runs else url + " (again)"] = _run(url, args, headers)
    except ProbeError as exc:
        return _fail(str(exc))
    if args.plot:
        try:
            _plot(args.plot, runs)
        except OSError as exc:
            return _fail(f"could not write the figure to {args.plot!r} ({exc.strerror or exc}). "
                         f"Check that the folder exists and is writable; the measurement itself worked.")
    timelines = list(runs.values())
    if args.json:
        out = _record(timelines[0])
        if len(timelines) > 1:
            out["compare"] = _record(timelines[1])
            out["comparison"] = _comparison(runs)
        print(json.dumps(out, indent=1))
    else:
        print("\n\n".join(text_report(t) for t in timelines))
        if len(timelines) > 1:
            print("\n" + _comparison(runs))
    judged = all(len(t.events) >= 2 for t in timelines)
    if not judged:
        print("note: fewer than 2 events arrived, so the stream could not be judged; the report "
              "above says what did arrive.", file=sys.stderr)
    return 0 if judged else 1


def _comparison(runs: dict) -> str:
    (a, ta), (b, tb) = runs.items()
    return "comparison: " + compare_sentence(a, diagnose(ta), b, diagnose(tb))


if __name__ == "__main__":
    sys.exit(main())
