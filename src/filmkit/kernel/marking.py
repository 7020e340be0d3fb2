"""What the assignments' test cells call: answer checks, evidence marking, essay evidence reports.

These run inside the student's kernel: when the student runs a test cell, when nbgrader validates
a notebook, and when nbgrader autogrades it. So they print to standard output only (nbgrader
scores a test cell that writes to standard error as 0) and return plain Python values.

Answer checks (``frame``, ``series``, ``value`` for the visible checks; ``same_frame``,
``same_series``, ``same_value`` for the hidden ones) accept only genuine pandas objects and plain
Python values (an object that claims to equal everything is refused for its type), and raise
:class:`AnswerError` with a message that says what is wrong *without* giving the expected values:
the message reaches the student's feedback.

:func:`mark_evidence` verifies each (quotation, source) pair a student gives with
:func:`filmkit.evidence.verify`, prints one line per quotation and returns the partial credit
(nbgrader gives a test cell whose last expression is a number that many points).

:func:`evidence_report` checks every quotation of an essay cell (a markdown answer cell, found by
its nbgrader ``grade_id`` in the notebook being run) and prints a report for the student and the
marker. It awards nothing: essays are marked by hand.
"""

from __future__ import annotations

import json
import math
import os
import re
import reprlib
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from filmkit.analysis import term_pattern
from filmkit.corpus import UnknownSourceError, load_corpus
from filmkit.evidence import Status, Verdict, verify
from filmkit.provenance import WORD_PATTERN

MIN_QUOTATION_WORDS: Final = 4
BLANK_ANSWER: Final = "YOUR ANSWER HERE"  # nbgrader's ClearSolutions.text_stub
_QUOTE_MARKS: Final = "\"'“”‘’«»„ \t\n"


class AnswerError(AssertionError):
    """An answer is not what the task asks for; the message says how, in the student's terms."""


@contextmanager
def _quiet() -> Iterator[None]:
    """No warnings from the marking code itself: nbgrader scores a cell with stderr output 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------------------------
# Plain values (refusing look-alikes)


def _is_numpy(value: object, base: type) -> bool:
    return isinstance(value, base) and type(value).__module__ == "numpy"


def plain(value: object) -> object:
    """``value`` as a plain Python value: str, int, float, bool, None, or a list of these.

    numpy scalars become Python scalars, tuples become lists. Anything else (a subclass of str or
    int, a custom object) raises :class:`TypeError`: its comparisons cannot be trusted.
    """
    kind = type(value)
    if value is None or kind in (str, bool, int, float):
        return value
    if _is_numpy(value, np.bool_):
        return bool(value)
    if _is_numpy(value, np.integer):
        return int(value)  # type: ignore[call-overload]
    if _is_numpy(value, np.floating):
        return float(value)  # type: ignore[arg-type]
    if kind in (list, tuple):
        return [plain(v) for v in value]  # type: ignore[attr-defined]
    raise TypeError(kind.__name__)


def _describe(value: object) -> str:
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"{module}{kind.__qualname__}"


def _equal(answer: object, expected: object, rtol: float) -> bool:
    if isinstance(expected, float) or isinstance(answer, float):
        if type(answer) not in (int, float) or type(expected) not in (int, float):
            return False
        a, e = float(answer), float(expected)  # type: ignore[arg-type]
        return (math.isnan(a) and math.isnan(e)) or math.isclose(a, e, rel_tol=rtol, abs_tol=1e-9)
    if type(answer) is list and type(expected) is list:
        return len(answer) == len(expected) and all(
            _equal(a, e, rtol) for a, e in zip(answer, expected, strict=True)
        )
    return type(answer) is type(expected) and answer == expected


def value(answer: object, *, name: str, kind: type | tuple[type, ...]) -> object:
    """Visible check: ``answer`` is a plain value of ``kind`` (e.g. ``str``, ``int``, ``list``)."""
    try:
        converted = plain(answer)
    except TypeError:
        raise AnswerError(
            f"{name} should be a plain Python {_kind_name(kind)}; it is {_a(_describe(answer))}."
        ) from None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(converted) not in kinds or (type(converted) is bool and bool not in kinds):
        raise AnswerError(
            f"{name} should be {_a(_kind_name(kind))}; it is {_a(_describe(answer))}."
        )
    return converted


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "an int", "a list", "a pandas DataFrame"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _count(n: int, noun: str) -> str:
    """ "1 row", "3 rows"."""
    return f"{n} {noun if n == 1 else noun + 's'}"


def same_value(answer: object, expected: object, *, name: str, rtol: float = 1e-6) -> None:
    """Hidden check: ``answer`` equals ``expected`` (lists in order; floats to ``rtol``)."""
    try:
        converted = plain(answer)
    except TypeError:
        raise AnswerError(
            f"{name} should be a plain Python value; it is {_a(_describe(answer))}."
        ) from None
    wanted = plain(expected)
    if type(wanted) is list and type(converted) is list and len(wanted) != len(converted):
        raise AnswerError(
            f"{name} has {_count(len(converted), 'item')}; the sources give a different number."
        )
    if not _equal(converted, wanted, rtol):
        raise AnswerError(f"{name} is not what the sources give.")


# ---------------------------------------------------------------------------------------------
# DataFrames and Series


def frame(
    answer: object,
    *,
    name: str,
    columns: Sequence[str] | None = None,
    index: Sequence[object] | None = None,
    rows: int | None = None,
) -> pd.DataFrame:
    """Visible check: a DataFrame with these columns, index or number of rows."""
    if type(answer) is not pd.DataFrame:
        raise AnswerError(f"{name} should be a pandas DataFrame; it is {_a(_describe(answer))}.")
    if columns is not None:
        _same_labels(answer.columns, columns, f"{name}'s columns")
    if index is not None:
        _same_labels(answer.index, index, f"{name}'s index (its row labels)")
    if rows is not None and len(answer) != rows:
        raise AnswerError(f"{name} should have {_count(rows, 'row')}; it has {len(answer)}.")
    return answer


def series(
    answer: object,
    *,
    name: str,
    index: Sequence[object] | None = None,
    length: int | None = None,
) -> pd.Series:
    """Visible check: a Series with this index or length."""
    if type(answer) is not pd.Series:
        raise AnswerError(f"{name} should be a pandas Series; it is {_a(_describe(answer))}.")
    if index is not None:
        _same_labels(answer.index, index, f"{name}'s index (its labels)")
    if length is not None and len(answer) != length:
        raise AnswerError(f"{name} should have {length} values; it has {len(answer)}.")
    return answer


def _labels(labels: pd.Index) -> list[object]:
    try:
        return [plain(v) for v in labels]
    except TypeError as error:
        raise AnswerError(f"labels of type {error} cannot be compared; use strings") from None


def _same_labels(actual: pd.Index, wanted: Sequence[object], what: str) -> None:
    got = _labels(actual)
    want = [plain(v) for v in wanted]
    if got == want:
        return
    missing = [w for w in want if w not in got]
    extra = [g for g in got if g not in want]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_list(missing)}")
        if extra:
            parts.append(f"unexpected {_list(extra)}")
        raise AnswerError(f"{what}: {'; '.join(parts)}.")
    raise AnswerError(f"{what} are the right ones but in another order: {_list(want)}.")


def _list(items: Sequence[object], limit: int = 6) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def same_frame(
    answer: object,
    expected: pd.DataFrame,
    *,
    name: str,
    ignore_index: bool = False,
    rtol: float = 1e-6,
) -> None:
    """Hidden check: ``answer`` holds the same columns, row labels and values as ``expected``.

    Numbers compare to a relative tolerance whatever their dtype (an int count may be a float);
    text compares exactly. With ``ignore_index`` the row labels do not matter, the row order does.
    """
    frame(answer, name=name)
    assert isinstance(answer, pd.DataFrame)
    _same_labels(answer.columns, list(expected.columns), f"{name}'s columns")
    if len(answer) != len(expected):
        raise AnswerError(
            f"{name} has {_count(len(answer), 'row')}; the sources give a different number of rows."
        )
    if not ignore_index:
        _same_labels(answer.index, list(expected.index), f"{name}'s index (its row labels)")
    wrong: list[tuple[object, object]] = []
    for column in expected.columns:
        mask = _differences(answer[column], expected[column], rtol, f"{name}[{column!r}]")
        wrong.extend((expected.index[int(i)], column) for i in np.flatnonzero(mask))
    if wrong:
        first_row, first_column = wrong[0]
        where = (
            f"column {first_column!r}"
            if ignore_index
            else f"row {first_row!r}, column {first_column!r}"
        )
        total = expected.shape[0] * expected.shape[1]
        raise AnswerError(
            f"{name}: {len(wrong)} of {total} values differ from what the sources give "
            f"(the first in {where})."
        )


def same_series(
    answer: object,
    expected: pd.Series,
    *,
    name: str,
    ignore_index: bool = False,
    rtol: float = 1e-6,
) -> None:
    """Hidden check: ``answer`` holds the same labels and values as ``expected`` (name ignored)."""
    series(answer, name=name)
    assert isinstance(answer, pd.Series)
    if len(answer) != len(expected):
        raise AnswerError(
            f"{name} has {len(answer)} values; the sources give a different number of values."
        )
    if not ignore_index:
        _same_labels(answer.index, list(expected.index), f"{name}'s index (its labels)")
    mask = _differences(answer, expected, rtol, name)
    if mask.any():
        first = expected.index[int(np.flatnonzero(mask)[0])]
        where = "" if ignore_index else f" (the first at {first!r})"
        raise AnswerError(
            f"{name}: {int(mask.sum())} of {len(expected)} values differ from what the sources "
            f"give{where}."
        )


def _differences(answer: pd.Series, expected: pd.Series, rtol: float, what: str) -> Any:
    """A boolean array: where ``answer`` differs from ``expected`` (same length, by position)."""
    if pd.api.types.is_numeric_dtype(expected.dtype) and not pd.api.types.is_bool_dtype(
        expected.dtype
    ):
        if not pd.api.types.is_numeric_dtype(answer.dtype) or pd.api.types.is_bool_dtype(
            answer.dtype
        ):
            raise AnswerError(f"{what} should hold numbers; it holds {answer.dtype} values.")
        got = answer.to_numpy(dtype=float, na_value=np.nan)
        want = expected.to_numpy(dtype=float, na_value=np.nan)
        same = np.isclose(got, want, rtol=rtol, atol=1e-9) | (np.isnan(got) & np.isnan(want))
        return ~same
    got_values = list(answer.to_numpy(dtype=object))
    want_values = list(expected.to_numpy(dtype=object))
    out = np.zeros(len(want_values), dtype=bool)
    for i, (g, w) in enumerate(zip(got_values, want_values, strict=True)):
        if _missing(w):
            out[i] = not _missing(g)
            continue
        try:
            out[i] = not _equal(plain(g), plain(w), rtol)
        except TypeError:
            raise AnswerError(
                f"{what} holds {_a(_describe(g))}; use plain values (text, numbers)."
            ) from None
    return out


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (type(v) is float and math.isnan(v))


# ---------------------------------------------------------------------------------------------
# Evidence answers: (quotation, source) pairs


@dataclass(frozen=True)
class EvidenceLine:
    """How one item of an evidence answer was marked."""

    number: int  # 1-based position in the student's list
    quote: str
    source: str
    counts: bool
    status: str  # a verification status, or "malformed", "unknown source", "too short", ...
    message: str
    verdict: Verdict | None = None


@dataclass(frozen=True)
class EvidenceMark:
    lines: tuple[EvidenceLine, ...]
    counted: int
    need: int
    points: float
    score: float

    def report(self, claim: str = "") -> str:
        out = [f"Claim: {claim}"] if claim else []
        for line in self.lines:
            mark = "✓" if line.counts else "✗"
            shown = _shorten(line.quote)
            cite = f" ({line.source})" if line.source else ""
            out.append(f"{line.number:2d}. {mark} {line.status}: “{shown}”{cite}")
            out.append(f"      {line.message}")
        out.append(
            f"Score: {_number(self.score)} of {_number(self.points)} points "
            f"({self.counted} of the {self.need} quotations needed count)."
        )
        return "\n".join(out)


def _safe_repr(value: object) -> str:
    try:
        return reprlib.repr(value)
    except Exception:  # a student's object may raise anything from its __repr__
        return "(unprintable)"


def _shorten(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _number(x: float) -> str:
    return f"{x:g}"


def evidence_marks(
    answers: object,
    *,
    points: float,
    need: int,
    must_mention: Sequence[str] = (),
    max_per_source: int | None = None,
    min_words: int = MIN_QUOTATION_WORDS,
) -> EvidenceMark:
    """Mark an evidence answer: a list of ``(quotation, source)`` pairs.

    A quotation counts when it is verified in the source it is attributed to (an id, the author's
    surname or words of the title), has at least ``min_words`` words, mentions one of
    ``must_mention`` (when given; matched as :func:`filmkit.analysis.term_pattern` does), does not
    overlap a quotation already counted, and its source has fewer than ``max_per_source``
    quotations counted so far. Each counts ``points / need``, up to ``need`` of them.
    """
    lines: list[EvidenceLine] = []
    if type(answers) not in (list, tuple):
        lines.append(
            EvidenceLine(
                1,
                "",
                "",
                False,
                "malformed",
                "The answer should be a list of (quotation, source) pairs; it is "
                f"{_a(_describe(answers))}.",
            )
        )
        return EvidenceMark(tuple(lines), 0, need, float(points), 0.0)
    counted_spans: list[tuple[int, str, int, int]] = []  # (item number, source, start, end)
    per_source: dict[str, int] = {}
    patterns = [term_pattern(t) for t in must_mention]
    assert isinstance(answers, (list, tuple))
    limit = max(3 * need, 10)  # a longer list is not a selection of evidence
    with _quiet():
        corpus = load_corpus()
        for number, item in enumerate(answers, 1):
            if number > limit:
                lines.append(
                    EvidenceLine(
                        number,
                        "",
                        "",
                        False,
                        "not marked",
                        f"Only the first {limit} items are marked; choose your best {need}.",
                    )
                )
                break
            line = _mark_one(
                number,
                item,
                corpus=corpus,
                patterns=patterns,
                must_mention=must_mention,
                min_words=min_words,
            )
            if line.counts and line.verdict is not None:
                line = _check_overlap_and_limits(
                    line, counted_spans, per_source, max_per_source, need
                )
            lines.append(line)
    counted = sum(1 for line in lines if line.counts)
    score = round(float(points) * counted / need, 4) if need else 0.0
    return EvidenceMark(tuple(lines), counted, need, float(points), float(score))


def _mark_one(
    number: int,
    item: object,
    *,
    corpus: Any,
    patterns: Sequence[re.Pattern[str]],
    must_mention: Sequence[str],
    min_words: int,
) -> EvidenceLine:
    if type(item) not in (tuple, list) or len(item) != 2:  # type: ignore[arg-type]
        return EvidenceLine(
            number,
            "",
            "",
            False,
            "malformed",
            f'Item {number} should be a pair ("quotation", "source"); it is '
            f"{_a(_describe(item))}: {_safe_repr(item)}.",
        )
    assert isinstance(item, (tuple, list))
    raw_quote, raw_source = item[0], item[1]
    if type(raw_quote) is not str or type(raw_source) is not str:
        return EvidenceLine(
            number,
            "",
            "",
            False,
            "malformed",
            f"Item {number}: the quotation and the source should both be text (str).",
        )
    quote = raw_quote.strip(_QUOTE_MARKS)
    source = raw_source.strip()
    if not source:
        return EvidenceLine(
            number,
            quote,
            source,
            False,
            "no source",
            "No source given: name the source it is from (its id, e.g. worth-watching).",
        )
    words = source_words(quote)
    if len(words) < min_words:
        own = len(WORD_PATTERN.findall(quote)) - len(WORD_PATTERN.findall(_unbracketed(quote)))
        why = f" (your [bracketed] words do not count: {own} of them)" if own else ""
        return EvidenceLine(
            number,
            quote,
            source,
            False,
            "too short",
            f"A quotation needs at least {_count(min_words, 'word')} of the source's own to count "
            f"as evidence; it has {len(words)}{why}.",
        )
    try:
        verdict = verify(quote, cited_source(source, corpus), corpus=corpus)
    except UnknownSourceError as error:
        return EvidenceLine(
            number,
            quote,
            source,
            False,
            "unknown source",
            f"{error.args[0] if error.args else error}. Name the source as lesson 00 teaches: "
            f"its id, its author's surname or words of its title, optionally with a locator "
            f'after a comma ("Glass, ¶5"). The sources are: {", ".join(corpus.ids)}.',
        )
    if verdict.status is not Status.VERIFIED:
        return EvidenceLine(
            number, quote, source, False, str(verdict.status), verdict.message, verdict
        )
    if patterns and not any(p.search(quote) for p in patterns):
        return EvidenceLine(
            number,
            quote,
            source,
            False,
            "off the claim",
            f"Verified, but it mentions none of {', '.join(must_mention)}, so it does not "
            "support this claim as the task defines it.",
            verdict,
        )
    return EvidenceLine(number, quote, source, True, "verified", verdict.message, verdict)


_BRACKETED: Final = re.compile(r"\[[^\]]*\]")
_SOURCE_WORD: Final = re.compile(r"\w+(?:['’ʼ\-‐‑]\w+)*")


def _unbracketed(quote: str) -> str:
    return _BRACKETED.sub(" ", quote)


def source_words(quote: str) -> list[str]:
    """The source's own words in a quotation: not the student's ``[bracketed]`` insertions, and a
    hyphenated word (``one-eighty``, ``body-horror``) is one word."""
    return _SOURCE_WORD.findall(_unbracketed(quote))


def cited_source(citation: str, corpus: Any) -> str:
    """The id of the source an evidence pair names, read as lesson 00 teaches citations: the
    id (any capitals, spaces for hyphens: ``Nothing Perfect``), the author's surname or words
    of the title, in parentheses or not, optionally followed by a locator after a comma
    (``Glass, ¶5``, ``(perfection-explained, ¶6)``). Raises ``UnknownSourceError`` (from
    the corpus, saying why) when none of these names one source."""
    text = citation.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    attempts = [text]
    if "," in text:  # a locator after the source
        attempts.append(text.split(",", 1)[0].strip())
    for attempt in list(attempts):
        as_id = "-".join(attempt.split()).casefold()
        if as_id in corpus.ids:
            return str(as_id)
    first_error: UnknownSourceError | None = None
    for attempt in attempts:
        try:
            return str(corpus.resolve(attempt))
        except UnknownSourceError as error:
            first_error = first_error or error
    assert first_error is not None
    raise first_error


def _check_overlap_and_limits(
    line: EvidenceLine,
    counted: list[tuple[int, str, int, int]],
    per_source: dict[str, int],
    max_per_source: int | None,
    need: int,
) -> EvidenceLine:
    assert line.verdict is not None
    attributed = line.verdict.attributed_to or ""
    own = [m for m in line.verdict.matches if m.source == attributed] or list(line.verdict.matches)
    if len(counted) >= need:
        return _not_counted(
            line, f"Verified, but the task asks for {need}; the first {need} count."
        )
    for number, source, start, end in counted:
        if any(m.source == source and m.start < end and start < m.end for m in own):
            return _not_counted(
                line, f"Verified, but it overlaps quotation {number}: a passage counts once."
            )
    if max_per_source is not None and per_source.get(attributed, 0) >= max_per_source:
        return _not_counted(
            line,
            f"Verified, but {max_per_source} quotations from {attributed} already count: "
            "the task asks for evidence from several sources.",
        )
    first = own[0]
    counted.append((line.number, first.source, first.start, first.end))
    per_source[attributed] = per_source.get(attributed, 0) + 1
    return line


def _not_counted(line: EvidenceLine, message: str) -> EvidenceLine:
    return EvidenceLine(
        line.number, line.quote, line.source, False, "not counted", message, line.verdict
    )


def mark_evidence(
    answers: object,
    *,
    points: float,
    need: int,
    claim: str = "",
    must_mention: Sequence[str] = (),
    max_per_source: int | None = None,
    min_words: int = MIN_QUOTATION_WORDS,
) -> float:
    """Print the marking of an evidence answer, one line per quotation; return the score.

    Used as the last line of an nbgrader test cell, the returned number is the cell's partial
    credit. See :func:`evidence_marks` for what counts.
    """
    marks = evidence_marks(
        answers,
        points=points,
        need=need,
        must_mention=must_mention,
        max_per_source=max_per_source,
        min_words=min_words,
    )
    print(marks.report(claim))
    return float(marks.score)


# ---------------------------------------------------------------------------------------------
# Essays: every quotation of a markdown answer cell


@dataclass(frozen=True)
class EssayCheck:
    grade_id: str
    notebook: Path | None
    answered: bool
    results: tuple[Any, ...]  # filmkit.check.CheckedQuotation
    min_sources: int

    @property
    def cited_sources(self) -> list[str]:
        seen: list[str] = []
        for r in self.results:
            s = r.quotation.source
            if s and r.verdict.verified and s not in seen:
                seen.append(s)
        return seen

    def report(self) -> str:
        if self.notebook is None:
            return (
                f"Could not find the notebook holding the answer cell {self.grade_id!r} in "
                f"{Path.cwd()}: save the notebook and run this cell again."
            )
        if not self.answered:
            return "No answer yet: write your answer in the cell above, save, and run this cell."
        if not self.results:
            return (
                "No quotations found in your answer. Quote the sources in double quotation marks "
                "and cite each with a parenthetical naming the source, e.g. (worth-watching)."
            )
        out = [f"Evidence check: {len(self.results)} quotation(s) in your answer."]
        for n, r in enumerate(self.results, 1):
            q = r.quotation
            if q.source is None:
                status = "no citation"
                message = (
                    "Add a parenthetical naming the source it is from. "
                    + (f"(Citation: {q.citation_problem}.) " if q.citation_problem else "")
                    + r.verdict.message
                )
                ok = False
            else:
                status, message, ok = str(r.verdict.status), r.verdict.message, r.verdict.verified
            shown = _shorten(q.text)
            cite = f" ({q.citation})" if q.citation else ""
            out.append(f"{n:2d}. {'✓' if ok else '✗'} {status}: “{shown}”{cite}, {r.where}")
            out.append(f"      {message}")
        verified = sum(1 for r in self.results if r.quotation.source and r.verdict.verified)
        cited = self.cited_sources
        line = f"{verified} of {len(self.results)} verified in the source cited"
        line += f"; sources quoted accurately: {', '.join(cited) or 'none'} ({len(cited)})"
        if self.min_sources and len(cited) < self.min_sources:
            line += f": the task asks for at least {self.min_sources}"
        out.append(line + ".")
        return "\n".join(out)


def find_answer_cell(grade_id: str, notebook: Path | None = None) -> tuple[Path, str] | None:
    """The notebook and source of the cell with nbgrader ``grade_id``.

    Looked for in ``notebook`` if given, else in the notebook JupyterLab started this kernel for
    (``$JPY_SESSION_NAME``), then in the notebooks of the working directory (where nbgrader runs
    a notebook it validates or autogrades). The notebook is read as last saved.
    """
    candidates: list[Path] = []
    if notebook is not None:
        candidates.append(notebook)
    else:
        session = os.environ.get("JPY_SESSION_NAME", "")
        grading = bool(os.environ.get("NBGRADER_EXECUTION"))
        if session.endswith(".ipynb") and not grading:
            candidates.append(Path(session))
        candidates.extend(sorted(Path.cwd().glob("*.ipynb")))
    for path in candidates:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade_id") == grade_id:
                source = cell.get("source", "")
                return path, "".join(source) if isinstance(source, list) else str(source)
    return None


def essay_check(grade_id: str, *, min_sources: int = 0, notebook: Path | None = None) -> EssayCheck:
    """Check every quotation of the markdown answer cell ``grade_id`` (see :func:`evidence_report`)."""
    from filmkit.check import check_markdown

    found = find_answer_cell(grade_id, notebook)
    if found is None:
        return EssayCheck(grade_id, None, False, (), min_sources)
    path, text = found
    answered = bool(text.strip()) and text.strip() != BLANK_ANSWER
    if not answered:
        return EssayCheck(grade_id, path, False, (), min_sources)
    with _quiet():
        results = tuple(check_markdown(text))
    return EssayCheck(grade_id, path, True, results, min_sources)


def evidence_report(grade_id: str, *, min_sources: int = 0, notebook: Path | None = None) -> None:
    """Print the check of every quotation in the essay cell ``grade_id``.

    For the student while writing (it reads the notebook as last saved: save first), and for the
    marker in formgrader and the student in feedback, where it shows the run at grading time.
    """
    print(essay_check(grade_id, min_sources=min_sources, notebook=notebook).report())


__all__ = [
    "AnswerError",
    "EssayCheck",
    "EvidenceLine",
    "EvidenceMark",
    "essay_check",
    "evidence_marks",
    "evidence_report",
    "find_answer_cell",
    "frame",
    "mark_evidence",
    "plain",
    "same_frame",
    "same_series",
    "same_value",
    "series",
    "value",
]
