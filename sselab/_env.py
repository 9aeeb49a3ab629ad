"""What this lab runs on: the versions its results depend on, and whether nginx is there.

Defined in notebooks/00_quickstart.ipynb; every notebook's first cell prints it, because
several results in the series changed between releases of these libraries.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from ._nginx import nginx_version

PACKAGES = ("fastapi", "starlette", "uvicorn", "h11", "httptools", "uvloop", "httpx",
            "sse-starlette", "httpx-sse", "cozepy")


def versions() -> dict[str, str | None]:
    """Python, the key packages and nginx, each a version string or None when missing."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    found["nginx"] = nginx_version()
    return found


def environment_report() -> str:
    """One line per component, with a fix hint for what is missing."""
    lines = [f"{name:>14}: {v or 'MISSING'}" for name, v in versions().items()]
    if versions()["nginx"] is None:
        lines.append("nginx is missing: the nginx cells will skip. "
                     "Install it with 'sudo apt-get install nginx-light' or 'brew install nginx'.")
    return "\n".join(lines)
