"""Every notebook, run top to bottom twice in one fresh kernel, leaving nothing running.

The kernel runs with a canary Coze token and a canary OpenAI key in its environment: no output
may contain them, and no file in the repository may either (tokens never reach outputs, logs
or files). Each run saves its last pass; the book test at the end of this file (pytest runs a
module's tests in file order) renders those copies with ``sselab._book`` and finds every
notebook's figures in the site.
"""

import base64
import importlib.util
import os
import re
import secrets
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from sselab import _book
from sselab._runner import run_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_series_is_there():
    assert [p.name[:2] for p in NOTEBOOKS][:1] == ["00"], NOTEBOOKS


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """Where the notebook tests leave their executed copies, for the book test."""
    return tmp_path_factory.mktemp("executed")


def repository_files():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_twice_in_one_kernel_and_leaks_no_token(path, monkeypatch, executed):
    canary = "pat_canary_" + secrets.token_hex(16)
    openai_canary = "sk-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("COZE_API_TOKEN", canary)
    monkeypatch.setenv("COZE_BOT_ID", "7000000000000000000")
    monkeypatch.setenv("OPENAI_API_KEY", openai_canary)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: the real cells fail cleanly
    run = run_notebook(path, passes=2, save_to=executed / path.name)
    assert len(run.seconds) == 2
    for secret in (canary, openai_canary):
        assert secret not in run.outputs_text, "a token reached a notebook output"
        leaked = [f for f in repository_files() if secret.encode() in f.read_bytes()]
        assert not leaked, f"a token reached a file: {leaked}"


# --- the book (keep these last: the book test renders what the runs above saved) -------------

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
                       "rkJggg==")  # one pixel


def figure_notebook(path: Path, figures: int) -> Path:
    cell = nbformat.v4.new_code_cell("plot()", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode(),
                                                      "text/plain": "<Figure>"}) for _ in range(figures)])
    hidden = nbformat.v4.new_code_cell("plot()", metadata={"tags": ["remove-output"]}, outputs=cell.outputs)
    nbformat.write(nbformat.v4.new_notebook(cells=[cell, hidden]), path)
    return path


def test_the_book_check_counts_figures_and_fails_on_a_dropped_one(tmp_path):
    copy = figure_notebook(tmp_path / "00_x.ipynb", figures=2)
    assert _book.png_outputs(copy) == 2  # the remove-output cell's figures are not expected
    page = tmp_path / "html" / "notebooks" / "00_x.html"
    (tmp_path / "html" / "_images").mkdir(parents=True)
    (tmp_path / "html" / "_images" / "a.png").write_bytes(PNG)
    page.parent.mkdir()
    output = '<div class="cell_output docutils container"><div><img src="../_images/{}" /></div></div>'
    logo = '<img src="../_static/logo.svg" />'  # outside any cell output: not a figure
    page.write_text(logo + output.format("a.png") + output.format("a.png"))
    copies = {"00_x": copy}
    assert [(p.found, p.expected, p.ok) for p in _book.check(tmp_path / "html", copies)] == [(2, 2, True)]
    page.write_text(logo + output.format("a.png"))
    assert [(p.found, p.ok) for p in _book.check(tmp_path / "html", copies)] == [(1, False)]
    page.write_text(output.format("a.png") + output.format("gone.png"))
    [dropped] = _book.check(tmp_path / "html", copies)
    assert not dropped.ok and "gone.png" in dropped.missing[0]
    page.unlink()
    assert not _book.check(tmp_path / "html", copies)[0].ok


def test_the_table_of_contents_follows_the_notebooks_and_docs_folders(tmp_path):
    root, src = tmp_path / "repo", tmp_path / "src"
    for name in ("notebooks/12_b.ipynb", "notebooks/02_a.ipynb", "notebooks/notes.ipynb", "notebooks/zh/00_a.ipynb"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        figure_notebook(root / name, figures=0)
    pages = {"docs/glossary.md": "# Glossary\n[a](../notebooks/02_a.ipynb#1.-A) [b](../servers/x.py \"x\")\n"
                                 "![c](../servers/static/c.png) [gone](../nowhere.py)",
             "docs/zh/checklist.md": "# 清单", "docs/zh/README.md": "# 中文",
             "book/intro.md": "# Intro", "servers/x.py": "app = None",
             "servers/static/c.png": "not really a PNG"}
    for name, text in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    assert [p.relative_to(root).as_posix() for p in _book.series(root)] == [
        "notebooks/02_a.ipynb", "notebooks/12_b.ipynb", "notebooks/zh/00_a.ipynb"]
    copies = {"02_a": root / "notebooks/02_a.ipynb", "12_b": root / "notebooks/12_b.ipynb",
              "zh/00_a": root / "notebooks/zh/00_a.ipynb"}
    assert _book.stage(copies, src, root) == ["notebooks/02_a", "notebooks/12_b", "docs/glossary",
                                               "docs/zh/README", "notebooks/zh/00_a", "docs/zh/checklist"]
    toc = yaml.safe_load((src / "_toc.yml").read_text(encoding="utf-8"))
    assert [(part["caption"], [c["file"] for c in part["chapters"]]) for part in toc["parts"]] == [
        ("The series", ["notebooks/02_a", "notebooks/12_b"]), ("Around the series", ["docs/glossary"]),
        ("简体中文", ["docs/zh/README", "notebooks/zh/00_a", "docs/zh/checklist"])]
    assert (src / "docs/glossary.md").read_text(encoding="utf-8") == (
        "# Glossary\n[a](../notebooks/02_a.ipynb#1.-A) "
        "[b](https://github.com/OWNER/sse-lab/blob/HEAD/servers/x.py \"x\")\n"
        "![c](../servers/static/c.png) [gone](../nowhere.py)"), "book links stay; repository files link to GitHub"
    assert (src / "servers/static/c.png").is_file(), "an image from elsewhere in the repository is copied in"
    assert _book.jupyter_anchor("3. Does one read carry one event?") == "3.-Does-one-read-carry-one-event?"
    lexer = nbformat.read(src / "notebooks" / "02_a.ipynb", as_version=4).metadata.language_info.pygments_lexer
    assert lexer == "ipython3"


@pytest.mark.notebook
@pytest.mark.timeout(3600)  # when run alone it executes every notebook first (about 7 min on 2 cores)
def test_the_book_has_every_notebook_with_its_figures(executed, tmp_path_factory):
    if importlib.util.find_spec("jupyter_book") is None:
        if os.environ.get("CI"):
            pytest.fail("jupyter-book is missing in CI; requirements.txt should list it")
        pytest.skip("jupyter-book is not installed")
    book = _book.build(tmp_path_factory.mktemp("book"), executed=executed)
    assert [p.name for p in book.pages][:len(NOTEBOOKS)] == [p.stem for p in NOTEBOOKS]
    assert not [p for p in book.pages if not p.ok], [p for p in book.pages if not p.ok]
    assert sum(p.found for p in book.pages) >= len(NOTEBOOKS), "the series draws figures; the book shows none"
    for index, path in enumerate(NOTEBOOKS):
        page = (book.html / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert f"?urlpath=lab/tree/notebooks/{path.name}" in page, "no Binder launch button"
        after = NOTEBOOKS[index + 1].stem if index + 1 < len(NOTEBOOKS) else None
        assert after is None or re.search(f'class="right-next"\\s+href="{after}.html"', page), "no next-page link"
