"""Run every notebook of the series headless, once, in a fresh kernel each; print the times.

    python benchmarks/series_runtime.py                        # every notebook
    python benchmarks/series_runtime.py 00 03                  # only those numbers
    python benchmarks/series_runtime.py --save build/executed  # and keep each run's outputs there

A benchmark, not a test: it prints figures. The tests run each notebook twice in one kernel.
``--save`` writes each notebook with its outputs, so one run gives both the times and the
figures to look at.
"""

import argparse
import os
import time
from pathlib import Path

from sselab._runner import run_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="notebook numbers, e.g. 00 03 (default: all)")
    parser.add_argument("--save", type=Path, help="a folder for the executed notebooks")
    args = parser.parse_args(argv)
    paths = [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
             if not args.prefixes or p.name[:2] in args.prefixes]
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    total_start, rows = time.monotonic(), []
    for path in paths:
        start = time.monotonic()
        run = run_notebook(path, passes=1, save_to=args.save / path.name if args.save else None)
        rows.append((path.name, run.seconds[0], time.monotonic() - start))
        print(f"{path.name:<40} cells {run.seconds[0]:6.1f} s   with kernel start {rows[-1][2]:6.1f} s",
              flush=True)
    print(f"{'total':<40} {'':12}{time.monotonic() - total_start:6.1f} s")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
