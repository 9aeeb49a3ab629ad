"""Every notebook, run top to bottom twice in one fresh kernel, leaving nothing running."""

from pathlib import Path

import pytest

from sselab._runner import run_notebook

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_notebooks_are_found():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_twice_in_one_kernel(path):
    run = run_notebook(path, passes=2)
    assert len(run.seconds) == 2
