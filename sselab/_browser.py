"""A real browser as a client: headless Chromium opens ``servers/browser_page.py``'s page.

Defined in notebooks/08_clients.ipynb. The page opens an ``EventSource``, times every
event with ``performance.now()`` mapped onto the server's clock, and leaves the results
in ``window.sselab``; this module drives Debian's ``chromium`` with Playwright (no
browser download: ``executable_path``) and turns those results into a ``Timeline``::

    async with sselab.HeadlessBrowser() as browser:
        timeline = await browser.probe(server.url + "/?n=10&interval=0.1")

Each event is one ``Read`` (a browser does not show its socket reads).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ._timeline import Event, Read, Timeline

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server"]
"""No sandbox (root in a container), no network of its own, no proxy: loopback only."""

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class BrowserError(RuntimeError):
    """Chromium or Playwright is missing, or the page did not finish; the message says why."""


def find_chromium() -> str | None:
    """The Chromium binary: $SSELAB_CHROMIUM, then the usual places, then PATH; else None."""
    override = os.environ.get("SSELAB_CHROMIUM")
    if override:
        return override if Path(override).is_file() else None
    found = next((c for c in _CANDIDATES if Path(c).is_file()), None)
    return found or shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_version() -> str | None:
    """What ``chromium --version`` prints (e.g. 'Chromium 156.0.8078.73'), or None when missing."""
    import subprocess

    binary = find_chromium()
    if binary is None:
        return None
    try:
        run = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() or None


def _missing() -> BrowserError:
    return BrowserError(
        "Chromium is not installed, so the real-browser part cannot run. Install it and re-run: "
        "'sudo apt-get install chromium' (Debian/Ubuntu), or set SSELAB_CHROMIUM=/path/to/chrome.")


class HeadlessBrowser:
    """One headless Chromium (fresh profile in a temp dir) for one or more page probes.

    Use as ``async with``; everything it started is gone when the block ends. Or ``await
    start()`` it once and ``await close()`` it at the end, for a browser shared by several cells
    (notebook 09: each start costs about 2 s on the 2-core VM).

    ``trust`` (a :class:`sselab.LabCertificates`) makes this browser, and no other, accept the
    lab's server certificate: Chromium's ``--ignore-certificate-errors-spki-list`` with the
    certificate's public-key hash, so nothing is installed in a system or user trust store.
    """

    def __init__(self, executable: str | None = None, *, trust=None) -> None:
        self.executable = executable or find_chromium()
        self.trust = trust
        self._playwright = self._context = self._profile = None

    async def __aenter__(self) -> HeadlessBrowser:
        if self.executable is None:
            raise _missing()
        try:
            from playwright.async_api import async_playwright
        except ImportError:
            raise BrowserError("the playwright package is missing: pip install playwright "
                               "(no browser download needed)") from None
        self._profile = tempfile.mkdtemp(prefix="sselab-chromium-")
        self._playwright = await async_playwright().start()
        try:
            self._context = await self._playwright.chromium.launch_persistent_context(
                self._profile, executable_path=self.executable, headless=True, args=self._args())
        except Exception:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        if self._context is not None:
            await self._context.close()
        if self._playwright is not None:
            await self._playwright.stop()
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
        self._playwright = self._context = self._profile = None

    async def start(self) -> HeadlessBrowser:
        """Start Chromium (what ``async with`` does on entry); :meth:`close` stops it."""
        return await self.__aenter__()

    async def close(self) -> None:
        """Stop Chromium and remove its profile; harmless when it is not running."""
        await self.__aexit__()

    def _args(self) -> list[str]:
        if self.trust is None:
            return CHROMIUM_ARGS
        return [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki_hash(self.trust.cert_path)}"]

    async def page_result(self, page_url: str, *, headers: dict | None = None,
                          max_seconds: float = 20.0) -> dict:
        """Open ``page_url`` and return its ``window.sselab`` once it says ``done``."""
        page = await self._context.new_page()
        try:
            if headers:
                await page.set_extra_http_headers(headers)
            await page.goto(page_url)
            # a look every 50 ms: playwright's default (every animation frame, 60 times a second in
            # every open page) costs the pages being measured side by side their CPU
            await page.wait_for_function("window.sselab && window.sselab.done",
                                         timeout=max_seconds * 1000, polling=50)
            return await page.evaluate("window.sselab")
        finally:
            await page.close()

    async def probe(self, page_url: str, *, headers: dict | None = None,
                    max_seconds: float = 20.0) -> Timeline:
        """Open ``page_url`` (the browser page with ``?n=..&interval=..``); return its Timeline.

        ``headers`` are added to every request the page makes (e.g. Jupyter's authorization).
        """
        result = await self.page_result(page_url, headers=headers, max_seconds=max_seconds)
        return page_timeline(page_url, result)


def spki_hash(cert_path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the first certificate in a PEM file: Chromium's pin."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def page_timeline(url: str, result: dict) -> Timeline:
    """The page's ``window.sselab`` as a Timeline (times relative to opening the stream)."""
    if not result.get("events") and "error" in result.get("note", ""):
        raise BrowserError(f"the page at {url} failed: {result['note']}")
    t0 = result["opened"]
    events = [Event(seq=e["seq"], sent=e["sent"] - t0, arrived=e["arrived"] - t0,
                    bytes=e["bytes"], read=i) for i, e in enumerate(result["events"])]
    reads = [Read(e.arrived, e.bytes) for e in events]
    # The page mapped its clock onto the server's to within half a round trip: call that
    # "shared" when it is under half the lab's 20 ms lateness threshold.
    clock = "shared" if result["rtt"] < 0.020 else "aligned"
    ended_by = "eof" if "complete" in result["note"] else "cut"
    return Timeline(url=url, status=200, content_type="text/event-stream", reads=reads,
                    events=events, clock=clock, ended_by=ended_by,
                    headers={"clock_rtt_ms": f"{result['rtt'] * 1000:.2f}"})
