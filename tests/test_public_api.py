"""The toolkit's public surface is pinned, and importing it changes no global state."""

import subprocess
import sys
import types

import sselab


def test_every_public_name_is_exported_and_every_export_exists():
    # derived, as httpx's tests/test_exported_members.py does: nothing to keep in step by hand
    public = {name for name, value in vars(sselab).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public == set(sselab.__all__), public ^ set(sselab.__all__)
    assert sselab.__all__ == sorted(sselab.__all__, key=str.lower), "keep __all__ sorted: merges stay easy"


def test_importing_sselab_changes_no_global_state():
    check = """
import asyncio, sys, threading, matplotlib
before = matplotlib.rcParams.copy()  # copy() does not resolve the backend (reading it would)
threads, run = threading.active_count(), asyncio.run
import sselab, servers
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
assert "ipywidgets" not in sys.modules, "ipywidgets was imported (only a live panel needs it)"
assert matplotlib.rcParams.copy() == before, "rcParams changed"
assert threading.active_count() == threads, "a thread was started"
assert asyncio.run is run, "asyncio was patched"
print("clean")
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "clean", done.stderr
