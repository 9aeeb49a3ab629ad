"""Every notebook, run top to bottom twice in one fresh kernel, leaving nothing running.

The kernel runs with a canary Coze token and a canary OpenAI key in its environment: no output
may contain them, and no file in the repository may either (tokens never reach outputs, logs
or files).
"""

import secrets
import subprocess
from pathlib import Path

import pytest

from sselab._runner import run_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_series_is_there():
    assert [p.name[:2] for p in NOTEBOOKS][:1] == ["00"], NOTEBOOKS


def repository_files():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_twice_in_one_kernel_and_leaks_no_token(path, monkeypatch):
    canary = "pat_canary_" + secrets.token_hex(16)
    openai_canary = "sk-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("COZE_API_TOKEN", canary)
    monkeypatch.setenv("COZE_BOT_ID", "7000000000000000000")
    monkeypatch.setenv("OPENAI_API_KEY", openai_canary)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: the real cells fail cleanly
    run = run_notebook(path, passes=2)
    assert len(run.seconds) == 2
    for secret in (canary, openai_canary):
        assert secret not in run.outputs_text, "a token reached a notebook output"
        leaked = [f for f in repository_files() if secret.encode() in f.read_bytes()]
        assert not leaked, f"a token reached a file: {leaked}"
