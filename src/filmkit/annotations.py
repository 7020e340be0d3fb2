"""Instructor datasets: the CSV tables in ``source_texts/annotations/``, and their evidence.

An annotation records an instructor's reading of the sources (a verdict, a genre in a chapter, a
claim a source makes), and every row carries its evidence: the ``evidence`` column holds one or more
quotations written in the course's citation convention, each with a parenthetical naming its
source, e.g. ``“score: 60% CHILLIN” (worth-watching); “a surprisingly good thriller”
(worth-watching)``. :func:`verify_annotations` checks every one of them with
:func:`filmkit.evidence.verify`, so no annotation stands without words of the sources behind it.

Rules the loader enforces (an :class:`AnnotationError` names the file, the row and the column):

- the header is exactly the columns :data:`SCHEMAS` lists (and ``annotations/README.md`` documents);
- required columns are not empty; a column with choices holds one of them; integer columns hold
  integers; ``source`` columns hold a corpus id;
- list columns are separated by ``;`` and come back as Python lists (empty cell: empty list);
- only ``evidence`` may contain double quotation marks: a quotation anywhere else would escape the
  checks.

Rows are numbered from 1 in messages and in :func:`verify_annotations`'s ``row`` column, not
counting the header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd

from filmkit.analysis import GENRE_TERMS
from filmkit.corpus import Corpus, load_corpus
from filmkit.evidence import verify
from filmkit.paths import source_texts_dir
from filmkit.quotations import extract_quotations

ColumnKind = Literal["text", "int", "source", "list", "evidence"]

# The film's chapters, as perfection-explained names them, in order.
CHAPTERS: Final = ("Mission", "Detour", "Home", "Duet")
# What a review can say about an aspect of the film (reception_aspects.csv).
STANCES: Final = ("praise", "criticism", "caution", "reported")
ASPECTS: Final = (
    "acting",
    "direction",
    "ending",
    "genre",
    "music",
    "overall",
    "plot logic",
    "theme",
    "twists",
    "violence",
)
# Points of the film, and after it, at which a source frames a character (framing.csv), in order.
STAGES: Final = ("set-up", "first reveal", "second reveal", "ending", "audiences")
FRAMINGS: Final = (
    "mentor",
    "home",
    "protégé",
    "rival",
    "villain",
    "abuser",
    "victim",
    "rescuer",
    "avenger",
    "survivor",
)
CHARACTERS: Final = ("Charlotte", "Lizzie", "Anton", "Paloma", "Bachoff Academy")

_QUOTE_MARKS = re.compile(r"[“”\"]")


class AnnotationError(ValueError):
    """An annotation file is missing or does not follow its documented columns."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    required: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    name: str
    key: tuple[str, ...]  # the columns that say which row a message is about
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


_EVIDENCE = Column("evidence", "evidence")

SCHEMAS: Final[dict[str, Schema]] = {
    schema.name: schema
    for schema in (
        Schema(
            "reception",
            ("source",),
            (
                Column("source", "source"),
                Column("stance", choices=("positive", "mixed", "negative")),
                Column("verdict"),
                Column("score", required=False),
                Column("score_percent", "int", required=False),
                Column("praises", "list", required=False, choices=ASPECTS),
                Column("criticisms", "list", required=False, choices=ASPECTS),
                Column("comparisons", "list", required=False),
                _EVIDENCE,
            ),
        ),
        Schema(
            "reception_aspects",
            ("source", "aspect", "stance"),
            (
                Column("source", "source"),
                Column("aspect", choices=ASPECTS),
                Column("stance", choices=STANCES),
                Column("note"),
                _EVIDENCE,
            ),
        ),
        Schema(
            "genre_by_chapter",
            ("chapter", "genre"),
            (
                Column("chapter_order", "int"),
                Column("chapter", choices=CHAPTERS),
                Column("genre", choices=tuple(GENRE_TERMS)),
                Column("salience", "int", choices=("1", "2", "3")),
                Column("placement", choices=("named", "inferred")),
                Column("note"),
                _EVIDENCE,
            ),
        ),
        Schema(
            "factual_claims",
            ("topic", "source", "value"),
            (
                Column("topic"),
                Column("source", "source"),
                Column("value"),
                Column("note", required=False),
                _EVIDENCE,
            ),
        ),
        Schema(
            "framing",
            ("character", "source", "stage"),
            (
                Column("character", choices=CHARACTERS),
                Column("source", "source"),
                Column("stage", choices=STAGES),
                Column("framing", choices=FRAMINGS),
                Column("note", required=False),
                _EVIDENCE,
            ),
        ),
    )
}


def annotations_dir(root: Path | None = None) -> Path:
    return source_texts_dir(root) / "annotations"


def annotation_names() -> list[str]:
    """The annotation tables, in the order :data:`SCHEMAS` lists them."""
    return list(SCHEMAS)


def load_annotation(
    name: str, *, root: Path | None = None, corpus: Corpus | None = None
) -> pd.DataFrame:
    """One annotation table, checked against its schema.

    Text columns are strings, integer columns ``Int64`` (nullable: an empty optional cell is
    ``<NA>``), list columns Python lists; ``evidence`` stays as written.
    """
    schema = _schema(name)
    path = annotations_dir(root) / schema.filename
    where = f"source_texts/annotations/{schema.filename}"
    if not path.is_file():
        raise AnnotationError(f"{where} is missing (annotation {name!r})")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise AnnotationError(f"{where} cannot be read as UTF-8 CSV: {error}") from None
    header = list(table.columns)
    if header != schema.column_names:
        missing = [c for c in schema.column_names if c not in header]
        extra = [c for c in header if c not in schema.column_names]
        details = []
        if missing:
            details.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            details.append(f"undocumented column(s) {', '.join(extra)}")
        if not details:
            details.append(f"columns out of order: expected {', '.join(schema.column_names)}")
        raise AnnotationError(f"{where}: {'; '.join(details)} (see annotations/README.md)")
    ids = set((corpus or load_corpus(root)).ids)
    converted: dict[str, list[Any]] = {c.name: [] for c in schema.columns}
    for index, row in enumerate(table.itertuples(index=False), 1):
        values = dict(zip(header, (str(v) for v in row), strict=True))
        for column in schema.columns:
            converted[column.name].append(
                _convert(values[column.name].strip(), column, ids, f"{where} row {index}")
            )
    result = pd.DataFrame(converted, columns=schema.column_names)
    for column in schema.columns:
        if column.kind == "int":
            result[column.name] = pd.array(converted[column.name], dtype="Int64")
    return result


def _schema(name: str) -> Schema:
    try:
        return SCHEMAS[name]
    except KeyError:
        raise AnnotationError(
            f"no annotation named {name!r}; the annotations are {', '.join(SCHEMAS)}"
        ) from None


def _convert(value: str, column: Column, ids: set[str], where: str) -> Any:
    here = f"{where}, column {column.name!r}"
    if not value:
        if column.required:
            raise AnnotationError(f"{here} is empty")
        return [] if column.kind == "list" else (None if column.kind == "int" else "")
    if column.kind != "evidence" and _QUOTE_MARKS.search(value):
        raise AnnotationError(
            f"{here} contains quotation marks: put quotations in the evidence column, where "
            "they are verified"
        )
    if column.kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            raise AnnotationError(f"{here} must be an integer, not {value!r}")
        if column.choices and value not in column.choices:
            raise AnnotationError(f"{here} must be one of {', '.join(column.choices)}")
        return int(value)
    if column.kind == "source" and value not in ids:
        raise AnnotationError(f"{here}: {value!r} is not a source id ({', '.join(sorted(ids))})")
    if column.kind == "list":
        items = [item.strip() for item in value.split(";") if item.strip()]
        bad = [item for item in items if column.choices and item not in column.choices]
        if bad:
            raise AnnotationError(
                f"{here}: {', '.join(map(repr, bad))} not among {', '.join(column.choices)}"
            )
        return items
    if column.choices and value not in column.choices:
        raise AnnotationError(f"{here} must be one of {', '.join(column.choices)}, not {value!r}")
    return value


def load_annotations(
    names: Iterable[str] | None = None, *, root: Path | None = None
) -> dict[str, pd.DataFrame]:
    corpus = load_corpus(root)
    return {n: load_annotation(n, root=root, corpus=corpus) for n in names or SCHEMAS}


VERIFICATION_COLUMNS: Final = (
    "annotation",
    "row",
    "key",
    "quotation",
    "citation",
    "source",
    "status",
    "paragraph",
    "start",
    "end",
    "message",
)


def verify_annotations(
    names: Sequence[str] | None = None, *, root: Path | None = None
) -> pd.DataFrame:
    """Every evidence quotation of every annotation, checked against the source it cites.

    One row per quotation: ``annotation, row, key, quotation, citation, source, status,
    paragraph, start, end, message``. ``status`` is a :class:`~filmkit.evidence.Status` value
    (``verified`` …), or one of the annotation's own problems:

    - ``no-evidence``: the row's evidence cell holds no quotation (one row, quotation empty);
    - ``unattributed``: a quotation with no parenthetical naming a source;
    - ``other-source``: the table has a ``source`` column and the quotation cites another source
      (a row about worth-watching is evidenced from worth-watching).

    ``paragraph``, ``start`` and ``end`` locate the first match in the cited source (``-1`` when
    there is none), so ``corpus.text(source)[start:end]`` is the source's own wording.
    """
    corpus = load_corpus(root)
    rows: list[dict[str, Any]] = []
    for name in names or list(SCHEMAS):
        schema = _schema(name)
        table = load_annotation(name, root=root, corpus=corpus)
        for index, record in enumerate(table.to_dict("records"), 1):
            key = ", ".join(f"{k}={record[k]}" for k in schema.key)
            base = {"annotation": name, "row": index, "key": key}
            quotations = extract_quotations(str(record["evidence"]), corpus)
            if not quotations:
                rows.append(
                    {
                        **base,
                        **_unlocated("", None, None),
                        "status": "no-evidence",
                        "message": "The evidence cell holds no quotation in double quotation "
                        "marks with a parenthetical naming its source.",
                    }
                )
            for quotation in quotations:
                if quotation.source is None:
                    why = quotation.citation_problem or "no parenthetical names a source"
                    rows.append(
                        {
                            **base,
                            **_unlocated(quotation.text, quotation.citation, None),
                            "status": "unattributed",
                            "message": f"Unattributed quotation: {why}.",
                        }
                    )
                    continue
                row_source = record.get("source") if "source" in record else None
                if row_source and quotation.source != row_source:
                    rows.append(
                        {
                            **base,
                            **_unlocated(quotation.text, quotation.citation, quotation.source),
                            "status": "other-source",
                            "message": f"The row is about {row_source}, but this quotation "
                            f"cites {quotation.source}.",
                        }
                    )
                    continue
                verdict = verify(quotation.text, quotation.source, corpus=corpus)
                own = [m for m in verdict.matches if m.source == quotation.source]
                first = own[0] if own else None
                rows.append(
                    {
                        **base,
                        "quotation": quotation.text,
                        "citation": quotation.citation,
                        "source": quotation.source,
                        "status": str(verdict.status),
                        "paragraph": first.paragraph if first else -1,
                        "start": first.start if first else -1,
                        "end": first.end if first else -1,
                        "message": verdict.message,
                    }
                )
    return pd.DataFrame(rows, columns=list(VERIFICATION_COLUMNS))


def _unlocated(quotation: str, citation: str | None, source: str | None) -> dict[str, Any]:
    return {
        "quotation": quotation,
        "citation": citation,
        "source": source,
        "paragraph": -1,
        "start": -1,
        "end": -1,
    }


def evidence_quotations(evidence: str, corpus: Corpus | None = None) -> list[tuple[str, str]]:
    """The ``(quotation, source id)`` pairs of one evidence cell, in order (for hover text)."""
    corpus = corpus or load_corpus()
    return [(q.text, q.source or "?") for q in extract_quotations(evidence, corpus)]


def documented_columns(root: Path | None = None) -> dict[str, list[str]]:
    """The columns ``annotations/README.md`` documents for each table: the first cell of each
    row of the table under a ``## name.csv`` heading, written as code (```column```)."""
    readme = annotations_dir(root) / "README.md"
    if not readme.is_file():
        raise AnnotationError("source_texts/annotations/README.md is missing")
    documented: dict[str, list[str]] = {}
    current: str | None = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^##\s+`?([\w-]+)\.csv`?\s*$", line)
        if heading:
            current = heading.group(1)
            documented[current] = []
            continue
        if line.startswith("#"):
            current = None
            continue
        cell = re.match(r"^\|\s*`([\w]+)`\s*\|", line)
        if current is not None and cell:
            documented[current].append(cell.group(1))
    return documented


__all__ = [
    "ASPECTS",
    "CHAPTERS",
    "CHARACTERS",
    "FRAMINGS",
    "SCHEMAS",
    "STAGES",
    "STANCES",
    "AnnotationError",
    "Column",
    "Schema",
    "annotation_names",
    "annotations_dir",
    "documented_columns",
    "evidence_quotations",
    "load_annotation",
    "load_annotations",
    "verify_annotations",
]
