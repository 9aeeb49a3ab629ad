"""TLS in the lab: throw-away certificates, nginx over HTTPS with HTTP/1.1 and HTTP/2, the probe's
--http2/--cacert/--insecure, and a clear error for an untrusted certificate."""

import json
import subprocess
import sys

import pytest

import sselab
from servers import ticker


@pytest.fixture
def tls_upstream(needs_nginx):
    certs = sselab.lab_certificates("test-tls")
    upstream = sselab.serve(ticker.app, name="test-tls-ticker", http="httptools")
    yield certs, upstream
    sselab.stop_all()


def test_certificates_live_in_a_private_temp_dir_removed_on_stop():
    certs = sselab.lab_certificates("test-certs")
    folder = certs.folder
    assert certs.ca_path.is_file() and certs.key_path.is_file() and (folder.stat().st_mode & 0o077) == 0
    sselab.stop_all()
    assert not folder.exists() and not certs.running


@pytest.mark.parametrize("http2, protocol", [(False, "HTTP/1.1"), (True, "HTTP/2")])
def test_nginx_over_tls_streams_and_reports_the_protocol(tls_upstream, http2, protocol):
    certs, upstream = tls_upstream
    proxy = sselab.NginxProxy(upstream, name="test-tls-nginx", tls=certs, http2=http2, proxy_buffering=False).start()
    assert proxy.url.startswith("https://127.0.0.1:") and "listen 127.0.0.1:" in proxy.config
    t = sselab.probe(proxy.url + "/events?n=10&interval=0.03", http2=http2, verify=certs.ca_path)
    assert t.http_version == protocol and len(t.events) == 10 and t.verdict == "real-time", t.reason


@pytest.mark.slow
def test_cli_http2_with_cacert_and_the_untrusted_error(tls_upstream):
    certs, upstream = tls_upstream
    proxy = sselab.NginxProxy(upstream, name="test-tls-cli", tls=certs, http2=True, proxy_buffering=False).start()
    url = proxy.url + "/events?n=10&interval=0.02"
    run = [sys.executable, "-m", "sselab", "probe"]
    ok = subprocess.run([*run, "--http2", "--cacert", str(certs.ca_path), url, "--json"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["summary"]["http_version"] == "HTTP/2"
    insecure = subprocess.run([*run, "--insecure", url], capture_output=True, text=True, timeout=60)
    assert insecure.returncode == 0 and "HTTP/1.1, body chunked" in insecure.stdout
    untrusted = subprocess.run([*run, url], capture_output=True, text=True, timeout=60)
    assert untrusted.returncode == 2 and "--cacert" in untrusted.stderr
    assert untrusted.stderr.strip().count("\n") == 0
