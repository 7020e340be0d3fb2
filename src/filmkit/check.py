"""``filmkit check``: verify every quotation in a markdown file or a notebook's markdown cells."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from filmkit.corpus import Corpus, load_corpus
from filmkit.evidence import Status, Verdict, verify
from filmkit.quotations import Quotation, extract_quotations


class UnreadableInputError(ValueError):
    """The file to check cannot be read as markdown or as a notebook."""


@dataclass(frozen=True)
class CheckedQuotation:
    quotation: Quotation
    verdict: Verdict
    where: str  # "line 4" or "cell 3, line 2"

    @property
    def message(self) -> str:
        note = self.quotation.citation_problem
        return f"{self.verdict.message} (Citation: {note}.)" if note else self.verdict.message

    def to_dict(self) -> dict[str, object]:
        return {
            "where": self.where,
            "citation": self.quotation.citation,
            **self.verdict.to_dict(),
            "message": self.message,
        }


def check_markdown(
    markdown: str, *, corpus: Corpus | None = None, cell: int | None = None
) -> list[CheckedQuotation]:
    """Verify every quotation of a markdown text against the source it is attributed to."""
    corpus = corpus or load_corpus()
    results = []
    for quotation in extract_quotations(markdown, corpus):
        verdict = verify(quotation.text, quotation.source, corpus=corpus)
        where = f"line {quotation.line}" if cell is None else f"cell {cell}, line {quotation.line}"
        results.append(CheckedQuotation(quotation, verdict, where))
    return results


CHECKED_SUFFIXES = (".md", ".markdown", ".txt", ".ipynb")


def read_markdown_parts(path: Path) -> list[tuple[int | None, str]]:
    """The markdown to check: the whole file, or each markdown cell of a notebook (1-based)."""
    if not path.exists():
        raise UnreadableInputError(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableInputError(f"{path} is a folder: name a .md file or a notebook")
    if path.suffix.lower() not in CHECKED_SUFFIXES:
        raise UnreadableInputError(
            f"{path} is not an essay or notes: filmkit check reads markdown (.md, .markdown), "
            "plain text (.txt) or a notebook's markdown cells (.ipynb)"
        )
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableInputError(
            f"{path} is not UTF-8 text (byte {error.start}): save it as UTF-8"
        ) from None
    except OSError as error:
        raise UnreadableInputError(f"{path}: {error.strerror}") from None
    if path.suffix != ".ipynb":
        return [(None, raw)]
    # Imported here, not at the top: importing nbformat takes seconds (jsonschema's format
    # checkers), and the assignments' evidence reports import this module inside students' kernels.
    import nbformat

    try:
        notebook = nbformat.reads(raw, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        raise UnreadableInputError(
            f"{path} is not a notebook: its JSON does not parse ({error})"
        ) from None
    except Exception as error:  # nbformat raises several types for malformed notebooks
        raise UnreadableInputError(f"{path} is not a readable notebook: {error}") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise UnreadableInputError(f"{path} is not a notebook: it has no list of cells")
    return [
        (number, str(cell.get("source", "")))
        for number, cell in enumerate(cells, 1)
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown"
    ]


def check_path(path: Path, *, corpus: Corpus | None = None) -> list[CheckedQuotation]:
    corpus = corpus or load_corpus()
    results: list[CheckedQuotation] = []
    for cell, markdown in read_markdown_parts(path):
        results.extend(check_markdown(markdown, corpus=corpus, cell=cell))
    return results


def all_verified(results: list[CheckedQuotation]) -> bool:
    return all(r.verdict.status is Status.VERIFIED for r in results)
