"""A real helper program (a proxy, a server) run for one notebook, and never longer.

Defined in notebooks/00_quickstart.ipynb (nginx); every proxy and child server in the lab is
a :class:`TiedProgram`. The one mechanism, so that nginx, Caddy, HAProxy and the rest start,
fail and stop the same way:

- its files (config, and anything else it needs) are rendered into a fresh temp dir, which
  is also its working directory; ``.config`` shows the main file with placeholders;
- it listens on 127.0.0.1 only, on a port reserved just before it starts; most of these
  programs cannot listen on port 0 and report the port, so a start that loses the port to
  someone else ("address already in use") is retried on another;
- it starts through ``sselab/_child.py`` (``setpriv --pdeathsig KILL`` from one long-lived
  thread), so the kernel kills it when the Python process that started it dies, a killed
  Jupyter kernel included; ``atexit`` and the registry (one per name: a re-run cell replaces
  the old one) stop it otherwise;
- its output goes to a file in the temp dir (a pipe nobody reads would fill and block it);
  a program that exits at start raises one paragraph with its own message and the config.

A subclass says what it is (``program``, ``find_binary``, ``files``, ``command``) and may
say how to tell it is ready (``ready``, default: it accepts TCP connections on its port).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ._child import spawn_tied
from ._registry import PROXIES, Registry


class TiedProgramError(RuntimeError):
    """The program is missing, refused its config, or did not start; the message says what to do."""


class TiedProgram:
    """One real program with a generated config in a temp dir, on 127.0.0.1, tied to us."""

    program = "program"
    """What it is called in messages (``"nginx"``, ``"Caddy"``)."""
    install_hint = ""
    """How to install it, one sentence, for the 'missing' message."""
    error = TiedProgramError
    registry: Registry = PROXIES
    attempts = 5
    stop_signal = signal.SIGTERM
    death_signal = "KILL"
    """What the kernel sends it when the kernel dies (``setpriv --pdeathsig``)."""
    """How to ask it to stop (gunicorn's SIGTERM waits for its graceful timeout; SIGINT does not)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port: int | None = None
        self.prefix: Path | None = None
        self._process: subprocess.Popen | None = None
        self._last_log = ""

    # -- what a subclass provides -----------------------------------------------------------
    def find_binary(self) -> str | None:
        """The program's path, or None when it is not installed."""
        raise NotImplementedError

    def files(self, port: int | str, prefix: str) -> dict[str, str]:
        """File name (relative to the temp dir) -> text; the first one is the main config."""
        raise NotImplementedError

    def command(self, binary: str, port: int, prefix: Path) -> list[str]:
        raise NotImplementedError

    def environment(self, prefix: Path) -> dict[str, str]:
        """Variables to add to its environment (e.g. a HOME inside the temp dir)."""
        return {}

    def ready(self) -> bool:
        """True once it serves; the default is 'accepts a TCP connection on its port'."""
        return accepts(self.port)

    def retry_on(self, log: str) -> bool:
        """Does this failed start mean 'the port was taken, try another'?"""
        text = log.lower()
        return "address already in use" in text or "address in use" in text

    # -- what every program gets ---------------------------------------------------------------
    def render(self, port: int | str = "PORT", prefix: str = "PREFIX") -> str:
        """The main config file as this program runs with it (placeholders filled in)."""
        return next(iter(self.files(port, str(prefix)).values()))

    @property
    def config(self) -> str:
        return self.render(self.port or "PORT", str(self.prefix or "PREFIX"))

    @property
    def url(self) -> str:
        if self.port is None:
            raise self.error(f"{self.program} {self.name!r} is not running; call start() first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running else None

    def missing(self) -> TiedProgramError:
        return self.error(
            f"{self.program} is not installed, so this part of the lab cannot run. "
            f"{self.install_hint} Nothing was started.")

    def start(self, timeout: float = 10.0):
        """Start it and return once it serves; raise ``self.error`` (one paragraph) otherwise."""
        if self.running:
            return self
        binary = self.find_binary()
        if binary is None:
            raise self.missing()
        self.registry.replace(self.name)
        for _attempt in range(self.attempts):
            if self._try_start(binary, timeout):
                self.registry.add(self.name, self)
                return self
        raise self.error(f"{self.program} could not find a free port on 127.0.0.1 after "
                         f"{self.attempts} tries; its last message:\n{self._last_log}")

    def _try_start(self, binary: str, timeout: float) -> bool:
        port = free_port()
        prefix = Path(tempfile.mkdtemp(prefix=f"sselab-{self.program.lower()}-"))
        try:
            for name, text in self.files(port, str(prefix)).items():
                (prefix / name).parent.mkdir(parents=True, exist_ok=True)
                (prefix / name).write_text(text)
        except Exception:
            shutil.rmtree(prefix, ignore_errors=True)
            raise
        self.prefix, self.port = prefix, port
        with open(prefix / "output.log", "wb") as out:
            env = {**os.environ, **self.environment(prefix)}
            self._process = spawn_tied(self.command(binary, port, prefix), cwd=prefix, env=env,
                                       death_signal=self.death_signal,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return self._failed_start()
            if self.ready():
                return True
            time.sleep(0.01)
        log = self.log()
        self.stop()
        raise self.error(f"{self.program} did not start serving within {timeout:g} s. "
                         f"Its output:\n{log.strip() or '(none)'}")

    def _failed_start(self) -> bool:
        """Read why it exited; True would be 'started', False 'retry on another port'."""
        self._last_log = self.log()
        config = self.config
        self.stop()
        if self.retry_on(self._last_log):
            return False
        raise self.error(
            f"{self.program} refused to start with the generated configuration. Its message: "
            f"{self._last_log.strip() or '(none)'} The configuration was:\n{config}")

    def log(self) -> str:
        """What the program wrote so far (its output, and any log file it keeps in its dir)."""
        if self.prefix is None:
            return ""
        texts = []
        for path in sorted(self.prefix.glob("*.log")):
            texts.append(path.read_text(errors="replace"))
        return "\n".join(t for t in texts if t)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop it (SIGTERM, then SIGKILL), wait for it and remove its temp dir. Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(self.stop_signal)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)
        self.prefix = self.port = None
        self.registry.discard(self.name, self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<{type(self).__name__} {self.name!r} {where}>"


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int | None) -> bool:
    """Does something accept TCP connections on 127.0.0.1:port right now?"""
    if port is None:
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
