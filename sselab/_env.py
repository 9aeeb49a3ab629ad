"""What this lab runs on: the versions its results depend on, and whether nginx is there.

Defined in notebooks/00_quickstart.ipynb; every notebook's first cell prints it, because
several results in the series changed between releases of these libraries.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from ._nginx import nginx_version

PACKAGES = ("fastapi", "starlette", "uvicorn", "h11", "httptools", "uvloop", "httpx",
            "sse-starlette", "httpx-sse", "cozepy", "openai")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str | None]:
    """Python, the key packages (and ``extra`` ones) and nginx, each a version or None when missing."""
    found = {"python": platform.python_version()}
    for name in (*PACKAGES, *extra):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    found["nginx"] = nginx_version()
    return found


def environment_report(extra: tuple[str, ...] = ()) -> str:
    """One line per component (``extra``: more packages a notebook depends on), with fix hints."""
    lines = [f"{name:>14}: {v or 'MISSING'}" for name, v in versions(extra).items()]
    if versions()["nginx"] is None:
        lines.append("nginx is missing: the nginx cells will skip. "
                     "Install it with 'sudo apt-get install nginx-light' or 'brew install nginx'.")
    return "\n".join(lines)
