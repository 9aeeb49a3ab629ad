"""A Binder-like launch, as far as this machine allows.

repo2docker builds an image from requirements.txt, runtime.txt and apt.txt alone and runs
the lab as an unprivileged user, with /usr/sbin off its PATH. This test does the same: a fresh
venv from requirements.txt alone, owned and run by a non-root user, executing every notebook.
It needs root (to create that user); elsewhere it skips, except in CI, where it must run.
Differences from Binder that remain: Debian's Python 3.11 instead of runtime.txt's 3.12,
and apt.txt's packages are the ones scripts/setup installed.
"""

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USER = "sselab-binder"
SYSTEM_PYTHON = "/usr/bin/python3"


def as_user(command: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    env = {"HOME": str(cwd.parent), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups",
                           "bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def binder_home(tmp_path_factory):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the Binder-like test needs root in CI to create an unprivileged user")
        pytest.skip("needs root to create the unprivileged user")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
    home = tmp_path_factory.mktemp("binder")
    repo = home / "repo"
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in listed.stdout.split():
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    subprocess.run(["chown", "-R", f"{USER}:{USER}", str(home)], check=True)
    home.chmod(0o755)
    for parent in home.parents:  # let the user reach its home inside pytest's temp dir
        if str(parent).startswith(str(tmp_path_factory.getbasetemp().parent)):
            parent.chmod(parent.stat().st_mode | 0o011)
    yield repo


@pytest.mark.slow
@pytest.mark.timeout(2000)  # a fresh venv (a few minutes) and the whole series, once
def test_fresh_venv_as_unprivileged_user_runs_every_notebook(binder_home):
    install = as_user(f"{SYSTEM_PYTHON} -m venv venv && venv/bin/pip install -q -r requirements.txt",
                      binder_home, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    notebooks = " ".join(sorted(p.name for p in (binder_home / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    run = as_user(f"cd notebooks && ../venv/bin/python -m sselab._runner {notebooks}", binder_home, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    assert run.stdout.count(".ipynb:") == len(notebooks.split()), run.stdout
    whoami = as_user("venv/bin/python -c 'import os; print(os.geteuid())'", binder_home, timeout=60)
    assert whoami.stdout.strip() != "0"
