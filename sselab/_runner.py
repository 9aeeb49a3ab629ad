"""Execute a notebook headless, top to bottom, optionally several times in one kernel.

Used by the tests (every notebook, twice in one kernel: a re-run must not fail or leak) and
by ``benchmarks/series_runtime.py``. nbmake runs a notebook once per kernel; the re-run in
the same kernel is the case a learner hits, so this is built on nbclient directly.
Cells tagged ``skip-execution`` (the real-Coze-bot cells) are skipped, as nbclient does.
``save_to`` keeps the executed notebook of the last pass, which the book (``sselab._book``) renders.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

LEAK_CHECK = """
import threading as _t, sselab as _s, psutil as _p
_leaks = {
    "servers": [repr(s) for s in _s.running_servers()],
    "proxies": [repr(p) for p in _s.running_proxies()],
    # one idle launcher thread may live as long as the kernel (see sselab/_child.py)
    "threads": [t.name for t in _t.enumerate() if t.name.startswith("sselab")
                and not t.name.startswith("sselab-launcher")],
    "launchers": [t.name for t in _t.enumerate() if t.name.startswith("sselab-launcher")][1:],
    "children": [" ".join(c.cmdline()[:2]) for c in _p.Process().children(recursive=True)
                 if c.is_running() and c.status() != _p.STATUS_ZOMBIE],
}
print(_leaks)
assert not any(_leaks.values()), f"left running after the notebook: {_leaks}"
"""


@dataclass
class NotebookRun:
    path: Path
    seconds: list[float] = field(default_factory=list)
    outputs_text: str = ""
    findings: list[dict] = field(default_factory=list)
    """What the claim tables of the last pass judged (``sselab.judge_claims``'s JSON output)."""


def run_notebook(path: str | Path, *, passes: int = 2, timeout: int = 300,
                 check_leaks: bool = True, save_to: Path | None = None,
                 env: dict[str, str] | None = None) -> NotebookRun:
    """Run every cell ``passes`` times in one fresh kernel; raise on the first error.

    After the last pass, check that nothing the notebook started is still running.
    Returns the wall time of each pass and all text the outputs contained (for secret scans).
    ``save_to``: write the notebook with the last pass's outputs there (without the leak check).
    ``env``: the kernel's environment (default: ours), always with ``SSELAB_HEADLESS=1``.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if check_leaks:
        nb.cells.append(nbformat.v4.new_code_cell(LEAK_CHECK))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    run = NotebookRun(path)
    texts: list[str] = []
    # The kernel gets our environment plus SSELAB_HEADLESS=1: live plots draw once, at the end.
    with client.setup_kernel(env={**(os.environ if env is None else env), "SSELAB_HEADLESS": "1"}):
        for n in range(passes):
            start = time.monotonic()
            for index, cell in enumerate(nb.cells):
                is_check = check_leaks and index == len(nb.cells) - 1
                if cell.cell_type != "code" or (is_check and n < passes - 1):
                    continue
                client.execute_cell(cell, index)
                texts += _texts(cell)
                if n == passes - 1:
                    run.findings += _findings(cell)
            run.seconds.append(time.monotonic() - start)
    run.outputs_text = "\n".join(texts)
    if save_to is not None:
        _save(nb, Path(save_to), drop_last=check_leaks)
    return run


def _save(nb, path: Path, *, drop_last: bool) -> None:
    """Write the executed notebook, numbered 1, 2, ... as after one run in a fresh kernel."""
    nb = nbformat.from_dict(nb)  # a copy
    if drop_last:
        nb.cells.pop()
    code = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    for number, cell in enumerate(code, 1):
        cell.execution_count = number
        for output in cell.outputs:
            if "execution_count" in output:
                output.execution_count = number
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _texts(cell) -> list[str]:
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", ""))
        for mime, value in o.get("data", {}).items():
            if mime.startswith("text/"):
                out.append(value if isinstance(value, str) else "".join(value))
    return out


def _findings(cell) -> list[dict]:
    import json

    from ._claims import ClaimTable

    return [record for o in cell.get("outputs", []) if ClaimTable.MIME in o.get("data", {})
            for record in json.loads(o["data"][ClaimTable.MIME])]


def main(argv: list[str] | None = None) -> int:
    """``python -m sselab._runner NOTEBOOK... [--passes N]``: run notebooks, print times."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sselab._runner", description=main.__doc__)
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--passes", type=int, default=1)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        run = run_notebook(path, passes=args.passes)
        print(f"{Path(path).name}: " + ", ".join(f"{s:.1f} s" for s in run.seconds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
