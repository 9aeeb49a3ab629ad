"""Run a real nginx as a reverse proxy in front of a lab server, unprivileged, on 127.0.0.1.

Defined in notebooks/00_quickstart.ipynb; notebooks/04_nginx.ipynb turns every knob.

nginx runs in the foreground as one process (``master_process off``) with its config,
logs and temp files under a fresh temp dir, from the template in
``servers/nginx/proxy.conf.template``. A knob left at ``None`` writes no directive, so nginx
uses its own default; the rendered text is in ``.config`` for the reader to see.

It never outlives us: it starts through ``sselab/_child.py`` (``setpriv --pdeathsig KILL``
from one long-lived thread), so the kernel kills it when the Python process that started it
dies (a killed kernel included); ``atexit`` and the
registry (one proxy per name; a re-run cell replaces the old one) cover the rest.
nginx cannot listen on port 0, so a free port is reserved and the start retried if taken.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

from ._child import spawn_tied
from ._registry import PROXIES

_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx",
               "/opt/homebrew/bin/nginx", "/opt/conda/bin/nginx")


class NginxError(RuntimeError):
    """nginx is missing, refused the config, or did not start; the message says what to do."""


def find_nginx() -> str | None:
    """The nginx binary: $SSELAB_NGINX, then PATH, then the usual sbin places (not on a
    normal user's PATH on Debian). None when there is none."""

    override = os.environ.get("SSELAB_NGINX")
    if override:
        return override if Path(override).is_file() else None
    found = shutil.which("nginx")
    return found or next((c for c in _CANDIDATES if Path(c).is_file()), None)


def nginx_version() -> str | None:
    """``1.22.1`` or None when nginx is missing."""
    binary = find_nginx()
    if binary is None:
        return None
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    match = re.search(r"nginx/(\S+)", out.stderr + out.stdout)
    return match.group(1) if match else None


def _missing() -> NginxError:
    return NginxError(
        "nginx is not installed, so the nginx part of this lab cannot run. Install it and "
        "re-run: 'sudo apt-get install nginx-light' (Debian/Ubuntu), 'brew install nginx' "
        "(macOS) or 'conda install -c conda-forge nginx'; set SSELAB_NGINX=/path/to/nginx if "
        "it lives somewhere unusual. Nothing was started.")


def _on(flag: bool) -> str:
    return "on" if flag else "off"


class NginxProxy:
    """A real nginx proxying 127.0.0.1:<port> to ``upstream`` (a URL or BackgroundServer).

    Knobs (``None`` = nginx's default, no directive written): ``proxy_buffering`` (bool),
    ``proxy_buffer_size`` / ``proxy_buffers`` (e.g. "4k" / "8 4k"), ``proxy_http_version``
    ("1.0" is nginx's default, "1.1"), ``proxy_cache`` (bool; adds a cache zone),
    ``gzip`` (bool, with ``gzip_types`` and gzip_min_length 0), ``proxy_read_timeout`` /
    ``proxy_send_timeout`` ("5s"), ``headers`` (dict for ``proxy_set_header``, e.g.
    ``{"Connection": ""}``), ``extra`` (raw lines for the location).
    """

    def __init__(self, upstream, *, name: str | None = None, proxy_buffering: bool | None = None,
                 proxy_buffer_size: str | None = None, proxy_buffers: str | None = None,
                 proxy_http_version: str | None = None, proxy_cache: bool | None = None,
                 gzip: bool | None = None, gzip_types: str = "text/event-stream text/plain",
                 proxy_read_timeout: str | None = None, proxy_send_timeout: str | None = None,
                 headers: dict | None = None, extra: str = "", log_level: str = "warn") -> None:
        self.upstream = upstream.url if hasattr(upstream, "url") else str(upstream).rstrip("/")
        self.knobs = {k: v for k, v in dict(
            proxy_buffering=proxy_buffering, proxy_buffer_size=proxy_buffer_size,
            proxy_buffers=proxy_buffers, proxy_http_version=proxy_http_version,
            proxy_cache=proxy_cache, gzip=gzip, proxy_read_timeout=proxy_read_timeout,
            proxy_send_timeout=proxy_send_timeout).items() if v is not None}
        self.name = name or f"nginx->{self.upstream} {self.knobs}"
        self._gzip_types, self._headers, self._extra = gzip_types, headers or {}, extra
        self._log_level = log_level
        self.port: int | None = None
        self.prefix: Path | None = None
        self._process: subprocess.Popen | None = None

    # -- configuration -----------------------------------------------------------------
    def _location_directives(self) -> list[str]:
        k, lines = self.knobs, []
        if "proxy_http_version" in k:
            lines.append(f"proxy_http_version {k['proxy_http_version']};")
        for header, value in self._headers.items():
            lines.append(f'proxy_set_header {header} "{value}";')
        if "proxy_buffering" in k:
            lines.append(f"proxy_buffering {_on(k['proxy_buffering'])};")
        for knob in ("proxy_buffer_size", "proxy_buffers", "proxy_read_timeout", "proxy_send_timeout"):
            if knob in k:
                lines.append(f"{knob} {k[knob]};")
        if "proxy_cache" in k:
            lines.append("proxy_cache lab_cache;" if k["proxy_cache"] else "proxy_cache off;")
            if k["proxy_cache"]:
                lines.append("proxy_cache_valid 200 1m;")
        if "gzip" in k:
            lines.append(f"gzip {_on(k['gzip'])};")
            if k["gzip"]:
                lines += [f"gzip_types {self._gzip_types};", "gzip_min_length 0;", "gzip_proxied any;"]
        lines += [line.strip() for line in self._extra.splitlines() if line.strip()]
        return lines

    def render(self, port: int | str = "PORT", prefix: str = "PREFIX") -> str:
        """The nginx.conf this proxy runs with (placeholders filled in)."""
        template = resources.files("servers").joinpath("nginx/proxy.conf.template").read_text()
        http = (f"    proxy_cache_path {prefix}/cache keys_zone=lab_cache:1m;\n"
                if self.knobs.get("proxy_cache") else "")
        values = {
            "prefix": str(prefix), "port": str(port), "upstream": self.upstream,
            "log_level": self._log_level, "http_directives": http,
            "location_directives": "\n".join(f"            {line}" for line in self._location_directives()),
        }
        return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)

    @property
    def config(self) -> str:
        return self.render(self.port or "PORT", self.prefix or "PREFIX")

    @property
    def url(self) -> str:
        if self.port is None:
            raise NginxError(f"nginx {self.name!r} is not running; call start() first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- life cycle -------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> NginxProxy:
        """Start nginx and return once it accepts connections; raise NginxError otherwise."""
        if self.running:
            return self
        binary = find_nginx()
        if binary is None:
            raise _missing()
        PROXIES.replace(self.name)
        for _attempt in range(5):
            if self._try_start(binary, timeout):
                PROXIES.add(self.name, self)
                return self
        raise NginxError(f"nginx could not find a free port on 127.0.0.1 after 5 tries; "
                         f"last error log:\n{self._last_log}")

    def _try_start(self, binary: str, timeout: float) -> bool:
        port = _free_port()
        prefix = Path(tempfile.mkdtemp(prefix="sselab-nginx-"))
        try:
            text = self.render(port, prefix)
        except Exception:
            shutil.rmtree(prefix, ignore_errors=True)
            raise
        self.prefix, self.port = prefix, port
        conf = self.prefix / "nginx.conf"
        conf.write_text(text)
        command = [binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log")]
        self._process = spawn_tied(command, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return self._failed_start()
            if _accepts(self.port):
                return True
            time.sleep(0.01)
        self.stop()
        raise NginxError(f"nginx did not accept connections within {timeout:g} s.")

    def _failed_start(self) -> bool:
        """Read why nginx exited; True means 'retry on another port'."""
        stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
        log = self.prefix / "error.log"
        self._last_log = stderr + (log.read_text(errors="replace") if log.exists() else "")
        self.stop()
        if "Address already in use" in self._last_log:
            return False
        raise NginxError(
            f"nginx refused to start with the generated configuration. Its message: "
            f"{self._last_log.strip()} The configuration was:\n{self.render()}")

    def error_log(self) -> str:
        """What nginx wrote to its error log so far (empty when stopped)."""
        log = (self.prefix / "error.log") if self.prefix else None
        return log.read_text(errors="replace") if log and log.exists() else ""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop nginx (fast shutdown), wait for it and remove its temp dir. Idempotent."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
            if process.stderr:
                process.stderr.close()
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)
        self.prefix = self.port = None
        PROXIES.discard(self.name, self)

    def __enter__(self) -> NginxProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<NginxProxy {where} -> {self.upstream} {self.knobs}>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def running_proxies() -> list[NginxProxy]:
    return PROXIES.running()


def stop_proxies() -> None:
    """Stop every nginx this process started."""
    PROXIES.stop_all()

