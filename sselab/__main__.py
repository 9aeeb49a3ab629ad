"""``python -m sselab probe URL``: measure any SSE endpoint from the shell.

Exit status 0 when the stream was measured, 2 with a one-paragraph message when it could not be.
"""

from __future__ import annotations

import argparse
import json
import sys

from ._probe import ProbeError, probe
from ._report import text_report


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sselab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("probe", help="stream a URL and say whether it arrives in real time",
                            description="Stream URL, time every read and every SSE event, and "
                                        "judge the stream: real-time, lagging, batched, held-until-end.")
    p.add_argument("url", help="the SSE endpoint, e.g. http://127.0.0.1:8000/events")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    p.add_argument("--plot", metavar="FILE.png", help="also save the timeline figure to this file")
    p.add_argument("--header", "-H", action="append", type=_header, default=[], metavar="'K: V'",
                   help="a request header (repeatable)")
    p.add_argument("--method", "-X", default="GET", help="HTTP method (default GET; LLM relays often use POST)")
    p.add_argument("--data", "-d", help="request body, e.g. a JSON string for POST")
    p.add_argument("--max-events", type=int, metavar="N", help="stop after N events")
    p.add_argument("--max-seconds", type=float, default=30.0, metavar="S",
                   help="stop after S seconds, for endless streams (default 30)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    headers = dict(args.header)
    if args.data is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    try:
        timeline = probe(args.url, method=args.method.upper(), headers=headers, data=args.data,
                         max_events=args.max_events, max_seconds=args.max_seconds)
    except ProbeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.plot:
        from ._plot import plot_timeline

        plot_timeline(timeline, args.url).savefig(args.plot, dpi=110)
    print(json.dumps(timeline.to_dict(), indent=1) if args.json else text_report(timeline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
