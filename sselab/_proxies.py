"""Caddy, HAProxy, Apache, lighttpd and Varnish as reverse proxies, and Squid as a forward proxy.

Defined in notebooks/06_other_proxies.ipynb. Each is the real program from the system's
packages, started like :class:`sselab.NginxProxy` (``sselab/_tied.py`` renders its config into
a temp dir, reserves a port on 127.0.0.1, ties it to the kernel and stops it).

Every proxy takes the same four knobs, so one notebook can turn the same knob on each:

- ``stream=True``: the setting its documentation gives for streamed responses (Caddy
  ``flush_interval -1``, HAProxy ``option http-no-delay``, Apache ``flushpackets=on``,
  lighttpd ``server.stream-response-body = 2``, Varnish ``beresp.do_stream = true``);
- ``gzip=True``: its compressor, for ``text/event-stream`` and ``text/plain``;
- ``cache=True`` / ``False``: its cache, on (HAProxy, Apache) or off (Varnish and Squid
  cache by default);
- ``idle_timeout=1``: seconds it waits for the next byte from the app before giving up.

``None`` (the default) writes nothing, so the program's own default applies; a knob a
program does not have (Caddy and lighttpd have no cache, Squid has no compressor) raises
:class:`ProxyError` and ``supports`` says which it has. ``.config`` is the rendered file.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from ._tied import TiedProgram, TiedProgramError

KNOBS = ("stream", "gzip", "cache", "idle_timeout")
COMPRESSED_TYPES = ("text/event-stream", "text/plain")


class ProxyError(TiedProgramError):
    """A proxy is missing, refused its config, did not start, or lacks a knob; one paragraph."""


def _find(*candidates: str) -> str | None:
    for name in candidates:
        found = shutil.which(name) or next(
            (f"{d}/{name}" for d in ("/usr/sbin", "/usr/local/sbin") if Path(f"{d}/{name}").is_file()), None)
        if found:
            return found
    return None


class LabProxy(TiedProgram):
    """One real proxy in front of ``upstream`` (a URL or a lab server), with the four knobs."""

    program = "proxy"
    package = ""
    """The Debian package that provides it (scripts/system-packages)."""
    binaries: tuple[str, ...] = ()
    supports: tuple[str, ...] = KNOBS
    forward = False
    recommended: dict = {}
    idle_seconds = 1
    """The idle timeout notebook 06 sets (the shortest this program's timer keeps)."""
    quiet_gap = 1.5
    """Seconds of silence that surely outlast ``idle_seconds`` on this program's timer."""
    """The knobs of the configuration notebook 06 recommends (measured there before it is printed)."""
    """True for a forward proxy: the client is configured to use it (``aprobe(..., proxy=url)``)."""
    error = ProxyError

    def __init__(self, upstream=None, *, name: str | None = None, stream: bool | None = None,
                 gzip: bool | None = None, cache: bool | None = None,
                 idle_timeout: float | None = None) -> None:
        self.upstream = upstream.url if hasattr(upstream, "url") else (str(upstream).rstrip("/") if upstream else "")
        if not self.forward and not self.upstream:
            raise ProxyError(f"{self.program} is a reverse proxy: give it the URL of the app it fronts.")
        split = urlsplit(self.upstream)
        self.upstream_host, self.upstream_port = split.hostname or "127.0.0.1", split.port or 80
        self.knobs = {k: v for k, v in dict(stream=stream, gzip=gzip, cache=cache,
                                            idle_timeout=idle_timeout).items() if v is not None}
        lacking = [k for k in self.knobs if k not in self.supports]
        if lacking:
            raise ProxyError(f"{self.program} has no {' or '.join(lacking)} setting in the lab "
                             f"({self.lacks(lacking[0])}). It supports: {', '.join(self.supports)}.")
        super().__init__(name or f"{self.program}->{self.upstream} {self.knobs}")

    @property
    def install_hint(self) -> str:
        return (f"Install it and re-run: 'sudo apt-get install {self.package}' (Debian/Ubuntu; "
                f"scripts/setup does this), or your system's package of {self.program}.")

    def lacks(self, knob: str) -> str:
        """Why this program has no such knob, for the error message."""
        return "it has no such feature"

    def find_binary(self) -> str | None:
        return _find(*self.binaries)

    version_flag = "-v"

    def version(self) -> str | None:
        """The installed program's version (``2.6.2``), None when it is not installed."""
        binary = self.find_binary()
        if binary is None:
            return None
        out = subprocess.run([binary, self.version_flag], capture_output=True, text=True, timeout=10)
        match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out.stdout + out.stderr)
        return match.group(1) if match else None

    def knob(self, name: str, on, off=""):
        """``on`` when the knob is set true, ``off`` when set false, "" when left to the default."""
        if name not in self.knobs:
            return ""
        return on if self.knobs[name] else off

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<{type(self).__name__} {where} -> {self.upstream or '(any)'} {self.knobs}>"


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line) + "\n"


class CaddyProxy(LabProxy):
    """Caddy 2's ``reverse_proxy``, from a Caddyfile; admin API, HTTPS and storage off."""

    program, package, binaries = "Caddy", "caddy", ("caddy",)
    version_flag = "version"
    supports = ("stream", "gzip", "idle_timeout")

    def lacks(self, knob):
        return "Caddy's standard build has no HTTP cache; it is a plugin"

    def files(self, port, prefix):
        k = self.knobs
        block = _lines(
            f"\treverse_proxy {self.upstream_host}:{self.upstream_port} {{",
            self.knob("stream", "\t\tflush_interval -1"),
            f"\t\ttransport http {{\n\t\t\tread_timeout {k['idle_timeout']}s\n\t\t}}" if "idle_timeout" in k else "",
            "\t}",
            self.knob("gzip", "\tencode gzip"))
        return {"Caddyfile": (
            "{\n\tadmin off\n\tauto_https off\n}\n"
            f"http://127.0.0.1:{port} {{\n\tbind 127.0.0.1\n{block}}}\n")}

    def command(self, binary, port, prefix):
        return [binary, "run", "--config", str(prefix / "Caddyfile"), "--adapter", "caddyfile"]

    def environment(self, prefix):
        # Caddy keeps state under $XDG_DATA_HOME / $HOME: keep it in the temp dir.
        return {"HOME": str(prefix), "XDG_DATA_HOME": str(prefix / "data"),
                "XDG_CONFIG_HOME": str(prefix / "config")}


class HAProxyProxy(LabProxy):
    """HAProxy in ``mode http``, with the timeouts Debian's /etc/haproxy/haproxy.cfg ships."""

    program, package, binaries = "HAProxy", "haproxy", ("haproxy",)
    recommended = {"stream": True}

    def files(self, port, prefix):
        k = self.knobs
        cache = "cache" in k and k["cache"]
        server_timeout = f"{k['idle_timeout']}s" if "idle_timeout" in k else "50000"
        text = _lines(
            "global",
            "\tlog stderr format raw local0 warning",
            "defaults",
            "\tmode http",
            "\tlog global",
            "\ttimeout connect 5000",
            "\ttimeout client  50000",
            f"\ttimeout server  {server_timeout}",
            "frontend lab",
            f"\tbind 127.0.0.1:{port}",
            self.knob("stream", "\toption http-no-delay"),
            "\tdefault_backend app",
            "backend app",
            self.knob("gzip", "\tcompression algo gzip\n\tcompression type " + " ".join(COMPRESSED_TYPES)),
            "\thttp-request cache-use lab\n\thttp-response cache-store lab" if cache else "",
            f"\tserver app {self.upstream_host}:{self.upstream_port}",
            "cache lab\n\ttotal-max-size 4\n\tmax-age 60" if cache else "")
        return {"haproxy.cfg": text}

    def command(self, binary, port, prefix):
        return [binary, "-db", "-f", str(prefix / "haproxy.cfg")]


APACHE_MODULES = "/usr/lib/apache2/modules"


class ApacheProxy(LabProxy):
    """Apache httpd 2.4's ``mod_proxy_http`` (``ProxyPass``), one process in the foreground."""

    program, package, binaries = "Apache", "apache2", ("apache2", "httpd")

    def files(self, port, prefix):
        k = self.knobs
        modules = ["mpm_event", "authz_core", "proxy", "proxy_http"]
        if k.get("gzip"):
            modules += ["filter", "deflate"]
        if k.get("cache"):
            modules += ["cache", "cache_socache", "socache_shmcb"]
        params = "".join([self.knob("stream", " flushpackets=on"),
                          f" timeout={k['idle_timeout']}" if "idle_timeout" in k else ""])
        text = _lines(
            f'ServerRoot "{prefix}"',
            f"Listen 127.0.0.1:{port}",
            "ServerName 127.0.0.1",
            f"PidFile {prefix}/apache.pid",
            f"DefaultRuntimeDir {prefix}",
            f"ErrorLog {prefix}/error.log",
            "LogLevel warn",
            *(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules),
            self.knob("gzip", "AddOutputFilterByType DEFLATE " + " ".join(COMPRESSED_TYPES)),
            self.knob("cache", "CacheEnable socache /\nCacheSocache shmcb\nCacheDefaultExpire 60"),
            f"ProxyPass / http://{self.upstream_host}:{self.upstream_port}/{params}")
        return {"apache.conf": text}

    def command(self, binary, port, prefix):
        # -X: one process, in the foreground (no forked children to outlive us).
        return [binary, "-X", "-f", str(prefix / "apache.conf")]

    def retry_on(self, log):
        return super().retry_on(log) or "could not bind" in log.lower()


class LighttpdProxy(LabProxy):
    """lighttpd 1.4's ``mod_proxy``, in the foreground."""

    program, package, binaries = "lighttpd", "lighttpd", ("lighttpd",)
    supports = ("stream", "gzip", "idle_timeout")
    recommended = {"stream": True}

    def lacks(self, knob):
        return "lighttpd has no HTTP cache for proxied responses"

    def files(self, port, prefix):
        k = self.knobs
        modules = ["mod_proxy"] + (["mod_deflate"] if k.get("gzip") else [])
        backend = f'"host" => "{self.upstream_host}", "port" => {self.upstream_port}'
        if "idle_timeout" in k:
            backend += f', "read-timeout" => {k["idle_timeout"]}'
        text = _lines(
            f'server.document-root = "{prefix}"',
            'server.bind = "127.0.0.1"',
            f"server.port = {port}",
            f'server.errorlog = "{prefix}/error.log"',
            "server.modules = (" + ", ".join(f'"{m}"' for m in modules) + ")",
            f'proxy.server = ("" => (({backend})))',
            self.knob("stream", "server.stream-response-body = 2"),
            self.knob("gzip", 'deflate.allowed-encodings = ("gzip")\ndeflate.mimetypes = ('
                      + ", ".join(f'"{t}"' for t in COMPRESSED_TYPES) + ")"))
        return {"lighttpd.conf": text}

    def command(self, binary, port, prefix):
        return [binary, "-D", "-f", str(prefix / "lighttpd.conf")]


class VarnishProxy(LabProxy):
    """Varnish Cache with a VCL of our own (its built-in VCL still runs after it)."""

    program, package, binaries = "Varnish", "varnish", ("varnishd",)
    version_flag = "-V"
    attempts = 3
    recommended = {"cache": False}

    def files(self, port, prefix):
        k = self.knobs
        backend = [f'\t.host = "{self.upstream_host}";', f'\t.port = "{self.upstream_port}";']
        if "idle_timeout" in k:
            backend.append(f"\t.between_bytes_timeout = {k['idle_timeout']}s;")
        text = _lines(
            "vcl 4.1;",
            "backend app {", *backend, "}",
            self.knob("cache", "", "sub vcl_recv {\n\treturn (pass);\n}"),
            "sub vcl_backend_response {" if ("stream" in k or "gzip" in k) else "",
            self.knob("stream", "\tset beresp.do_stream = true;"),
            self.knob("gzip", "\tset beresp.do_gzip = true;"),
            "}" if ("stream" in k or "gzip" in k) else "")
        return {"lab.vcl": text}

    def command(self, binary, port, prefix):
        # -F foreground, -n its working dir, -j none: no privilege separation (unprivileged),
        # -T none: no management port, -s malloc: cache in memory. cc_command: the C compiler
        # that turns the VCL into a shared object (its default command, %D), without optimising
        # (-O0 halves the 0.35 s of CPU a start takes; the VCL runs a few calls per request).
        return [binary, "-F", "-n", str(prefix / "work"), "-a", f"127.0.0.1:{port}",
                "-f", str(prefix / "lab.vcl"), "-j", "none", "-T", "none", "-s", "malloc,32m",
                "-p", "cc_command=%D -O0"]

    def retry_on(self, log):
        return super().retry_on(log) or "could not get socket" in log.lower()


class SquidProxy(LabProxy):
    """Squid as the forward proxy a campus or company network puts in front of its users.

    It fronts no app: the client is told to use it (``aprobe(url, proxy=squid.url)``,
    ``python -m sselab probe --proxy``). Memory cache only; no DNS needed for 127.0.0.1.
    """

    program, package, binaries = "Squid", "squid", ("squid",)
    supports = ("idle_timeout",)
    forward = True
    idle_seconds, quiet_gap = 2, 3.5  # its timers tick in whole seconds (squid_curtime)
    # Its clean shutdown waits about 2 s even with shutdown_lifetime 0 (measured); it keeps
    # nothing on disk here (memory cache, logs in the temp dir), so it is killed at once.
    stop_signal = signal.SIGKILL

    def lacks(self, knob):
        return {"cache": ("its defaults already decide (a stream with no Last-Modified or Expires is never "
                          "stored: src/refresh.cc, refreshIsCachable)"),
                "gzip": "Squid passes on what the server sends; it has no compressor",
                "stream": "Squid forwards what it reads as it reads it; it has no such setting"}[knob]

    def files(self, port, prefix):
        k = self.knobs
        text = _lines(
            f"http_port 127.0.0.1:{port}",
            "acl lab src 127.0.0.1/32",
            "http_access allow lab",
            "http_access deny all",
            f"pid_filename {prefix}/squid.pid",
            f"cache_log {prefix}/cache.log",
            f"access_log stdio:{prefix}/access.log",
            "cache_store_log none",
            f"coredump_dir {prefix}",
            "cache_mem 8 MB",
            "visible_hostname sselab-squid",
            "shutdown_lifetime 0 seconds",
            "pinger_enable off",
            "dns_nameservers 127.0.0.1",
            f"read_timeout {k['idle_timeout']} seconds" if "idle_timeout" in k else "",
            "cache_effective_user proxy" if os.geteuid() == 0 else "")
        return {"squid.conf": text}

    def command(self, binary, port, prefix):
        # Squid refuses to run as root: it switches to 'proxy', which must write here.
        if os.geteuid() == 0 and prefix.exists():
            os.chmod(prefix, 0o777)
        # -n: a service name of its own, which names its shared-memory segments (/dev/shm/NAME-*),
        # so two Squids do not collide and stop() can remove what a killed one leaves.
        return [binary, "-N", "-d", "1", "-n", self._service(port), "-f", str(prefix / "squid.conf")]

    @staticmethod
    def _service(port) -> str:
        return f"sselab{port}"

    def stop(self, timeout: float = 5.0) -> None:
        port = self.port
        super().stop(timeout)
        if port is not None:
            for segment in Path("/dev/shm").glob(f"{self._service(port)}-*"):
                segment.unlink(missing_ok=True)


PROXY_CLASSES = {cls.program: cls for cls in
                 (CaddyProxy, HAProxyProxy, ApacheProxy, LighttpdProxy, VarnishProxy, SquidProxy)}
"""Each proxy the lab runs, by the name the notebook and the probe use."""


def installed_proxies() -> dict[str, str | None]:
    """Each proxy's binary, or None when it is not installed."""
    return {name: cls.find_binary(cls.__new__(cls)) for name, cls in PROXY_CLASSES.items()}


def proxy_versions() -> dict[str, str | None]:
    """Each proxy's version, or None when it is not installed."""
    return {name: cls.version(cls.__new__(cls)) for name, cls in PROXY_CLASSES.items()}
