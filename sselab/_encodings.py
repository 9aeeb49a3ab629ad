"""Undo a response's Content-Encoding one read at a time, or say clearly why not.

Defined in notebooks/03_network.ipynb. The probe asks for ``Accept-Encoding: identity``
unless told otherwise, so a compliant server sends plain bytes. When it is asked for
compression (``accept_encoding="gzip"``, the CLI's ``--compressed``), each read is
decompressed before parsing, so the events of a compressed stream are seen when they
*could* be seen: a compressor that holds bytes shows up as late events, not as a guess.

gzip and deflate come with Python (``zlib``); br needs the ``brotli`` package and zstd the
``zstandard`` package (both in requirements.txt). A response in an encoding that cannot be
undone here raises :class:`UnsupportedEncoding`, which the probe turns into a one-paragraph
error: never a diagnosis made from compressed bytes.
"""

from __future__ import annotations

import zlib


class UnsupportedEncoding(Exception):
    """The body's Content-Encoding cannot be undone here; ``str()`` says why, in a phrase."""

    def __init__(self, encoding: str, why: str) -> None:
        super().__init__(why)
        self.encoding = encoding


class _Zlib:
    """gzip, or deflate with or without its zlib header (servers send both as 'deflate')."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._seen = False

    def __call__(self, chunk: bytes) -> bytes:
        if not self._gzip and not self._seen and chunk:
            self._seen = True
            try:
                return self._d.decompress(chunk)
            except zlib.error:  # raw deflate, no zlib header (RFC 9110 says zlib; not all agree)
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._d.decompress(chunk)


def _brotli():
    try:
        import brotli
    except ImportError:
        raise UnsupportedEncoding("br", "decoding br needs the 'brotli' package (pip install brotli)") from None
    return brotli.Decompressor().process


def _zstd():
    try:
        import zstandard
    except ImportError:
        raise UnsupportedEncoding("zstd", "decoding zstd needs the 'zstandard' package "
                                          "(pip install zstandard)") from None
    return zstandard.ZstdDecompressor().decompressobj().decompress


_DECODERS = {"gzip": lambda: _Zlib(True), "x-gzip": lambda: _Zlib(True),
             "deflate": lambda: _Zlib(False), "br": _brotli, "zstd": _zstd}


def decoder_for(content_encoding: str):
    """A callable ``bytes -> bytes`` that undoes ``content_encoding`` incrementally.

    None for no encoding (or ``identity``). Raises UnsupportedEncoding for one it cannot undo,
    including a chain of several (``gzip, br``), which no server in this lab sends.
    """
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise UnsupportedEncoding(content_encoding, "a chain of encodings is not decoded here")
    make = _DECODERS.get(codings[0])
    if make is None:
        raise UnsupportedEncoding(codings[0], f"{codings[0]!r} is not an encoding this probe knows")
    return make()


def decodable() -> list[str]:
    """The encodings this Python can undo, for an honest ``Accept-Encoding`` header."""
    found = []
    for name in ("gzip", "deflate", "br", "zstd"):
        try:
            decoder_for(name)
        except UnsupportedEncoding:
            continue
        found.append(name)
    return found
