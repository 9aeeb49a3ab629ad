"""``scripts/book``: the series as a static site (Jupyter Book 1.x), with every output and figure.

    python -m sselab._book                    # execute every notebook once, then render
    python -m sselab._book --only 00 12       # a cheaper book of those notebooks
    python -m sselab._book --reuse            # keep executed copies newer than their notebook

Four steps, one function each; ``build`` runs them all for ``scripts/book`` and for the book
test at the end of ``tests/test_notebooks.py`` (which hands over the copies its own runs saved):

1. ``execute``: each notebook once in a fresh kernel (``sselab._runner.run_notebook``, which
   sets ``SSELAB_HEADLESS=1``) into ``build/book/executed/``, without the builder's Coze and
   OpenAI variables: a published page shows the local stand-ins, never a real account.
2. ``stage``: ``build/book/src/`` mirrors the repository (``notebooks/`` holds the executed
   copies, translations in ``notebooks/zh/``; ``assets/``, ``docs/`` and ``book/intro.md`` are
   copied), so ``../assets/x.png`` and links between pages work as on GitHub; a link to any other
   repository file points to the repository (``book/_config.yml``'s ``repository``), and section
   anchors are JupyterLab's (``jupyter_anchor``). ``_toc.yml`` is written from what is there:
   the series in order, then ``docs/``, then each language's notebooks and docs.
3. ``render``: ``jupyter-book build`` with ``book/_config.yml`` (execution off) into
   ``build/book/_build/html``.
4. ``check``: every notebook has its page, and the page shows as many figures (``<img>`` in a
   cell's output, the PNG file present) as the executed notebook has ``image/png`` outputs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from ._runner import run_notebook

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "book" / "_config.yml"
SECRET_PREFIXES = ("COZE_", "OPENAI_")
"""Variables the kernel does not get when the book executes a notebook (see step 1)."""
PARTS = {"": "Around the series", "zh": "简体中文"}
"""Captions of the parts after the series, by folder (``docs/``, ``notebooks/zh/`` + ``docs/zh/``)."""
HIDDEN = {"remove-cell", "remove-output"}
"""Cell tags with which Jupyter Book drops a cell's outputs (their figures are not expected)."""


def series(root: Path = ROOT, only: list[str] | None = None) -> list[Path]:
    """The notebooks in series order (``notebooks/NN_*.ipynb``), then their translations
    (``notebooks/<language>/NN_*.ipynb``); only those whose number is in ``only``, if given."""
    paths = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    paths += sorted((root / "notebooks").glob("*/[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not only or p.name[:2] in only]


def execute(notebooks: list[Path], into: Path, *, reuse: bool = False) -> dict[str, Path]:
    """Run each notebook once and save the executed copy in ``into`` (``zh/`` for a translation).

    Returns ``{"00_quickstart": copy, "zh/00_quickstart": copy, ...}``, the pages' names under
    ``notebooks/``. With ``reuse``, a copy already there and newer than its notebook is kept.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_PREFIXES)}
    copies = {}
    for path in notebooks:
        name = path.stem if path.parent.name == "notebooks" else f"{path.parent.name}/{path.stem}"
        copy = copies[name] = into / f"{name}.ipynb"
        if not (reuse and copy.exists() and copy.stat().st_mtime >= path.stat().st_mtime):
            start = time.monotonic()
            run_notebook(path, passes=1, save_to=copy, env=env)
            print(f"book: executed {name} in {time.monotonic() - start:.1f} s", flush=True)
    return copies


def stage(copies: dict[str, Path], src: Path, root: Path = ROOT) -> list[str]:
    """Lay out ``src`` as the repository with the executed copies; write ``_toc.yml``; return its pages."""
    shutil.rmtree(src, ignore_errors=True)
    staged = []
    for name, copy in copies.items():
        nb = nbformat.read(copy, as_version=4)
        # IPython's lexer for the code cells (`!cmd`, `%magic`); nbclient's cell-by-cell run leaves it unset
        nb.metadata.setdefault("language_info", {}).setdefault("pygments_lexer", "ipython3")
        staged.append(src / "notebooks" / f"{name}.ipynb")
        staged[-1].parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, staged[-1])
    (src / "book").mkdir(parents=True)
    shutil.copy2(root / "book" / "intro.md", src / "book" / "intro.md")
    for folder in ("assets", "docs"):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    docs = sorted((src / "docs").rglob("*.md")) if (src / "docs").is_dir() else []
    _relink_pages(staged + docs, src, root)  # after everything is staged: links to the book's pages stay
    return _write_toc(src, [p.relative_to(src).with_suffix("").as_posix() for p in staged + docs])


def _relink_pages(pages: list[Path], src: Path, root: Path) -> None:
    for page in pages:
        if page.suffix == ".md":
            page.write_text(_relink(page.read_text(encoding="utf-8"), page, src, root), encoding="utf-8")
            continue
        nb = nbformat.read(page, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _relink(cell.source, page, src, root)
        nbformat.write(nb, page)


def _write_toc(src: Path, pages: list[str]) -> list[str]:
    """The series first, then one part per folder: ``docs/``, then each language's notebooks and docs.

    A folder's ``README.md`` opens its part.
    """
    import yaml  # comes with jupyter-book

    def folder(page: str) -> str:  # "" for notebooks/NN and docs/x, "zh" for notebooks/zh/NN and docs/zh/x
        return "/".join(page.split("/")[1:-1])

    series = [p for p in pages if p.startswith("notebooks/") and not folder(p)]
    parts = [("The series", series)]
    for name in sorted({folder(p) for p in pages}, key=lambda f: (f != "", f)):
        part = [p for p in pages if folder(p) == name and p not in series]
        parts.append((PARTS.get(name, name), sorted(part, key=lambda p: not p.lower().endswith("/readme"))))
    toc = {"format": "jb-book", "root": "book/intro",
           "parts": [{"caption": c, "chapters": [{"file": p} for p in ps]} for c, ps in parts if ps]}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [p for _, ps in parts for p in ps]


def jupyter_anchor(heading: str) -> str:
    """A heading's anchor as JupyterLab makes it (spaces become ``-``; ``#3.-Does-one-read-carry-one-event?``).

    ``book/_config.yml`` names this as MyST's slug function, so a link to a notebook section
    works the same in JupyterLab and in the book.
    """
    return heading.strip().replace(" ", "-")


LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)|(src)=\"([^\"]+)\"")


def _repository() -> str:
    """``https://github.com/OWNER/sse-lab/blob/HEAD``, from ``book/_config.yml`` (its one place)."""
    import yaml  # comes with jupyter-book

    repository = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["repository"]
    return f"{repository['url'].rstrip('/')}/blob/{repository['branch']}"


def _relink(text: str, page: Path, src: Path, root: Path) -> str:
    """Make a page's relative links work in the site.

    A target in the book stays; an image from elsewhere in the repository is copied in; a link
    to any other repository file (``../servers/x.py``, ``../README.md``) points to the repository.
    """
    def fix(match: re.Match) -> str:
        image = bool(match[1] or match[3])
        target = match[2] or match[4]
        path, _, fragment = target.partition("#")
        if not path or "://" in path or path.startswith(("mailto:", "/")):
            return match[0]
        staged = (page.parent / path).resolve()
        if staged.exists() or not staged.is_relative_to(src.resolve()):
            return match[0]
        relative = staged.relative_to(src.resolve())
        if not (root / relative).exists():
            return match[0]  # a broken link: Sphinx's warning names it
        if image:
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, staged)
            return match[0]
        url = f"{_repository()}/{relative.as_posix()}" + (f"#{fragment}" if fragment else "")
        return match[0].replace(target, url)

    return LINK.sub(fix, text)


def render(src: Path, out: Path, config: Path = CONFIG) -> Path:
    """``jupyter-book build`` (all pages, execution off); return the HTML folder. Raises on a failed build."""
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb if jb.exists() else shutil.which("jupyter-book") or "jupyter-book"), "build", str(src),
               "--config", str(config), "--toc", str(src / "_toc.yml"), "--path-output", str(out), "--all"]
    done = subprocess.run(command, capture_output=True, text=True)
    log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # Sphinx colours its warnings
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    for line in warnings:
        print("book:", line, flush=True)
    if done.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed ({done.returncode}):\n{log[-6000:]}")
    return out / "_build" / "html"


@dataclass
class Page:
    """One notebook's page in the built site, against the executed notebook it came from."""

    name: str
    expected: int
    """``image/png`` outputs of the executed notebook (cells Jupyter Book keeps)."""
    found: int = 0
    """``<img>`` in the page's cell outputs whose PNG file is in the site."""
    missing: list[str] = field(default_factory=list)
    """Problems: no page, or an ``<img>`` whose file is absent or not a PNG."""

    @property
    def ok(self) -> bool:
        return not self.missing and self.found == self.expected


def png_outputs(notebook: Path) -> int:
    """How many figures (``image/png`` outputs) the executed notebook holds, in cells the book shows."""
    nb = nbformat.read(notebook, as_version=4)
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               if not HIDDEN & set(c.metadata.get("tags", [])) for o in c.get("outputs", []))


class _OutputImages(HTMLParser):
    """The ``src`` of every ``<img>`` inside a ``<div class="cell_output ...">`` (myst-nb's markup)."""

    def __init__(self):
        super().__init__()
        self.depth, self.inside, self.sources = 0, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            self.depth += 1
            if "cell_output" in (attrs.get("class") or "").split():
                self.inside.append(self.depth)
        elif tag == "img" and self.inside:
            self.sources.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "div":
            if self.inside and self.inside[-1] == self.depth:
                self.inside.pop()
            self.depth -= 1


def check(html: Path, copies: dict[str, Path]) -> list[Page]:
    """For each executed notebook (``execute``'s names and copies): its page shows every figure it made."""
    pages = []
    for name, copy in copies.items():
        page = Page(name, png_outputs(copy))
        path = html / "notebooks" / f"{name}.html"
        if not path.exists():
            page.missing.append(f"no page {path}")
        else:
            parser = _OutputImages()
            parser.feed(path.read_text(encoding="utf-8"))
            for source in parser.sources:
                image = (path.parent / source).resolve()
                if image.is_file() and image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n":
                    page.found += 1
                else:
                    page.missing.append(f"image {source} is not a PNG in the site")
        pages.append(page)
    return pages


@dataclass
class Book:
    html: Path
    pages: list[Page]
    execute_seconds: float
    render_seconds: float


def build(out: Path = ROOT / "build" / "book", *, only: list[str] | None = None,
          executed: Path | None = None, reuse: bool = False, root: Path = ROOT) -> Book:
    """Execute (what ``executed`` lacks), stage, render and check the book; see the module docstring."""
    start = time.monotonic()
    copies = execute(series(root, only), executed or out / "executed", reuse=reuse or executed is not None)
    middle = time.monotonic()
    stage(copies, out / "src", root)
    html = render(out / "src", out)
    return Book(html, check(html, copies), middle - start, time.monotonic() - middle)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sselab._book", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NN", help="only these notebooks (numbers)")
    parser.add_argument("--reuse", action="store_true", help="keep executed copies newer than their notebook")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    args = parser.parse_args(argv)
    book = build(args.out, only=args.only, reuse=args.reuse)
    for page in book.pages:
        print(f"book: {page.name:<24} {page.found}/{page.expected} figures" + "".join(f"; {m}" for m in page.missing))
    print(f"book: executed in {book.execute_seconds:.1f} s, rendered in {book.render_seconds:.1f} s")
    print(f"book: {book.html / 'index.html'}")
    return 0 if all(page.ok for page in book.pages) else 1


if __name__ == "__main__":
    raise SystemExit(main())
