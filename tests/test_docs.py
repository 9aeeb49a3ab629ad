"""The pages around the notebooks: every link lands, and the Chinese pages keep in step with the English.

- docs/glossary.md, docs/checklist.md, docs/zh/checklist.md (and docs/zh/README.md): each link to
  a notebook section names a notebook that exists and a heading it has, by JupyterLab's anchor (the
  heading's text with spaces turned into '-', as JupyterLab's ``createHeaderId`` and nbconvert's
  ``add_anchor`` make it). A renamed heading breaks the link, and the failure lists the notebook's
  headings.
- notebooks/zh/00_quickstart.ipynb: the same cells as the English quickstart, code cells identical
  (so the English notebook's run covers both), the same headings per markdown cell, the same links
  and the same inline code in each markdown cell. Its solution file runs the same code.
- docs/zh/checklist.md: the same sections and items, with the same links in the same order.
- The quickstart exercise's answer (notebooks/solutions/00_quickstart.py) holds on this machine.
"""

import difflib
import re
import resource
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

import sselab
from servers import ticker

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "glossary.md", ROOT / "docs" / "checklist.md", ROOT / "docs" / "zh" / "checklist.md"]
PAGES = [*DOCS, ROOT / "docs" / "zh" / "README.md"]
QUICKSTART = ROOT / "notebooks" / "00_quickstart.ipynb"
QUICKSTART_ZH = ROOT / "notebooks" / "zh" / "00_quickstart.ipynb"
OWN_NOTEBOOKS = [QUICKSTART, QUICKSTART_ZH, ROOT / "notebooks" / "08_clients.ipynb"]

LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`([^`]+)`")


# -- reading markdown ------------------------------------------------------------------------------
def prose(markdown: str) -> str:
    """The markdown without fenced code blocks, where '#' lines and brackets are code."""
    return FENCE.sub("", markdown)


def heading_text(heading: str) -> str:
    """What a browser shows of a heading: code spans, links and emphasis reduced to their text."""
    text = CODE_SPAN.sub(r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"\*\*|__|\*", "", text).strip()


def jupyter_anchor(heading: str) -> str:
    return heading_text(heading).replace(" ", "-")


def headings(markdown: str) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2)) for m in HEADING.finditer(prose(markdown))]


def links(markdown: str) -> list[tuple[int, str]]:
    """Every inline link target, with its line number (fenced code is blanked, lines keep their numbers)."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)
    text = CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), text)
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in LINK.finditer(text)]


def markdown_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def notebook_anchors(path: Path) -> dict[str, str]:
    """JupyterLab's anchor of every heading in a notebook -> the heading as written."""
    return {jupyter_anchor(h): h for cell in markdown_cells(path) for _, h in headings(cell)}


# -- checking one link -----------------------------------------------------------------------------
def is_external(target: str) -> bool:
    return re.match(r"[a-z][a-z0-9+.-]*:", target) is not None


def broken(source: Path, target: str) -> str | None:
    """Why a relative link from ``source`` does not land, or None when it does."""
    path, _, fragment = target.partition("#")
    dest = (source.parent / unquote(path)).resolve() if path else source
    if not dest.exists():
        return f"no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}"
    if not fragment or dest.suffix != ".ipynb":
        return None
    anchors = notebook_anchors(dest)
    wanted = unquote(fragment)
    if wanted in anchors:
        return None
    close = difflib.get_close_matches(wanted, anchors, n=1, cutoff=0.5)
    hint = f"; closest: #{close[0]} ({anchors[close[0]]!r})" if close else ""
    listed = "\n      ".join(f"#{a}" for a in anchors)
    return (f"{dest.relative_to(ROOT)} has no heading with the anchor #{wanted}{hint}. "
            f"Its headings' anchors:\n      {listed}")


def report(source: Path, found: list[tuple[int, str]]) -> list[str]:
    problems = []
    for line, target in found:
        if not is_external(target) and (why := broken(source, target)):
            problems.append(f"{source.relative_to(ROOT)}:{line}: ({target})\n    {why}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_of_the_page_lands_on_a_file_and_a_heading(page):
    problems = report(page, links(page.read_text()))
    assert not problems, "\n".join(["links that do not land (a heading renamed or moved?):", *problems])


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_page_links_to_notebook_sections(page):
    sections = [t for _, t in links(page.read_text()) if ".ipynb#" in t]
    assert len(sections) >= 20, f"{page.name}: only {len(sections)} links to notebook sections"


@pytest.mark.parametrize("path", OWN_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_these_notebooks_lands(path):
    problems = [p for cell in markdown_cells(path) for p in report(path, links(cell))]
    assert not problems, "\n".join(problems)


def test_the_link_checker_catches_a_renamed_heading():
    page = ROOT / "docs" / "checklist.md"
    assert broken(page, "../notebooks/00_quickstart.ipynb#2.-The-same-stream-through-nginx") is None
    assert "closest: #2.-The-same-stream-through-nginx" in broken(
        page, "../notebooks/00_quickstart.ipynb#2.-The-stream-through-nginx")
    assert broken(page, "../notebooks/99_missing.ipynb#Summary").startswith("no file")
    assert jupyter_anchor("3. Do `proxy_buffering off` and `X-Accel-Buffering: no` fix it?") == \
        "3.-Do-proxy_buffering-off-and-X-Accel-Buffering:-no-fix-it?"
    assert links('[06 §3](x.ipynb#3.-Apache-httpd-(mod_proxy_http) "Apache") `[not](a.md)`') == \
        [(1, "x.ipynb#3.-Apache-httpd-(mod_proxy_http)")]


# -- every entry and item has its evidence ----------------------------------------------------------
def glossary_entries() -> list[str]:
    return [p for p in (ROOT / "docs" / "glossary.md").read_text().split("\n\n") if p.startswith("**")]


def test_every_glossary_entry_links_to_where_the_series_measures_it():
    entries = glossary_entries()
    assert len(entries) >= 20
    unlinked = [e.split("\n")[0] for e in entries if ".ipynb#" not in e]
    assert not unlinked, unlinked


def checklist_items(page: Path) -> list[tuple[str, list[str]]]:
    """(section heading, the links of each item) in order: the items are '- [ ]' lines and their continuations."""
    items, section = [], None
    for block in re.split(r"\n(?=- \[ \]|## )", page.read_text()):
        if block.startswith("## "):
            section = block.splitlines()[0]
        elif block.startswith("- [ ]"):
            items.append((section, [t for _, t in links(block)]))
    return items


def test_every_checklist_item_links_to_a_notebook_section():
    items = checklist_items(ROOT / "docs" / "checklist.md")
    assert len(items) >= 30
    assert not [i for i, (_, found) in enumerate(items) if not any(".ipynb#" in t for t in found)]


# -- the Chinese pages ------------------------------------------------------------------------------
def repo_target(source: Path, target: str) -> str:
    """A link target as a repository path, with a page's translation counted as the page itself."""
    if is_external(target):
        return target
    path, _, fragment = target.partition("#")
    dest = (source.parent / unquote(path)).resolve().relative_to(ROOT).as_posix() if path else "(this page)"
    return dest.replace("/zh/", "/") + (f"#{unquote(fragment)}" if fragment else "")


def test_the_chinese_checklist_has_the_same_items_and_links_in_the_same_order():
    en, zh = (ROOT / "docs" / "checklist.md"), (ROOT / "docs" / "zh" / "checklist.md")
    en_items, zh_items = checklist_items(en), checklist_items(zh)
    assert len(zh_items) == len(en_items), (len(zh_items), len(en_items))
    sections = lambda items: [s for s, _ in items]  # noqa: E731
    assert len(set(sections(zh_items))) == len(set(sections(en_items)))
    for n, ((en_section, en_links), (_, zh_links)) in enumerate(zip(en_items, zh_items), 1):
        assert [repo_target(zh, t) for t in zh_links] == [repo_target(en, t) for t in en_links], \
            f"item {n} ({en_section}): the links differ"
    assert [repo_target(zh, t) for _, t in links(zh.read_text())] == \
        [repo_target(en, t) for _, t in links(en.read_text())]


def cells(path):
    return nbformat.read(path, as_version=4).cells


def test_the_chinese_quickstart_runs_the_english_code():
    en, zh = cells(QUICKSTART), cells(QUICKSTART_ZH)
    assert [c.cell_type for c in zh] == [c.cell_type for c in en]
    for n, (a, b) in enumerate(zip(en, zh)):
        if a.cell_type == "code":
            assert b.source == a.source, f"code cell {n} differs from the English quickstart's"


def test_the_chinese_quickstart_has_the_same_headings_links_and_code_per_markdown_cell():
    en, zh = markdown_cells(QUICKSTART), markdown_cells(QUICKSTART_ZH)
    assert len(zh) == len(en)
    for n, (a, b) in enumerate(zip(en, zh)):
        where = f"markdown cell {n} ({a.strip().splitlines()[0][:60]!r})"
        assert [level for level, _ in headings(b)] == [level for level, _ in headings(a)], f"{where}: headings"
        assert [repo_target(QUICKSTART_ZH, t) for _, t in links(b)] == \
            [repo_target(QUICKSTART, t) for _, t in links(a)], f"{where}: links"
        assert Counter(CODE_SPAN.findall(prose(b))) == Counter(CODE_SPAN.findall(prose(a))), f"{where}: inline code"
    assert re.match(r"# 00 · ", zh[0])


def test_the_chinese_quickstart_is_committed_clean_and_its_solution_is_the_same_code():
    for cell in cells(QUICKSTART_ZH):
        assert not cell.get("outputs") and not cell.get("execution_count")
    code = lambda path: [line for line in path.read_text().splitlines() if line and not line.startswith("#")]  # noqa: E731
    english = ROOT / "notebooks" / "solutions" / "00_quickstart.py"
    assert code(ROOT / "notebooks" / "zh" / "solutions" / "00_quickstart.py") == code(english)


# -- the quickstart's exercise answer ---------------------------------------------------------------
def test_the_quickstart_exercise_answer_holds(needs_nginx):
    """2 KB events, close-delimited through nginx's defaults: bursts of about one page, not held to the end."""
    per_page = max(1, resource.getpagesize() // 2054)
    with sselab.BackgroundServer(ticker.app, name="docs-exercise", http="h11") as upstream:
        with sselab.NginxProxy(upstream, name="docs-exercise-nginx") as proxy:
            t = sselab.probe(proxy.url + "/events?n=15&interval=0.08&pad=2000")
    assert t.verdict == "batched", (t.verdict, t.reason)
    sizes = [len(b) for b in t.bursts]
    assert max(sizes) <= per_page + 2 and len(sizes) >= 15 // (per_page + 2), sizes
    source = (ROOT / "notebooks" / "solutions" / "00_quickstart.py").read_text()
    assert '"batched"' in source and "/events?n=15&interval=0.08&pad=2000" in source
