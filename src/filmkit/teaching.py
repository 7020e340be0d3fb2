"""Helpers the lesson notebooks share: reading lists, a content map, and self-check exercises.

- :func:`reading_list` turns "these paragraphs of these sources" into a table of what to read, with
  filmkit's paragraph numbers (¶, counted from 0 in each source, headings included), so a
  lesson's readings always point at the stored texts.
- :func:`content_map` lists the paragraphs that name sexual abuse, suicide or self-harm,
  mutilation, killing or sex, by label only, never by quoting them, so readers can prepare or
  skip. It is a word list, and like any word list it misses what is said without those words and
  flags what uses them innocently: it prepares a reading, it does not replace one.
- :func:`self_check` compares a student's answer with a value the lesson computes through
  filmkit, and prints the result; it never raises, so a lesson runs top to bottom unanswered.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, Final

import pandas as pd

from filmkit.analysis import find_terms
from filmkit.corpus import Corpus, load_corpus

# Vocabulary that marks a paragraph as needing a content note. Labels, not quotations, are shown.
CONTENT_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "sexual abuse": (
        "molest",
        "molestation",
        "sexual molestation",
        "raped",
        "rape",
        "paedophiles",
        "pervert",
    ),
    "suicide and self-harm": ("kill herself", "mental hospitals", "suicide"),
    "mutilation": (
        "severed",
        "severing",
        "cleaver",
        "meat cutter",
        "stabs",
        "hands and legs",
        "limb",
        "mutilation",
        "cut her own hand",
        "cutting off a piece of yourself",
    ),
    "abuse (general terms)": ("abuse", "abuser", "abusive", "trauma", "cruelty", "brainwashed"),
    "killing": ("kill", "killed", "death", "dead", "drugged"),
    "sex": ("sexually explicit", "nude", "lovemaking", "sleeping with"),
}
# Paragraphs with these labels are not shown in hover text or reading lists: cite them by number.
WITHHELD_LABELS: Final = ("sexual abuse", "suicide and self-harm", "mutilation")

_NOT_ANSWERED = "Not answered yet: replace None with your answer and run the cell again."


def content_map(corpus: Corpus | None = None) -> pd.DataFrame:
    """Paragraphs that touch difficult material: ``source, paragraph, labels, withheld``.

    ``labels`` lists the :data:`CONTENT_TERMS` labels found (sorted); ``withheld`` is true when any
    is in :data:`WITHHELD_LABELS`. The table holds no text of the paragraphs.
    """
    found = find_terms(CONTENT_TERMS, corpus or load_corpus())
    if found.empty:
        return pd.DataFrame(columns=["source", "paragraph", "labels", "withheld"])
    grouped = (
        found.groupby(["source", "paragraph"], sort=False)["label"]
        .agg(lambda labels: sorted(set(labels)))
        .rename("labels")
        .reset_index()
    )
    grouped["withheld"] = grouped["labels"].map(
        lambda labels: any(label in WITHHELD_LABELS for label in labels)
    )
    return grouped.sort_values(["source", "paragraph"]).reset_index(drop=True)


def withheld_paragraphs(corpus: Corpus | None = None) -> set[tuple[str, int]]:
    """``(source, paragraph)`` pairs whose text lessons do not display (see :func:`content_map`)."""
    table = content_map(corpus)
    return {
        (str(s), int(p))
        for s, p in table.loc[table["withheld"], ["source", "paragraph"]].itertuples(index=False)
    }


def hide_withheld(
    table: pd.DataFrame,
    corpus: Corpus | None = None,
    *,
    columns: Iterable[str] = ("left", "right", "text"),
) -> pd.DataFrame:
    """A copy of ``table`` (with ``source`` and ``paragraph`` columns, such as a concordance)
    whose text ``columns`` are replaced by a content note in withheld paragraphs, and a
    ``withheld`` column. Rows are kept, so counts stay honest; only the words are not shown."""
    withheld = withheld_paragraphs(corpus)
    shown = table.copy()
    mask = pd.Series(
        [
            (str(s), int(p)) in withheld
            for s, p in zip(shown["source"], shown["paragraph"], strict=True)
        ],
        index=shown.index,
        dtype=bool,
    )
    for column in columns:
        if column in shown.columns:
            shown[column] = shown[column].astype(object)
            shown.loc[mask, column] = "(content note: not shown)"
    shown["withheld"] = mask
    return shown


def reading_list(
    readings: Mapping[str, Iterable[int]], corpus: Corpus | None = None, *, opening_words: int = 12
) -> pd.DataFrame:
    """The paragraphs to read: ``source, paragraph, words, opening, content``.

    ``opening`` is the paragraph's first words, so a reader finds it in the text; for a paragraph
    whose content is withheld it says so instead. ``content`` lists its content-note labels.
    Raises ``KeyError`` naming a source or paragraph the corpus does not have.
    """
    corpus = corpus or load_corpus()
    paragraphs = corpus.paragraphs.set_index(["source", "paragraph"])
    notes = content_map(corpus)
    flags: dict[tuple[str, int], tuple[list[str], bool]] = {
        (str(s), int(p)): (list(labels), bool(withheld))
        for s, p, labels, withheld in zip(
            notes["source"], notes["paragraph"], notes["labels"], notes["withheld"], strict=True
        )
    }
    rows: list[dict[str, Any]] = []
    for source, numbers_ in readings.items():
        if source not in corpus.ids:
            raise KeyError(f"no source {source!r}; the ids are {corpus.ids}")
        for number in numbers_:
            key = (source, int(number))
            if key not in paragraphs.index:
                count = int((corpus.paragraphs["source"] == source).sum())
                raise KeyError(f"{source} has no ¶{number} (its paragraphs are ¶0–¶{count - 1})")
            text = str(paragraphs.loc[key, "text"])
            labels, withheld = flags.get(key, ([], False))
            words = text.split()
            opening = " ".join(words[:opening_words]) + (" …" if len(words) > opening_words else "")
            rows.append(
                {
                    "source": source,
                    "paragraph": int(number),
                    "words": len(words),
                    "opening": "(content note: opening not shown)" if withheld else opening,
                    "content": ", ".join(labels),
                }
            )
    return pd.DataFrame(rows, columns=["source", "paragraph", "words", "opening", "content"])


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.replace("’", "'").split()).casefold()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, (set, frozenset, list, tuple, pd.Series, pd.Index)):
        return frozenset(_normalise(v) for v in value)
    return value


def _same(answer: Any, expected: Any, tolerance: float) -> bool:
    a, e = _normalise(answer), _normalise(expected)
    if isinstance(a, numbers.Real) and isinstance(e, numbers.Real) and not isinstance(a, bool):
        return math.isclose(float(a), float(e), abs_tol=tolerance)
    return bool(a == e)


def self_check(
    answer: Any, expected: Any, *, hint: str = "", explain: str = "", tolerance: float = 1e-9
) -> None:
    """Print whether ``answer`` matches ``expected`` (computed by the lesson through filmkit).

    Strings compare without regard to case, spacing or apostrophe style; lists, tuples and sets
    compare as sets; numbers within ``tolerance``. ``None`` means not answered yet. Never raises.
    """
    if answer is None:
        print(_NOT_ANSWERED)
        return
    try:
        correct = _same(answer, expected, tolerance)
    except Exception as error:  # a malformed answer is a learning moment, not a crash
        print(f"Could not compare your answer ({type(error).__name__}: {error}).")
        return
    if correct:
        print("Correct." + (f" {explain}" if explain else ""))
    else:
        yours = "" if isinstance(answer, bool) else f" ({answer!r} is not the answer)"
        print(f"Not yet{yours}." + (f" Hint: {hint}" if hint else ""))


__all__ = [
    "CONTENT_TERMS",
    "WITHHELD_LABELS",
    "content_map",
    "hide_withheld",
    "reading_list",
    "self_check",
    "withheld_paragraphs",
]
