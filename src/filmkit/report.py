"""Terminal tables for the CLI (rich), kept apart so the library returns data, not text."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from filmkit.check import CheckedQuotation
from filmkit.evidence import Status, Verdict

STATUS_STYLE = {
    Status.VERIFIED: "green",
    Status.MISATTRIBUTED: "yellow",
    Status.NEAR_MISS: "yellow",
    Status.NOT_FOUND: "red",
}


def console() -> Console:
    # A fixed minimum width keeps piped output (CI logs, `| less`) readable instead of 80 columns.
    return Console(width=None if Console().is_terminal else 120, highlight=False)


def corpus_table(documents: pd.DataFrame) -> Table:
    table = Table(title="Source texts (source_texts/manifest.csv)", title_justify="left")
    for column in ("id", "kind", "author", "published", "words", "title"):
        table.add_column(column, justify="right" if column == "words" else "left")
    for row in documents.itertuples():
        table.add_row(
            str(row.id),
            str(row.kind),
            escape(str(row.author)) or "—",
            str(row.published) or "—",
            str(row.words),
            escape(str(row.title)) or "(untitled)",
        )
    return table


def verdict_lines(verdict: Verdict) -> list[str]:
    style = STATUS_STYLE[verdict.status]
    lines = [f"[{style}]{verdict.status}[/{style}]  {escape(verdict.message)}"]
    for match in verdict.matches[:5]:
        lines.append(
            escape(
                f"  {match.source} ¶{match.paragraph} [{match.start}:{match.end}]  “{match.text}”"
            )
        )
    return lines


def check_table(results: Sequence[CheckedQuotation], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("where", no_wrap=True)
    table.add_column("quotation", max_width=40)
    table.add_column("cites")
    table.add_column("status", no_wrap=True)
    table.add_column("message", ratio=1)
    for r in results:
        style = STATUS_STYLE[r.verdict.status]
        table.add_row(
            r.where,
            escape(f"“{r.quotation.text}”"),
            r.quotation.source or "—",
            f"[{style}]{r.verdict.status}[/{style}]",
            escape(r.message),
        )
    return table
