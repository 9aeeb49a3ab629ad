"""Certificates for TLS on 127.0.0.1, made on the fly and trusted by the lab's own clients only.

Defined in notebooks/07_https_http2.ipynb. trustme (the python-trio project's test CA) makes
a throw-away certificate authority and a certificate for ``127.0.0.1`` and ``localhost`` in
memory; :class:`LabCertificates` writes them into a private temp dir for the programs that
need files (nginx, hypercorn, curl, Chromium) and removes them on ``stop()`` (and with
``sselab.stop_all()``). Nothing is installed system-wide: a client trusts this CA only when
it is handed ``ca_path`` (``sselab.aprobe(url, verify=certs.ca_path)``, ``curl --cacert``).
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path

from ._registry import CERTIFICATES


class LabCertificates:
    """A fresh CA and a server certificate for 127.0.0.1 / localhost, as PEM files in a temp dir."""

    def __init__(self, name: str = "lab") -> None:
        import trustme  # only TLS needs it

        self.name = name
        CERTIFICATES.replace(name)
        self.ca = trustme.CA(organization_name="SSE Lab throw-away CA")
        self._server = self.ca.issue_cert("127.0.0.1", "localhost", "::1")
        self.folder = Path(tempfile.mkdtemp(prefix="sselab-tls-"))  # mode 0700: ours alone
        self.ca_path = self.folder / "ca.pem"
        self.cert_path = self.folder / "server-chain.pem"
        self.key_path = self.folder / "server-key.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self._server.private_key_pem.write_to_path(str(self.key_path))
        with open(self.cert_path, "wb") as chain:
            for blob in self._server.cert_chain_pems:
                chain.write(blob.bytes())
        CERTIFICATES.add(name, self)

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def server_context(self, alpn: tuple[str, ...] = ("h2", "http/1.1")) -> ssl.SSLContext:
        """An SSL context serving this certificate, offering ``alpn`` protocols."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert_path), str(self.key_path))
        context.set_alpn_protocols(list(alpn))
        return context

    @property
    def running(self) -> bool:
        return self.folder.exists()

    def stop(self) -> None:
        """Remove the files; the CA is gone for good (idempotent)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        CERTIFICATES.discard(self.name, self)

    def __enter__(self) -> LabCertificates:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LabCertificates {self.name!r} {self.folder if self.running else 'removed'}>"


def lab_certificates(name: str = "lab") -> LabCertificates:
    """Make (or, for a name already in use, re-make) the lab's throw-away CA and certificate."""
    return LabCertificates(name)
