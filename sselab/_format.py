"""How the lab writes a duration: one formatter for reports, diagnoses and tables."""

from __future__ import annotations


def ms(seconds: float | None, digits: int = 1) -> str:
    """``0.0123`` -> ``'12.3 ms'``; ``None`` (not measured) -> ``'n/a'``."""
    return "n/a" if seconds is None else f"{seconds * 1000:.{digits}f} ms"
