"""Every notebook keeps the series' shape (STYLE.md, Pythia's template), without running it."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(path, kind):
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == kind]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opening_objectives_prerequisites_and_time(path):
    opening = "\n".join(cells(path, "markdown")[:2])
    assert re.match(rf"# {path.name[:2]} · ", opening), "title: '# NN · ...'"
    assert "You will learn" in opening
    assert "| Concepts | Importance | Notes |" in opening
    assert re.search(r"Time to learn\**:?\**:? *\d+ minutes", opening), "a time estimate"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_a_summary_and_stops_everything(path):
    markdown, code = cells(path, "markdown"), cells(path, "code")
    assert any(re.search(r"^## Summary", m, re.M) for m in markdown[-3:]), "a closing summary"
    assert any("sselab.stop_all()" in c for c in code), "a clean-up cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_an_exercise_with_a_hidden_solution_that_compiles(path):
    loads = [m.group(1) for c in cells(path, "code") for m in re.finditer(r"^# %load (\S+)$", c, re.M)]
    assert loads, "an exercise cell: '# %load solutions/NN_name.py'"
    for load in loads:
        solution = path.parent / load
        assert solution.is_file(), f"{load} is missing"
        compile(solution.read_text(), str(solution), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs committed"
    assert not any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    assert "sys.path" not in "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "0.0.0.0" not in path.read_text()
