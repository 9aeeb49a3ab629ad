"""The README's findings table is the last generated run (scripts/findings), never typed in."""

from pathlib import Path

from sselab._claims import CLAIMS
from sselab._findings import END, START, readme_block, table, update_readme

ROOT = Path(__file__).resolve().parent.parent


def test_readme_table_is_the_last_generated_findings():
    generated = (ROOT / "assets" / "findings.md").read_text()
    assert readme_block((ROOT / "README.md").read_text()) == generated, "run scripts/findings"


def test_generated_findings_cover_every_claim_with_a_computed_outcome():
    generated = (ROOT / "assets" / "findings.md").read_text()
    for claim in CLAIMS:
        assert claim.text in generated
    assert "(no run)" not in generated, "a claim's home notebook did not judge it"


def test_table_takes_each_claim_from_its_home_notebook():
    records = [{"key": "nginx-default", "notebook": "00", "outcome": "myth", "evidence": "00's run"},
               {"key": "nginx-default", "notebook": "04", "outcome": "right", "evidence": "04's run"}]
    row = next(line for line in table(records).splitlines() if "by default" in line)
    assert "**right**" in row and "04's run" in row


def test_readme_update_replaces_only_the_block():
    text = f"before\n{START}\nold\n{END}\nafter"
    assert update_readme(text, "new\n") == f"before\n{START}\nnew\n{END}\nafter"


def generated_table(name: str) -> str:
    """assets/<name>.md, after checking the README holds it between assets/make_<name>.py's markers."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location(f"make_{name}", ROOT / "assets" / f"make_{name}.py")
    script = module_from_spec(spec)
    spec.loader.exec_module(script)
    generated = (ROOT / "assets" / f"{name}.md").read_text()
    assert readme_block((ROOT / "README.md").read_text(), script.START, script.END) == generated, \
        f"run assets/make_{name}.py"
    return generated


def test_readme_reconnect_table_is_the_last_generated_run():
    generated = generated_table("reconnect")
    resume_rows = [line for line in generated.splitlines() if "| resume |" in line and "answers in memory" not in line]
    assert resume_rows and all("nothing lost or repeated" in line for line in resume_rows), resume_rows


def test_readme_proxies_table_is_the_last_generated_run():
    generated = generated_table("proxies")
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:3]): line
            for line in generated.splitlines() if line.startswith("| ") and "---" not in line}
    assert "batched" in rows["HAProxy", "defaults", "stream"]
    assert "replayed" in rows["Varnish", "defaults", "2nd client"]
    assert "held-until-end" in rows["lighttpd", "defaults", "stream"]
