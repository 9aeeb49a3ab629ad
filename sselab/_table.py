"""Rows of computed figures, shown as Markdown in a notebook and as aligned text elsewhere.

Every table in the lab (verdicts, crowds, claims, the decision tree, ...) is one of these:
a subclass names its ``COLUMNS`` and computes ``rows()``; nothing in a table is typed in.
"""

from __future__ import annotations


class Table:
    """Rows of computed figures: shows as Markdown in a notebook, as aligned text elsewhere.

    Subclasses name their ``COLUMNS`` and compute ``rows()``; nothing in a table is typed in.
    """

    COLUMNS: tuple[str, ...] = ()

    def rows(self) -> list[tuple[str, ...]]:
        raise NotImplementedError

    def _repr_markdown_(self) -> str:
        head = "| " + " | ".join(self.COLUMNS) + " |\n|" + "---|" * len(self.COLUMNS) + "\n"
        return head + "\n".join("| " + " | ".join(r) + " |" for r in self.rows())

    def __str__(self) -> str:
        rows = [self.COLUMNS, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)

    __repr__ = __str__
