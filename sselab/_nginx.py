"""Run a real nginx as a reverse proxy in front of a lab server, unprivileged, on 127.0.0.1.

Defined in notebooks/00_quickstart.ipynb; notebooks/04_nginx.ipynb turns every knob.

nginx runs in the foreground as one process (``master_process off``) with its config,
logs and temp files under a fresh temp dir, from the toolkit's template
``sselab/templates/nginx.conf``. A knob left at ``None`` writes no directive, so nginx
uses its own default; the rendered text is in ``.config`` for the reader to see. Starting,
stopping and tying it to the kernel is ``sselab/_tied.py``'s job, shared with every proxy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from ._registry import PROXIES
from ._tied import TiedProgram, TiedProgramError

_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx",
               "/opt/homebrew/bin/nginx", "/opt/conda/bin/nginx")


class NginxError(TiedProgramError):
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


def _on(flag: bool) -> str:
    return "on" if flag else "off"


class NginxProxy(TiedProgram):
    """A real nginx proxying 127.0.0.1:<port> to ``upstream`` (a URL or BackgroundServer).

    Knobs (``None`` = nginx's default, no directive written): ``proxy_buffering`` (bool),
    ``proxy_buffer_size`` / ``proxy_buffers`` (e.g. "4k" / "8 4k"), ``proxy_http_version``
    ("1.0" is nginx's default, "1.1"), ``proxy_cache`` (bool; adds a cache zone),
    ``gzip`` (bool, with ``gzip_types`` and gzip_min_length 0), ``proxy_read_timeout`` /
    ``proxy_send_timeout`` ("5s"), ``headers`` (dict for ``proxy_set_header``, e.g.
    ``{"Connection": ""}``), ``extra`` (raw lines for the location).

    TLS (notebook 07): ``tls`` is a :class:`sselab.LabCertificates`; nginx then listens with
    ``ssl`` and ``url`` is https. ``http2=True`` adds ``http2`` to ``listen`` (nginx 1.22's
    syntax; negotiated by ALPN over TLS). ``ssl_buffer_size`` (nginx default ``16k``) is how
    much nginx collects into one TLS record before sending it.
    """

    program = "nginx"
    install_hint = ("Install it and re-run: 'sudo apt-get install nginx-light' (Debian/Ubuntu), "
                    "'brew install nginx' (macOS) or 'conda install -c conda-forge nginx'; set "
                    "SSELAB_NGINX=/path/to/nginx if it lives somewhere unusual.")
    error = NginxError
    registry = PROXIES

    def __init__(self, upstream, *, name: str | None = None, proxy_buffering: bool | None = None,
                 proxy_buffer_size: str | None = None, proxy_buffers: str | None = None,
                 proxy_http_version: str | None = None, proxy_cache: bool | None = None,
                 gzip: bool | None = None, gzip_types: str = "text/event-stream text/plain",
                 proxy_read_timeout: str | None = None, proxy_send_timeout: str | None = None,
                 headers: dict | None = None, extra: str = "", log_level: str = "warn",
                 tls=None, http2: bool = False, ssl_buffer_size: str | None = None) -> None:
        self.upstream = upstream.url if hasattr(upstream, "url") else str(upstream).rstrip("/")
        self.knobs = {k: v for k, v in dict(
            proxy_buffering=proxy_buffering, proxy_buffer_size=proxy_buffer_size,
            proxy_buffers=proxy_buffers, proxy_http_version=proxy_http_version,
            proxy_cache=proxy_cache, gzip=gzip, proxy_read_timeout=proxy_read_timeout,
            proxy_send_timeout=proxy_send_timeout).items() if v is not None}
        super().__init__(name or f"nginx->{self.upstream} {self.knobs}")
        self._gzip_types, self._headers, self._extra = gzip_types, headers or {}, extra
        self._log_level = log_level
        self.tls, self.http2, self._ssl_buffer_size = tls, http2, ssl_buffer_size

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

    def files(self, port, prefix) -> dict[str, str]:
        template = resources.files("sselab").joinpath("templates/nginx.conf").read_text()
        http = (f"    proxy_cache_path {prefix}/cache keys_zone=lab_cache:1m;\n"
                if self.knobs.get("proxy_cache") else "")
        values = {
            "prefix": str(prefix), "port": str(port), "upstream": self.upstream,
            "log_level": self._log_level, "http_directives": http,
            "listen_options": (" ssl" if self.tls else "") + (" http2" if self.http2 else ""),
            "server_directives": "".join(f"        {line}\n" for line in self._server_directives()),
            "location_directives": "\n".join(f"            {line}" for line in self._location_directives()),
        }
        return {"nginx.conf": re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)}

    def _server_directives(self) -> list[str]:
        if not self.tls:
            return []
        lines = [f"ssl_certificate {self.tls.cert_path};", f"ssl_certificate_key {self.tls.key_path};"]
        if self._ssl_buffer_size:
            lines.append(f"ssl_buffer_size {self._ssl_buffer_size};")
        return lines

    @property
    def url(self) -> str:
        return super().url.replace("http://", "https://", 1) if self.tls else super().url

    def find_binary(self) -> str | None:
        return find_nginx()

    def command(self, binary: str, port: int, prefix: Path) -> list[str]:
        return [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]

    def error_log(self) -> str:
        """What nginx wrote to its error log so far (empty when stopped)."""
        log = (self.prefix / "error.log") if self.prefix else None
        return log.read_text(errors="replace") if log and log.exists() else ""

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<NginxProxy {where} -> {self.upstream} {self.knobs}>"


def running_proxies() -> list[NginxProxy]:
    return PROXIES.running()


def stop_proxies() -> None:
    """Stop every nginx this process started."""
    PROXIES.stop_all()

