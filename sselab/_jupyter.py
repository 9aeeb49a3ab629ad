"""Jupyter's own proxy as a path to measure: a private Jupyter server, and the one we run in.

Defined in notebooks/08_clients.ipynb. On Binder or JupyterHub a learner's browser reaches a
server started in a notebook only through jupyter-server-proxy's ``/proxy/<port>/`` route.

- ``JupyterServer``: a real ``jupyter server`` subprocess on 127.0.0.1 (port chosen by the
  OS) with a fresh random token that is never printed: it travels in the environment
  (``JUPYTER_TOKEN``), not on the command line, and the server's log, which contains it,
  stays in a temp dir that is removed on stop. ``.proxy_url(port)`` is the proxy route;
  ``.auth`` the header that authorises a request. Stop it with ``stop()``, ``with``, or
  ``stop_jupyter_servers()``; one server per ``name`` (a re-run cell replaces it).
- ``current_jupyter_server()``: the Jupyter server this kernel runs under (or None when headless,
  e.g. under nbclient or a plain ``python``), so a notebook can show an IFrame through it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ._child import spawn_tied
from ._registry import JUPYTER_SERVERS

EXTENSIONS = {"jupyter_server_proxy": True, "jupyterlab": False, "jupyter_lsp": False,
              "notebook_shim": False, "jupyter_server_terminals": False, "notebook": False}
"""Server extensions of the private server: only the proxy is needed (and starts in ~1 s)."""



class JupyterError(RuntimeError):
    """The Jupyter server or its proxy extension is missing or did not start; says why."""


def have_server_proxy() -> bool:
    """True when jupyter_server and jupyter-server-proxy are both importable."""
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("jupyter_server", "jupyter_server_proxy"))


class JupyterServer:
    """A private ``jupyter server`` on 127.0.0.1 with jupyter-server-proxy, for measuring."""

    def __init__(self, name: str = "jupyter") -> None:
        self.name = name
        self.port: int | None = None
        self._token: str | None = None
        self._dir: Path | None = None
        self._process: subprocess.Popen | None = None

    available = staticmethod(have_server_proxy)

    @property
    def url(self) -> str:
        if self.port is None:
            raise JupyterError("the Jupyter server is not running; call start() first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict:
        """The header that authorises a request (the token itself is never shown)."""
        return {"Authorization": f"token {self._token}"}

    def proxy_url(self, port: int, path: str = "/") -> str:
        """jupyter-server-proxy's route to a server on this machine's ``port``."""
        return f"{self.url}/proxy/{port}{path}"

    def start(self, timeout: float = 30.0) -> JupyterServer:
        if not have_server_proxy():
            raise JupyterError("jupyter_server and jupyter-server-proxy are needed: "
                               "pip install jupyter-server-proxy. Nothing was started.")
        if self._process is not None:
            return self
        JUPYTER_SERVERS.replace(self.name)  # one per name: a re-run cell replaces, never leaks
        self._token = secrets.token_hex(24)
        self._dir = Path(tempfile.mkdtemp(prefix="sselab-jupyter-"))
        env = {**os.environ, "JUPYTER_TOKEN": self._token,
               "JUPYTER_RUNTIME_DIR": str(self._dir / "runtime"),
               "JUPYTER_CONFIG_DIR": str(self._dir / "config")}  # no user config
        env.pop("JUPYTER_TOKEN_FILE", None)
        (self._dir / "config").mkdir()
        (self._dir / "config" / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": EXTENSIONS}}))  # just the proxy: starts faster
        command = [sys.executable, "-m", "jupyter_server", "--ip=127.0.0.1", "--port=0",
                   "--no-browser", f"--ServerApp.root_dir={self._dir}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers (CI, Binder builds) often run as root
        with open(self._dir / "server.log", "wb") as log:  # dies with us, like sselab's nginx
            self._process = spawn_tied(command, env=env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT, cwd=self._dir)
        JUPYTER_SERVERS.add(self.name, self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise JupyterError(f"the Jupyter server exited at start. Its log:\n{self.log()}")
            if self.port is None:
                self.port = self._port_from_runtime_file()
            elif self._answers():
                return
            time.sleep(0.05)
        raise JupyterError(f"the Jupyter server was not ready within {timeout:g} s. Its log:\n{self.log()}")

    def _port_from_runtime_file(self) -> int | None:
        for info_file in (self._dir / "runtime").glob("jpserver-*.json"):
            try:
                return json.loads(info_file.read_text())["port"]
            except (ValueError, KeyError):
                return None
        return None

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/api/status", headers=self.auth, trust_env=False,
                             timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        """The server's log so far, with the token blanked out."""
        path = self._dir / "server.log" if self._dir else None
        text = path.read_text(errors="replace") if path and path.exists() else ""
        return text.replace(self._token, "<token>") if self._token else text

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL), remove its temp dir. Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = self.port = self._token = None
        JUPYTER_SERVERS.discard(self.name, self)

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<JupyterServer {self.url if self.port else 'stopped'}>"


def running_jupyter_servers() -> list[JupyterServer]:
    return JUPYTER_SERVERS.running()


def stop_jupyter_servers() -> None:
    """Stop every private Jupyter server this process started."""
    JUPYTER_SERVERS.stop_all()



def current_jupyter_server() -> dict | None:
    """The Jupyter server this kernel was started by, as its ``jpserver-*.json`` info
    (``url``, ``base_url``...), or ``{"base_url": ...}`` on JupyterHub; None when headless.

    A kernel started by a Jupyter server has ``JPY_SESSION_NAME`` in its environment
    (jupyter_server's ``SessionManager``) and that server as its parent process; nbclient,
    papermill and plain ``python`` have neither.
    """
    hub_prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if "JPY_SESSION_NAME" not in os.environ and not hub_prefix:
        return None
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return None
    parent = os.getppid()
    for info in list_running_servers():
        if info.get("pid") == parent:
            return info
    return {"base_url": hub_prefix} if hub_prefix else None


def jupyter_proxy_path(port: int, path: str = "/", server: dict | None = None) -> str | None:
    """The path (from the browser's origin) of ``port`` through the current server's proxy."""
    server = server or current_jupyter_server()
    if server is None:
        return None
    base = server.get("base_url") or "/"
    return f"{base.rstrip('/')}/proxy/{port}{path}"
