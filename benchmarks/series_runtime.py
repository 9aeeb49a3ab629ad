"""Run every notebook of the series headless, once, in a fresh kernel each; print the times.

    python benchmarks/series_runtime.py            # every notebook
    python benchmarks/series_runtime.py 00 03      # only those numbers

A benchmark, not a test: it prints figures. The tests run each notebook twice in one kernel.
"""

import sys
import time
from pathlib import Path

from sselab._runner import run_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def main(prefixes: list[str]) -> None:
    paths = [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
             if not prefixes or p.name[:2] in prefixes]
    total_start, rows = time.monotonic(), []
    for path in paths:
        start = time.monotonic()
        run = run_notebook(path, passes=1)
        rows.append((path.name, run.seconds[0], time.monotonic() - start))
        print(f"{path.name:<40} cells {run.seconds[0]:6.1f} s   with kernel start {rows[-1][2]:6.1f} s",
              flush=True)
    print(f"{'total':<40} {'':12}{time.monotonic() - total_start:6.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
