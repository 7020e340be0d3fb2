"""What the assignments' test cells call: answer checks, evidence marking, essay evidence reports.

These run inside the student's kernel: when the student runs a test cell, when nbgrader validates
a notebook, and when nbgrader autogrades it. So they print to standard output only (nbgrader
scores a test cell that writes to standard error as 0) and return plain Python values.

Answer checks (``frame``, ``series``, ``value`` for the visible checks; ``same_frame``,
``same_series``, ``same_value`` and ``same_lowest`` for the hidden ones) accept only genuine
pandas objects and plain Python values (an object that claims to equal everything is refused for
its type), and raise :class:`AnswerError` with a message that says what is wrong *without* giving
the expected values: the message reaches the student's feedback. They apply one rule for what
counts as right (assignments/README.md, "What counts as a right answer"):

* **Dtype.** Numbers count as numbers whatever holds them: any integer or float dtype, a float
  holding a whole number where an int is expected, an ``object`` column of Python or NumPy
  numbers (what filling ``pd.DataFrame(index=..., columns=...)`` cell by cell with ``.loc``
  gives). A value that is not a number (text such as ``"3"``, True/False, another object) is
  refused, and the message says how to fix it (``.astype(int)``).
* **Precision.** Without ``decimals`` numbers compare to a relative tolerance (``rtol``, float
  noise); with ``decimals=d`` an answer may be rounded to ``d`` decimals, the precision the
  notebook displays for that value: ``|answer - expected| <= 0.5 * 10**-d`` plus float slack.
  Messages say when values differ only by being rounded more coarsely than that, and when they
  are plainly wrong.
* **Several right answers.** ``same_value(..., one_of=True)`` accepts any of a list of right
  answers; ``same_lowest`` accepts any right answer to "the n rows with the lowest score" when
  rows tie at the cut-off (:func:`lowest_choices` lists them), and returns the rows the answer
  chose, so that a question building on it is marked on the student's own choice.
* **Order.** Column, row and list order are checked only when asked for (``column_order``,
  ``row_order``, ``order``): the test cell asks for an order exactly where the question fixes
  one, and its visible part then checks it too.
* **Containers.** Where a list is asked for, any sequence of its items counts: a tuple, a 1-D
  NumPy or pandas array (what ``.unique()`` returns), a pandas Index or Series (its values, in
  order). A set (no order) does not.

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
    if _is_numpy(value, np.str_):
        return str(value)
    if kind in (list, tuple):
        return [plain(v) for v in value]  # type: ignore[attr-defined]
    raise TypeError(kind.__name__)


def _describe(value: object) -> str:
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"{module}{kind.__qualname__}"


_SLACK: Final = 1e-9  # float arithmetic's own noise, allowed on top of any rounding


def _allowance(expected: Any, decimals: int) -> Any:
    """How far an answer rounded to ``decimals`` decimals may be from ``expected``."""
    return 0.5 * 10.0**-decimals + _SLACK * (1 + np.abs(expected))


def _close(got: Any, want: Any, rtol: float, decimals: int | None) -> Any:
    """Where ``got`` equals ``want`` (as floats): to ``decimals`` decimals when given (within half
    a unit of the last decimal kept, plus float slack), else to the relative tolerance ``rtol``.
    A missing value (NaN) equals only a missing value."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    with np.errstate(invalid="ignore"):
        if decimals is None:
            same = np.isclose(got, want, rtol=rtol, atol=_SLACK)
        else:
            same = np.abs(got - want) <= _allowance(want, decimals)
    return same | (np.isnan(got) & np.isnan(want))


def _coarser(got: Any, want: Any, decimals: int | None) -> Any:
    """Where ``got`` is ``want`` rounded to fewer decimals than ``decimals`` allows (0 up to
    ``decimals - 1`` of them; without ``decimals``, any rounding to fewer than 10)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    found = np.zeros(got.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for k in range(10 if decimals is None else decimals):
            scaled = got * 10.0**k
            holds_k_decimals = np.abs(scaled - np.round(scaled)) <= 1e-6
            found |= holds_k_decimals & (np.abs(got - want) <= _allowance(want, k))
    return found


def _keep(decimals: int | None) -> str:
    """What to do about values rounded too coarsely."""
    if decimals is None:
        return "do not round them (this question asks for full precision)"
    return f"keep at least {_count(decimals, 'decimal')}"


def _equal(
    answer: object,
    expected: object,
    rtol: float,
    decimals: int | None = None,
    order: bool = True,
) -> bool:
    numbers = (int, float)
    kinds = (type(answer), type(expected))
    if kinds[0] in numbers and kinds[1] in numbers and (float in kinds or decimals is not None):
        return bool(_close(answer, expected, rtol, decimals))
    if type(answer) is list and type(expected) is list:
        if len(answer) != len(expected):
            return False
        if order:
            return all(_equal(a, e, rtol, decimals) for a, e in zip(answer, expected, strict=True))
        left = list(answer)
        for e in expected:
            match = next((i for i, a in enumerate(left) if _equal(a, e, rtol, decimals)), None)
            if match is None:
                return False
            del left[match]
        return True
    return type(answer) is type(expected) and answer == expected


_LIST_LIKE_PANDAS: Final = (pd.Index, pd.RangeIndex, pd.Series)


def _one_dimensional(value: object) -> bool:
    """A genuine 1-D NumPy array, pandas Index, Series or array (what ``.unique()`` returns for
    text), not a look-alike defined elsewhere."""
    if isinstance(value, np.ndarray) and type(value) is np.ndarray:
        return value.ndim == 1
    if isinstance(value, pd.api.extensions.ExtensionArray):
        return type(value).__module__.startswith("pandas.")
    return isinstance(value, pd.Index | pd.Series) and type(value) in _LIST_LIKE_PANDAS


def _sequence(value: object) -> list[object] | None:
    """The items of a list-like ``value`` as plain values, or None when it is not list-like: a
    list, a tuple, a 1-D NumPy or pandas array, a pandas Index or Series (its values, in order).
    Raises :class:`TypeError` (naming its type) for an item that is not plain."""
    items: list[object]
    if isinstance(value, list | tuple) and type(value) in (list, tuple):
        items = list(value)
    elif _one_dimensional(value):
        items = value.tolist()  # type: ignore[attr-defined]
    else:
        return None
    return [plain(v) for v in items]


def value(answer: object, *, name: str, kind: type | tuple[type, ...]) -> object:
    """Visible check: ``answer`` is a plain value of ``kind`` (e.g. ``str``, ``int``, ``list``).

    Read as the hidden check reads it, and returned so converted: a NumPy scalar is its Python
    value, a float holding a whole number is an int where an int is asked for (``4.0`` is ``4``),
    and a list may be given as any sequence of its items (a tuple, a 1-D NumPy or pandas array,
    a pandas Index or Series). Text where a number is asked for (``"4"``), a set where a list is (a set has
    no order), True/False where a number is, or an object that is not plain is refused, with a
    message saying how to fix it.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(answer) in (set, frozenset) and list in kinds:
        raise AnswerError(
            f"{name} should be a list; it is {_a(_describe(answer))}, which has no order: make "
            "it a list, in the order the question asks for."
        )
    try:
        items = _sequence(answer) if list in kinds else None
        converted = items if items is not None else plain(answer)
    except TypeError as error:
        holding = (
            f" holding {_a(str(error))}" if error.args and type(answer) in (list, tuple) else ""
        )
        raise AnswerError(
            f"{name} should be a plain Python {_kind_name(kind)}; it is "
            f"{_a(_describe(answer))}{holding}."
        ) from None
    if int in kinds and float not in kinds and type(converted) is float and converted.is_integer():
        converted = int(converted)
    if type(converted) in kinds and not (type(converted) is bool and bool not in kinds):
        return converted
    hint = ""
    if type(converted) is str and (int in kinds or float in kinds):
        to = "int" if int in kinds else "float"
        hint = f" (text): write the number without quotation marks, or convert it with {to}(...)"
    elif type(converted) is float and int in kinds:
        hint = " that is not a whole number"
    elif type(converted) is bool:
        hint = " (True/False), not a number" if int in kinds or float in kinds else ""
    raise AnswerError(
        f"{name} should be {_a(_kind_name(kind))}; it is {_a(_describe(answer))}{hint}."
    )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "an int", "a list", "a pandas DataFrame"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _count(n: int, noun: str) -> str:
    """ "1 row", "3 rows"."""
    return f"{n} {noun if n == 1 else noun + 's'}"


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def _differ(n: int) -> str:
    return "differs" if n == 1 else "differ"


def same_value(
    answer: object,
    expected: Any,
    *,
    name: str,
    rtol: float = 1e-6,
    decimals: int | None = None,
    order: bool = True,
    one_of: bool = False,
) -> None:
    """Hidden check: ``answer`` equals ``expected``, read as :func:`value` reads it.

    Numbers compare as numbers whatever their type, to ``decimals`` decimals when given (see
    :func:`same_frame`), else to ``rtol``; text compares exactly; a list may be any sequence of
    its items, which must be in order (in any order when ``order`` is false). With ``one_of``,
    ``expected`` is a list of the right answers (a question that has several) and ``answer``
    must equal one of them.
    """
    rights = [plain(e) for e in expected] if one_of else [plain(expected)]
    as_list = any(type(r) is list for r in rights)
    try:
        items = _sequence(answer) if as_list else None
        converted = items if items is not None else plain(answer)
    except TypeError:
        raise AnswerError(
            f"{name} should be a plain Python value; it is {_a(_describe(answer))}."
        ) from None
    if any(_equal(converted, r, rtol, decimals, order) for r in rights):
        return
    if type(converted) is list and all(
        type(r) is list and len(r) != len(converted) for r in rights
    ):
        raise AnswerError(
            f"{name} has {_count(len(converted), 'item')}; the sources give a different number."
        )
    numbers = (int, float)
    if type(converted) in numbers and any(
        type(r) in numbers and bool(_coarser(converted, r, decimals)) for r in rights
    ):
        raise AnswerError(
            f"{name} is rounded more coarsely than this question allows: {_keep(decimals)}."
        )
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
    column_order: bool = True,
    numbers: bool | Sequence[str] = False,
) -> pd.DataFrame:
    """Visible check: a DataFrame with these ``columns`` (in this order; in any order when
    ``column_order`` is false), this ``index`` (its row labels, in this order) and this number of
    ``rows``, whose columns named in ``numbers`` (``True``: every column) hold numbers as the
    hidden check reads them (see :func:`same_frame`): text digits, True/False or other objects
    there are refused, with the fix. Returns ``answer``."""
    if type(answer) is not pd.DataFrame:
        raise AnswerError(f"{name} should be a pandas DataFrame; it is {_a(_describe(answer))}.")
    if columns is not None:
        _same_labels(answer.columns, columns, f"{name}'s columns", ordered=column_order)
    if index is not None:
        _same_labels(answer.index, index, f"{name}'s index (its row labels)")
    if rows is not None and len(answer) != rows:
        raise AnswerError(f"{name} should have {_count(rows, 'row')}; it has {len(answer)}.")
    for column in dict.fromkeys(answer.columns if numbers is True else numbers or ()):
        spots = [i for i, label in enumerate(answer.columns) if label == column]
        if not spots:
            raise AnswerError(f"{name}'s columns: missing {column!r}.")
        for i in spots:
            _numbers(answer.iloc[:, i], name, column)
    return answer


def series(
    answer: object,
    *,
    name: str,
    index: Sequence[object] | None = None,
    length: int | None = None,
    numbers: bool = False,
) -> pd.Series:
    """Visible check: a Series with this ``index`` (its labels, in this order) or ``length``,
    holding numbers when ``numbers`` is true (as :func:`frame` checks them). Returns ``answer``."""
    if type(answer) is not pd.Series:
        raise AnswerError(f"{name} should be a pandas Series; it is {_a(_describe(answer))}.")
    if index is not None:
        _same_labels(answer.index, index, f"{name}'s index (its labels)")
    if length is not None and len(answer) != length:
        raise AnswerError(f"{name} should have {length} values; it has {len(answer)}.")
    if numbers:
        _numbers(answer, name)
    return answer


def _labels(labels: pd.Index, what: str) -> list[object]:
    try:
        return [plain(v) for v in labels]
    except TypeError as error:
        raise AnswerError(
            f"{what}: labels of type {error} cannot be compared; use text (or numbers)."
        ) from None


def _same_labels(
    actual: pd.Index, wanted: Sequence[object], what: str, *, ordered: bool = True
) -> None:
    """``actual`` holds the labels ``wanted``, each once, in its order (in any when not
    ``ordered``); else an :class:`AnswerError` saying which are missing, extra, repeated or in
    another order (the labels, never values, are named)."""
    got = _labels(actual, what)
    want = [plain(v) for v in wanted]
    if got == want:
        return
    repeated = [g for i, g in enumerate(got) if g in got[:i] and g not in got[i + 1 :]]
    missing = [w for w in want if w not in got]
    extra = [g for g in got if g not in want]
    if missing or extra or repeated:
        parts = []
        if missing:
            parts.append(f"missing {_list(missing)}")
        if extra:
            parts.append(f"unexpected {_list(extra)}")
        if repeated:
            parts.append(f"{_list(repeated)} more than once")
        raise AnswerError(f"{what}: {'; '.join(parts)}.")
    if ordered:
        raise AnswerError(f"{what} are the right ones but in another order: {_list(want)}.")


def _positions(actual: pd.Index, wanted: Sequence[object], what: str) -> list[int]:
    """Where each of ``wanted`` is in ``actual`` (the same labels, each once, in another order)."""
    got = _labels(actual, what)
    return [got.index(plain(w)) for w in wanted]


def _list(items: Sequence[object], limit: int = 6) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _numbers(values: pd.Series, name: str, column: object = None) -> Any:
    """``values`` as an array of floats, converted losslessly: any integer or float dtype, or an
    ``object`` (or text) column holding Python or NumPy ints and floats, missing values as NaN.
    Raises :class:`AnswerError` saying what is not a number, and the fix."""
    where = name if column is None else f"{name}[{column!r}]"
    dtype = values.dtype
    types = pd.api.types
    if types.is_bool_dtype(dtype):
        raise AnswerError(f"{where} holds True/False values where numbers are asked for.")
    if types.is_complex_dtype(dtype):
        raise AnswerError(f"{where} holds complex numbers; use real numbers (int or float).")
    if types.is_numeric_dtype(dtype):
        with _quiet():
            return values.to_numpy(dtype=float, na_value=np.nan)
    if not types.is_object_dtype(dtype) and not types.is_string_dtype(dtype):
        raise AnswerError(
            f"{where} should hold numbers; it holds {dtype} values: convert them with "
            ".astype(int) or .astype(float)."
        )
    out = np.empty(len(values), dtype=float)
    for i, v in enumerate(values.to_numpy(dtype=object)):
        if _missing(v):
            out[i] = np.nan
        elif type(v) in (int, float) or _is_numpy(v, np.integer) or _is_numpy(v, np.floating):
            out[i] = float(v)
        elif type(v) is str or _is_numpy(v, np.str_):
            raise AnswerError(_text_for_numbers(where, values))
        elif type(v) is bool or _is_numpy(v, np.bool_):
            raise AnswerError(f"{where} holds True/False values where numbers are asked for.")
        else:
            raise AnswerError(f"{where} holds {_a(_describe(v))}; use plain numbers.")
    return out


def _text_for_numbers(where: str, values: pd.Series) -> str:
    texts = [str(v) for v in values.to_numpy(dtype=object) if isinstance(v, str)]
    for convert in (int, float):
        try:
            for text in texts:
                convert(text)
        except ValueError:
            continue
        return (
            f"{where} holds numbers as text ({values.dtype} dtype): use "
            f".astype({convert.__name__})."
        )
    return f"{where} holds text where numbers are asked for: compute the numbers themselves."


def same_frame(
    answer: object,
    expected: pd.DataFrame,
    *,
    name: str,
    ignore_index: bool = False,
    column_order: bool = True,
    row_order: bool = True,
    rtol: float = 1e-6,
    decimals: int | None = None,
) -> None:
    """Hidden check: ``answer`` holds the same columns, row labels and values as ``expected``.

    Numbers compare as numbers whatever their dtype (converted losslessly: an ``object`` column of
    ints counts, text digits do not), to ``decimals`` decimals when given (the answer may be
    rounded to that many: ``|answer - expected| <= 0.5 * 10**-decimals`` plus float slack), else
    to the relative tolerance ``rtol``; text compares exactly. The columns must be in
    ``expected``'s order unless ``column_order`` is false (then they are matched by label), the
    rows likewise with ``row_order`` (matched by row label). With ``ignore_index`` the row
    labels do not matter and the rows compare in order. The message says how many values differ
    and where the first is, and separately how many differ only by being rounded more coarsely
    than ``decimals`` allows.
    """
    frame(answer, name=name)
    assert isinstance(answer, pd.DataFrame)
    columns = list(expected.columns)
    _same_labels(answer.columns, columns, f"{name}'s columns", ordered=column_order)
    if len(answer) != len(expected):
        raise AnswerError(
            f"{name} has {_count(len(answer), 'row')}; the sources give a different number of rows."
        )
    if not column_order:
        answer = answer.iloc[:, _positions(answer.columns, columns, f"{name}'s columns")]
    if not ignore_index:
        what = f"{name}'s index (its row labels)"
        _same_labels(answer.index, list(expected.index), what, ordered=row_order)
        if not row_order:
            answer = answer.iloc[_positions(answer.index, list(expected.index), what)]
    wrong: list[tuple[object, object]] = []
    coarse = 0
    for position, column in enumerate(columns):
        mask, rounded = _differences(
            answer.iloc[:, position], expected.iloc[:, position], name, column, rtol, decimals
        )
        wrong.extend((expected.index[int(i)], column) for i in np.flatnonzero(mask & ~rounded))
        coarse += int(rounded.sum())
    if not wrong and not coarse:
        return
    total = expected.shape[0] * expected.shape[1]
    if not wrong:
        raise AnswerError(
            f"{name}: {coarse} of {total} values {_be(coarse)} rounded more coarsely than this question "
            f"allows: {_keep(decimals)}."
        )
    first_row, first_column = wrong[0]
    where = (
        f"column {first_column!r}"
        if ignore_index
        else f"row {first_row!r}, column {first_column!r}"
    )
    rounding = (
        f"; {coarse} more {_differ(coarse)} only by rounding: {_keep(decimals)}" if coarse else ""
    )
    raise AnswerError(
        f"{name}: {len(wrong)} of {total} values differ from what the sources give "
        f"(the first in {where}){rounding}."
    )


def same_series(
    answer: object,
    expected: pd.Series,
    *,
    name: str,
    ignore_index: bool = False,
    row_order: bool = True,
    rtol: float = 1e-6,
    decimals: int | None = None,
) -> None:
    """Hidden check: ``answer`` holds the same labels and values as ``expected`` (its name is
    ignored), compared as :func:`same_frame` compares a column."""
    series(answer, name=name)
    assert isinstance(answer, pd.Series)
    if len(answer) != len(expected):
        raise AnswerError(
            f"{name} has {len(answer)} values; the sources give a different number of values."
        )
    if not ignore_index:
        what = f"{name}'s index (its labels)"
        _same_labels(answer.index, list(expected.index), what, ordered=row_order)
        if not row_order:
            answer = answer.iloc[_positions(answer.index, list(expected.index), what)]
    mask, rounded = _differences(answer, expected, name, None, rtol, decimals)
    wrong = np.flatnonzero(mask & ~rounded)
    coarse = int(rounded.sum())
    if not len(wrong) and not coarse:
        return
    if not len(wrong):
        raise AnswerError(
            f"{name}: {coarse} of {len(expected)} values {_be(coarse)} rounded more coarsely than this "
            f"question allows: {_keep(decimals)}."
        )
    where = "" if ignore_index else f" (the first at {expected.index[int(wrong[0])]!r})"
    rounding = (
        f"; {coarse} more {_differ(coarse)} only by rounding: {_keep(decimals)}" if coarse else ""
    )
    raise AnswerError(
        f"{name}: {len(wrong)} of {len(expected)} values differ from what the sources "
        f"give{where}{rounding}."
    )


def _differences(
    answer: pd.Series,
    expected: pd.Series,
    name: str,
    column: object,
    rtol: float,
    decimals: int | None,
) -> tuple[Any, Any]:
    """Two boolean arrays, by position (same length): where ``answer`` differs from ``expected``,
    and where it differs only by being rounded more coarsely than ``decimals`` allows."""
    if pd.api.types.is_numeric_dtype(expected.dtype) and not pd.api.types.is_bool_dtype(
        expected.dtype
    ):
        got = _numbers(answer, name, column)
        want = expected.to_numpy(dtype=float, na_value=np.nan)
        differ = ~_close(got, want, rtol, decimals)
        return differ, differ & _coarser(got, want, decimals)
    where = name if column is None else f"{name}[{column!r}]"
    got_values = list(answer.to_numpy(dtype=object))
    want_values = list(expected.to_numpy(dtype=object))
    out = np.zeros(len(want_values), dtype=bool)
    for i, (g, w) in enumerate(zip(got_values, want_values, strict=True)):
        if _missing(w):
            out[i] = not _missing(g)
            continue
        try:
            out[i] = not _equal(plain(g), plain(w), rtol, decimals)
        except TypeError:
            raise AnswerError(
                f"{where} holds {_a(_describe(g))}; use plain values (text, numbers)."
            ) from None
    return out, np.zeros(len(want_values), dtype=bool)


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (type(v) is float and math.isnan(v))


# ---------------------------------------------------------------------------------------------
# Several right answers: the rows with the lowest score, ties at the cut-off


def lowest_choices(table: pd.DataFrame, *, n: int, by: str) -> list[pd.DataFrame]:
    """Every right answer to "the ``n`` rows of ``table`` with the lowest ``by``, lowest first".

    Each holds every row strictly below the ``n``-th lowest value of ``by``, then one choice,
    among the rows tied at that value, of as many as complete the ``n`` (rows of equal ``by`` in
    ``table``'s order; the first choice is the one ``table.nsmallest(n, by)`` makes). Without a
    tie at the cut-off there is one right answer.
    """
    from itertools import combinations

    ordered = table.sort_values(by, kind="stable")
    if len(ordered) <= n:
        return [ordered]
    cut = ordered[by].iloc[n - 1]
    below = ordered[ordered[by] < cut]
    tied = ordered[ordered[by] == cut]
    return [
        pd.concat([below, tied.iloc[list(pick)]])
        for pick in combinations(range(len(tied)), n - len(below))
    ]


def same_lowest(
    answer: object,
    table: pd.DataFrame,
    *,
    n: int,
    by: str,
    name: str,
    columns: Sequence[str] | None = None,
    decimals: int | None = None,
) -> pd.DataFrame:
    """Hidden check: ``answer`` is one of the right answers :func:`lowest_choices` gives.

    ``answer`` holds ``columns`` (default: all of ``table``'s) in any order; its row labels do not
    matter; its rows are lowest ``by`` first, rows of equal ``by`` in any order. A row is known
    by its values in the other columns (e.g. source and paragraph); values compare as in
    :func:`same_frame`. Returns the rows of ``table`` the answer chose, in its order, with all
    of ``table``'s columns: a question that builds on the choice is marked on it.
    """
    wanted = list(columns) if columns is not None else list(table.columns)
    frame(answer, name=name)
    assert isinstance(answer, pd.DataFrame)
    _same_labels(answer.columns, wanted, f"{name}'s columns", ordered=False)
    if len(answer) != n:
        raise AnswerError(f"{name} has {_count(len(answer), 'row')}; the question asks for {n}.")
    choices = lowest_choices(table, n=n, by=by)
    chosen = _choice_named(answer, choices, [c for c in wanted if c != by])
    expected = chosen if chosen is not None else choices[0]
    same_frame(
        answer,
        expected[wanted],
        name=name,
        ignore_index=True,
        column_order=False,
        decimals=decimals,
    )
    if not expected[by].is_monotonic_increasing:
        raise AnswerError(f"{name}: put the rows in order, the lowest {by} first.")
    return expected


def _choice_named(
    answer: pd.DataFrame, choices: Sequence[pd.DataFrame], keys: Sequence[str]
) -> pd.DataFrame | None:
    """The choice whose rows ``answer`` names by their ``keys`` values (each once), reordered as
    ``answer`` lists them; None when the answer names the rows of none of them."""
    try:
        named = [
            tuple(plain(v) for v in row)
            for row in answer[list(keys)].itertuples(index=False, name=None)
        ]
        for choice in choices:
            spots: dict[tuple[object, ...], list[int]] = {}
            for position, row in enumerate(choice[list(keys)].itertuples(index=False, name=None)):
                spots.setdefault(tuple(plain(v) for v in row), []).append(position)
            order = []
            for key in named:
                if not spots.get(key):
                    break
                order.append(spots[key].pop(0))
            else:
                return choice.iloc[order]
    except TypeError:  # a label that is not plain, or not hashable: same_frame says which
        return None
    return None


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
    surname or words of the title), has at least ``min_words`` of the source's own words
    (:func:`source_words`), mentions one of ``must_mention`` (when given; matched as
    :func:`filmkit.analysis.term_pattern` does), does not overlap a quotation already counted, and
    its source has fewer than ``max_per_source`` quotations counted so far. Each counts
    ``points / need``, up to ``need`` of them.

    Verified includes the bracket rules of :mod:`filmkit.evidence`: a quotation whose square
    brackets hold or stand for too many words, add a negation, a modal, a connective, a word of
    degree or of judgement, drop the source's negation or modal, or outnumber the source's
    words, is a near-miss and counts nothing; its message names the bracket and says what to do
    (quote the source's words, or put your own outside the quotation marks). So does the elision
    rule: an elision inside one sentence that cuts a negation, a modal or a word like *nearly*
    is a near-miss, and its message names the elision and the word it cut.
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
        own = len(_bracketed_words(quote))
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


def _inside_word(quote: str, bracket: re.Match[str]) -> bool:
    """``[T]he``: a bracket touching a word's letters marks changed letters of the source's word."""
    before, after = quote[bracket.start() - 1 : bracket.start()], quote[bracket.end() :][:1]
    return bool(re.match(r"\w", before) or re.match(r"\w", after))


def _unbracketed(quote: str) -> str:
    return _BRACKETED.sub(lambda b: b.group()[1:-1] if _inside_word(quote, b) else " ", quote)


def _bracketed_words(quote: str) -> list[str]:
    """The words of the writer's own ``[insertions]`` (not ``[T]he``'s changed letter)."""
    return [
        word
        for b in _BRACKETED.finditer(quote)
        if not _inside_word(quote, b)
        for word in _SOURCE_WORD.findall(b.group())
    ]


def source_words(quote: str) -> list[str]:
    """The source's own words in a quotation: not the student's ``[bracketed]`` insertions (a
    bracket inside a word, ``[T]he``, only changes a letter: the word is the source's), and a
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
    credit. See :func:`evidence_marks` for what counts (the bracket rules included): every
    quotation that does not count has a line saying which part to fix.
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

    Each quotation is checked by :func:`filmkit.evidence.verify`, under the same rules as an
    evidence answer's: a bracket that adds a claim or stands for too much, or an elision that
    cuts a negation or a modal out of a sentence, makes it a near-miss, and its line names the
    bracket or the elision and says what to fix.
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
    "lowest_choices",
    "mark_evidence",
    "plain",
    "same_frame",
    "same_lowest",
    "same_series",
    "same_value",
    "series",
    "value",
]
