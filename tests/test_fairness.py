"""One rule for what counts as right (assignments/README.md, "What counts as a right answer").

Students' answers written in their own styles, built here in code from ``filmkit.analysis`` and
the corpus (no expected value is pasted in), run through the real test cells of the source
notebooks as nbgrader scores them: a test cell that raises, or writes to standard error, scores
0; any other, its points. Right answers in any style score full points (a table filled cell by
cell with ``.loc``, values rounded to the decimals shown, the other choice at a tie, columns in
another order, a tuple for a list); plausible wrong ones score 0 (rounded more coarsely than
shown, a wrong count, numbers as text); whatever would lose marks for its form alone is caught
by the visible part of the cell, with the fix. And each rule a question states is the rule its
hidden test applies: 01's Part A counting rules are checked against ``analysis.find_terms`` on
the corpus.
"""

from __future__ import annotations

import functools
import io
import json
import re
import runpy
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest

from filmkit import analysis
from filmkit.corpus import Corpus, load_corpus
from filmkit.kernel import marking

from .conftest import REPO

SOURCE = REPO / "assignments" / "source"
NOTEBOOKS = {
    "01-genre-shifts": "genre-shifts",
    "02-mentorship-power": "mentorship-power",
    "03-critical-reception": "critical-reception",
}
HIDDEN = "### BEGIN HIDDEN TESTS"
GENRES = "01-genre-shifts"
MENTORS = "02-mentorship-power"
RECEPTION = "03-critical-reception"


# ---------------------------------------------------------------------------------------------
# The harness: a test cell of the source notebook, run on a student's values


@functools.cache
def cells_of(assignment: str) -> tuple[dict[str, Any], ...]:
    path = SOURCE / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
    return tuple(json.loads(path.read_text(encoding="utf-8"))["cells"])


def _source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def _meta(cell: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = cell.get("metadata", {}).get("nbgrader", {})
    return found


def cell(assignment: str, grade_id: str) -> dict[str, Any]:
    (found,) = [c for c in cells_of(assignment) if _meta(c).get("grade_id") == grade_id]
    return found


def question_of(assignment: str, answer_id: str) -> str:
    """The text of the question cell above the answer cell ``answer_id``."""
    question = ""
    for c in cells_of(assignment):
        if c["cell_type"] == "markdown" and "**Question" in _source(c):
            question = _source(c)
        if _meta(c).get("grade_id") == answer_id:
            return question
    raise LookupError(answer_id)


def analysis_tests(assignment: str) -> list[str]:
    return [
        _meta(c)["grade_id"]
        for c in cells_of(assignment)
        if _meta(c).get("grade") and HIDDEN in _source(c)
    ]


def _run(source: str, answers: dict[str, object]) -> tuple[str, str]:
    """(the failure, "" when none; what it printed) of ``source`` run on ``answers``."""
    namespace: dict[str, object] = {"__name__": "__main__", **answers}
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            exec(compile(source, "<test cell>", "exec"), namespace)
    except Exception as error:  # what nbgrader sees as an error output: the cell scores 0
        return f"{type(error).__name__}: {error}", out.getvalue()
    if err.getvalue():
        return f"standard error: {err.getvalue()}", out.getvalue()
    return "", out.getvalue()


@dataclass(frozen=True)
class Marked:
    points: float  # what nbgrader gives the test cell
    of: float  # the cell's points
    error: str  # why the whole cell fails ("" when it passes)
    visible: str  # why its visible part fails ("" when it passes)
    printed: str

    @property
    def full(self) -> bool:
        return self.points == self.of


def mark(assignment: str, grade_id: str, **answers: object) -> Marked:
    """Run the test cell ``grade_id`` on the student's ``answers``, as nbgrader scores it."""
    found = cell(assignment, grade_id)
    source = _source(found)
    assert HIDDEN in source, grade_id
    error, printed = _run(source, answers)
    visible, _ = _run(source.split(HIDDEN)[0], answers)
    of = float(_meta(found)["points"])
    return Marked(0.0 if error else of, of, error, visible, printed)


def assert_full(marked: Marked) -> None:
    assert marked.full and marked.error == "" and marked.visible == "", marked
    assert "✓" in marked.printed


def assert_caught_before_hand_in(marked: Marked, *fragments: str) -> None:
    """The answer loses the marks, and the visible check already said why, with the fix."""
    assert marked.points == 0 and marked.visible, marked
    for fragment in fragments:
        assert fragment in marked.visible, (fragment, marked.visible)


def assert_wrong(marked: Marked, *fragments: str) -> None:
    """A plausible wrong answer: 0 points, for the reason given."""
    assert marked.points == 0, marked
    for fragment in fragments:
        assert fragment in marked.error, (fragment, marked.error)


@pytest.fixture(scope="module")
def corpus_ids() -> list[str]:
    return list(load_corpus().ids)


# ---------------------------------------------------------------------------------------------
# Students' answers, written as students write them


def loc_filled(index: list[str], columns: list[str], count: Callable[[str, str], object]) -> Any:
    """The most common beginner pattern: an empty DataFrame filled cell by cell with ``.loc``."""
    table = pd.DataFrame(index=index, columns=columns)
    for row in index:
        for column in columns:
            table.loc[row, column] = count(row, column)
    return table


def genre_counts_by_loc(corpus: Corpus, *, as_python_int: bool = True) -> pd.DataFrame:
    found = analysis.find_terms(analysis.GENRE_TERMS)

    def count(source: str, label: str) -> object:
        n = ((found["source"] == source) & (found["label"] == label)).sum()
        return int(n) if as_python_int else n  # the sum is a NumPy int

    table = loc_filled(list(corpus.ids), list(analysis.GENRE_TERMS), count)
    assert set(table.dtypes) == {np.dtype(object)}
    return table


def first_positions(corpus: Corpus) -> pd.DataFrame:
    found = analysis.find_terms(analysis.GENRE_TERMS)
    found["position"] = found["start"] / found["source"].map(lambda s: len(corpus.text(s)))
    return found.pivot_table(
        index="source", columns="label", values="position", aggfunc="min"
    ).reindex(index=corpus.ids, columns=list(analysis.GENRE_TERMS))


def role_shares() -> pd.DataFrame:
    counts = analysis.term_counts(analysis.ROLE_TERMS)
    return counts.div(counts.sum(axis=1), axis=0)


def power_rates(corpus: Corpus) -> pd.Series:
    words = corpus.documents.set_index("id")["words"]
    return analysis.term_counts(analysis.POWER_TERMS).sum(axis=1) / words * 1000


def anton_tones() -> pd.Series:
    kwic = analysis.concordance("Anton", window=6)
    contexts = kwic["left"] + " " + kwic["keyword"] + " " + kwic["right"]
    kwic["compound"] = [analysis.sentiment(context)["compound"] for context in contexts]
    return kwic.groupby("source", sort=False)["compound"].mean()


def source_tones(corpus: Corpus) -> pd.Series:
    scores = analysis.paragraph_sentiment()
    return scores.groupby("source")["compound"].mean().reindex(corpus.ids)


def hedged(kwic: pd.DataFrame) -> pd.DataFrame:
    return kwic[kwic["left"].str.contains(r"\b(?:not|than)\b", case=False, regex=True)]


def glass_negative() -> pd.DataFrame:
    words = analysis.word_sentiment(sources=["play-it-again-lizzie"])
    return words[words["valence"] < 0]


DARKEST_COLUMNS = ["source", "paragraph", "compound"]


def darkest(keep: Literal["first", "last"]) -> pd.DataFrame:
    """The five darkest paragraphs as ``nsmallest`` picks them at a tie (``first`` or ``last``)."""
    return analysis.paragraph_sentiment().nsmallest(5, "compound", keep=keep)[DARKEST_COLUMNS]


def from_explainer(frame: pd.DataFrame) -> int:
    return int((frame["source"] == "perfection-explained").sum())


# ---------------------------------------------------------------------------------------------
# 1. Question text and reference agree


def counted_by_the_stated_rules(text: str, spellings: tuple[str, ...]) -> list[tuple[int, int]]:
    """The spans one label counts in ``text`` by the rules Part A states, implemented afresh:
    whole words, any case, a space also matching a hyphen, and within the label a longer
    spelling claiming its words first."""
    taken: list[tuple[int, int]] = []
    for spelling in sorted(spellings, key=len, reverse=True):
        words = [re.escape(w) for w in spelling.split(" ")]
        pattern = re.compile(r"(?<!\w)" + r"[\s\-‐‑–—]+".join(words) + r"(?!\w)", re.IGNORECASE)
        for m in pattern.finditer(text):
            if not any(m.start() < end and start < m.end() for start, end in taken):
                taken.append(m.span())
    return sorted(taken)


def test_part_a_states_each_counting_rule_the_reference_applies(corpus: Corpus) -> None:
    text = " ".join(_source(cell(GENRES, "part_a")).split())
    found = analysis.find_terms(analysis.GENRE_TERMS)
    counts = analysis.term_counts(analysis.GENRE_TERMS)
    hidden = _source(cell(GENRES, "test_genre_counts")).split(HIDDEN)[1]
    assert "_fa.term_counts(_fa.GENRE_TERMS)" in hidden  # the reference Question 1 is graded with

    # each label lists the spellings that count for it
    assert "`horror` counts *horror*, *horrifying* and *horrific*" in text
    horror = found[found["label"] == "horror"]
    assert set(horror["term"]) == {"horror", "horrifying", "horrific"}
    assert counts["horror"].sum() == len(horror)

    # whole words, any case
    assert "Matching is by whole words and ignores case" in text
    for row in found.itertuples():
        source_text = corpus.text(str(row.source))
        before = source_text[int(row.start) - 1 : int(row.start)]
        after = source_text[int(row.end) : int(row.end) + 1]
        assert not re.match(r"\w", before) and not re.match(r"\w", after), row
    assert any(
        t != s and t.casefold() == s.casefold()
        for t, s in zip(found["text"], found["term"], strict=True)
    )

    # a space also matches a hyphen
    assert "a space also matches a hyphen, so *body horror* finds *body-horror*" in text
    body = found[found["label"] == "body horror"]
    assert list(body["text"]) == ["body-horror"]

    # within one label, a longer spelling claims its words first
    assert "Within one label, a longer spelling claims its words first" in text
    assert "*horror-thriller* is counted once for thriller, not again as *thriller*" in text
    compound = found[(found["label"] == "thriller") & (found["term"] == "horror-thriller")]
    assert len(compound) == 1
    start, end = int(compound["start"].iloc[0]), int(compound["end"].iloc[0])
    same_source = found[found["source"] == compound["source"].iloc[0]]
    inside = same_source[(same_source["start"] < end) & (start < same_source["end"])]
    assert list(inside.loc[inside["label"] == "thriller", "term"]) == ["horror-thriller"]

    # labels are counted independently: a compound counts under both
    assert "Labels are counted independently of each other" in text
    assert "*body-horror* counts under body horror and again under horror" in text
    for label in ("body horror", "thriller"):
        for row in found[
            (found["label"] == label) & found["text"].str.contains("horror")
        ].itertuples():
            covers = found[
                (found["label"] == "horror")
                & (found["source"] == row.source)
                & (found["start"] >= row.start)
                & (found["end"] <= row.end)
            ]
            assert len(covers) == 1, row  # inside a horror-label occurrence, counted there too
    # ... as lesson 01 says
    lesson = json.loads((REPO / "course" / "01-genre-shifts.ipynb").read_text(encoding="utf-8"))
    said = " ".join("".join(c["source"]) for c in lesson["cells"] if c["cell_type"] == "markdown")
    assert "`body-horror` counts under body horror and under horror" in " ".join(said.split())

    # and nothing else: the reference counts exactly what these rules count
    for source in corpus.ids:
        for label, spellings in analysis.GENRE_TERMS.items():
            spans = counted_by_the_stated_rules(corpus.text(source), spellings)
            assert counts.loc[source, label] == len(spans), (source, label)


def test_every_precision_the_checks_allow_is_stated_and_shown() -> None:
    for assignment in NOTEBOOKS:
        for test_id in analysis_tests(assignment):
            answer_id = test_id.removeprefix("test_")
            hidden = _source(cell(assignment, test_id)).split(HIDDEN)[1]
            question = " ".join(question_of(assignment, answer_id).split())
            shown = _source(cell(assignment, answer_id)).split("### END SOLUTION")[1]
            allowed = set(re.findall(r"decimals=(\d+)", hidden))
            if not allowed:
                assert "decimals" not in question and ".round(" not in shown, test_id
                continue
            (decimals,) = allowed
            word = {"2": "two", "3": "three", "4": "four"}[decimals]
            assert f"right to {word} decimals (as shown under your answer" in question, test_id
            assert f".round({decimals})" in shown, test_id  # the notebook displays that precision


def test_every_order_the_checks_ignore_is_said_to_be_free() -> None:
    for assignment in NOTEBOOKS:
        for test_id in analysis_tests(assignment):
            answer_id = test_id.removeprefix("test_")
            hidden = _source(cell(assignment, test_id)).split(HIDDEN)[1]
            question = " ".join(question_of(assignment, answer_id).split())
            if "column_order=False" in hidden or re.search(
                rf"same_lowest\(\s*{answer_id},", hidden
            ):
                assert (
                    "the order of the columns do not matter" in question
                    or "(in any order)" in question
                ), test_id


# ---------------------------------------------------------------------------------------------
# 2. Dtype: the right values count, whatever holds them


def test_a_table_filled_cell_by_cell_with_loc_counts(corpus: Corpus) -> None:
    assert_full(mark(GENRES, "test_genre_counts", genre_counts=genre_counts_by_loc(corpus)))
    numpy_ints = genre_counts_by_loc(corpus, as_python_int=False)
    assert_full(mark(GENRES, "test_genre_counts", genre_counts=numpy_ints))
    roles = analysis.find_terms(analysis.ROLE_TERMS)
    by_loc = loc_filled(
        list(corpus.ids),
        list(analysis.ROLE_TERMS),
        lambda s, label: int(((roles["source"] == s) & (roles["label"] == label)).sum()),
    )
    assert_full(mark(MENTORS, "test_role_counts", role_counts=by_loc))
    positions = first_positions(corpus)
    by_hand = loc_filled(
        list(corpus.ids),
        list(analysis.GENRE_TERMS),
        lambda s, label: None if pd.isna(positions.loc[s, label]) else positions.loc[s, label],
    )
    assert_full(mark(GENRES, "test_first_mention", first_mention=by_hand))


def test_a_series_filled_with_loc_and_other_integer_dtypes_count(corpus: Corpus) -> None:
    mentions = pd.Series(index=list(corpus.ids), dtype=object)
    for source in corpus.ids:
        mentions.loc[source] = len(analysis.concordance("Anton", sources=[source]))
    assert mentions.dtype == object
    assert_full(mark(MENTORS, "test_anton_mentions", anton_mentions=mentions))
    counts = analysis.term_counts(analysis.GENRE_TERMS)
    for dtype in ("int32", "int16", "float64", "Int64"):
        assert_full(mark(GENRES, "test_genre_counts", genre_counts=counts.astype(dtype)))
    label_range = (counts > 0).sum(axis=1)
    assert_full(mark(GENRES, "test_label_range", label_range=label_range.astype("int32")))
    assert_full(mark(GENRES, "test_label_range", label_range=label_range.astype(object)))


def test_a_whole_float_counts_where_an_int_is_asked_for() -> None:
    count = from_explainer(darkest("first"))
    for answer in (float(count), np.int64(count), np.float64(count)):
        assert_full(mark(RECEPTION, "test_explainer_in_darkest", explainer_in_darkest=answer))
    assert_wrong(
        mark(RECEPTION, "test_explainer_in_darkest", explainer_in_darkest=count + 0.5),
        "whole number",
    )


def test_numbers_as_text_are_caught_before_hand_in(corpus: Corpus) -> None:
    counts = analysis.term_counts(analysis.GENRE_TERMS)
    typed_in = loc_filled(
        list(corpus.ids), list(counts.columns), lambda s, label: str(counts.loc[s, label])
    )
    assert_caught_before_hand_in(
        mark(GENRES, "test_genre_counts", genre_counts=typed_in),
        "holds numbers as text (object dtype): use .astype(int)",
    )
    assert_caught_before_hand_in(
        mark(GENRES, "test_genre_counts", genre_counts=counts.astype(str)),
        f"holds numbers as text ({counts.astype(str).dtypes.iloc[0]} dtype): use .astype(int)",
    )
    tones = source_tones(corpus).round(3)
    assert_caught_before_hand_in(
        mark(RECEPTION, "test_source_tone", source_tone=tones.astype(str)),
        "holds numbers as text",
        "use .astype(float)",
    )
    count = from_explainer(darkest("first"))
    assert_caught_before_hand_in(
        mark(RECEPTION, "test_explainer_in_darkest", explainer_in_darkest=str(count)),
        "(text)",
        "int(...)",
    )
    assert_caught_before_hand_in(
        mark(GENRES, "test_genre_counts", genre_counts=counts > 0), "True/False"
    )


def test_a_wrong_count_scores_nothing_and_says_so_without_the_value() -> None:
    counts = analysis.term_counts(analysis.GENRE_TERMS)
    wrong = counts.copy()
    wrong.loc["madness-music-genius", "horror"] += 1  # not the cell the visible check reads
    marked = mark(GENRES, "test_genre_counts", genre_counts=wrong)
    assert marked.visible == ""
    assert_wrong(marked, "1 of 50 values differ", "'madness-music-genius'", "'horror'")
    assert str(counts.loc["madness-music-genius", "horror"]) not in marked.error.split("(")[1]


# ---------------------------------------------------------------------------------------------
# 3. Precision: right to the decimals the notebook shows, or finer


PRECISION_CASES = [
    (GENRES, "first_mention", 2, lambda corpus: first_positions(corpus)),
    (MENTORS, "role_share", 2, lambda corpus: role_shares()),
    (MENTORS, "power_per_1000", 2, lambda corpus: power_rates(corpus)),
    (MENTORS, "anton_tone", 4, lambda corpus: anton_tones()),
    (RECEPTION, "source_tone", 3, lambda corpus: source_tones(corpus)),
]


@pytest.mark.parametrize(("assignment", "answer_id", "decimals", "make"), PRECISION_CASES)
def test_an_answer_rounded_as_the_notebook_shows_it_counts(
    corpus: Corpus,
    assignment: str,
    answer_id: str,
    decimals: int,
    make: Callable[[Corpus], Any],
) -> None:
    exact = make(corpus)
    test_id = f"test_{answer_id}"
    assert_full(mark(assignment, test_id, **{answer_id: exact}))
    for finer in range(decimals, decimals + 3):
        assert_full(mark(assignment, test_id, **{answer_id: exact.round(finer)}))
    coarser = exact.round(decimals - 1)
    assert not np.allclose(coarser.astype(float), exact.astype(float), equal_nan=True)
    marked = mark(assignment, test_id, **{answer_id: coarser})
    assert marked.points == 0
    assert f"{decimals} decimals" in marked.error  # the message says how precise to be
    if marked.visible == "":  # the hidden check says the values are rounded, not wrong
        assert "rounded more coarsely" in marked.error


def test_the_visible_check_no_longer_calls_a_rounded_mean_wrong(corpus: Corpus) -> None:
    shown = source_tones(corpus).round(3)  # as the notebook displays it
    marked = mark(RECEPTION, "test_source_tone", source_tone=shown)
    assert_full(marked)
    too_coarse = mark(RECEPTION, "test_source_tone", source_tone=source_tones(corpus).round(1))
    assert_caught_before_hand_in(too_coarse, "is not the mean", "to 3 decimals or finer")


def test_plainly_wrong_values_are_not_called_rounded(corpus: Corpus) -> None:
    per_word = power_rates(corpus) / 1000
    marked = mark(MENTORS, "test_power_per_1000", power_per_1000=per_word)
    assert_wrong(marked, "values differ from what the sources give")
    assert "rounding" not in marked.error
    mixed = power_rates(corpus).round(1)
    mixed.iloc[0] += 5
    assert_wrong(
        mark(MENTORS, "test_power_per_1000", power_per_1000=mixed),
        "1 of 5 values differ",
        "only by rounding: keep at least 2 decimals",
    )


# ---------------------------------------------------------------------------------------------
# 4. Ties: every right answer counts, and the next question follows the student's choice


def test_both_choices_at_the_tie_count_and_question_3_follows_each() -> None:
    first, last = darkest("first"), darkest("last")
    assert set(first.index) != set(last.index), "the corpus has a tie at the fifth-lowest score"
    assert first["compound"].iloc[-1] == last["compound"].iloc[-1]
    counts = {from_explainer(first), from_explainer(last)}
    assert len(counts) == 2  # the choice changes the answer to Question 3
    for choice, other in ((first, last), (last, first)):
        assert_full(mark(RECEPTION, "test_darkest_paragraphs", darkest_paragraphs=choice))
        own = from_explainer(choice)
        assert_full(
            mark(
                RECEPTION,
                "test_explainer_in_darkest",
                darkest_paragraphs=choice,
                explainer_in_darkest=own,
            )
        )
        assert_wrong(
            mark(
                RECEPTION,
                "test_explainer_in_darkest",
                darkest_paragraphs=choice,
                explainer_in_darkest=from_explainer(other),
            ),
            "not what the sources give",
        )
    for count in counts:  # no right darkest_paragraphs to follow: either right count counts
        assert_full(mark(RECEPTION, "test_explainer_in_darkest", explainer_in_darkest=count))
        assert_full(
            mark(
                RECEPTION,
                "test_explainer_in_darkest",
                darkest_paragraphs=first.iloc[::-1],
                explainer_in_darkest=count,
            )
        )


def test_a_wrong_selection_at_the_tie_scores_nothing() -> None:
    scores = analysis.paragraph_sentiment()
    seventh = scores.nsmallest(7, "compound").iloc[[0, 1, 2, 3, 6]][DARKEST_COLUMNS]
    assert_wrong(
        mark(RECEPTION, "test_darkest_paragraphs", darkest_paragraphs=seventh), "values differ"
    )
    assert_caught_before_hand_in(
        mark(RECEPTION, "test_darkest_paragraphs", darkest_paragraphs=darkest("first").iloc[::-1]),
        "put the lowest score first",
    )
    six = scores.nsmallest(6, "compound")[DARKEST_COLUMNS]  # both tied paragraphs
    assert_caught_before_hand_in(
        mark(RECEPTION, "test_darkest_paragraphs", darkest_paragraphs=six), "should have 5 rows"
    )


def test_marking_lists_the_right_answers_at_a_tie() -> None:
    table = pd.DataFrame({"id": list("abcdef"), "score": [0.1, -0.5, 0.2, -0.5, 0.9, -0.5]})
    choices = marking.lowest_choices(table, n=2, by="score")
    assert [list(c["id"]) for c in choices] == [["b", "d"], ["b", "f"], ["d", "f"]]
    picked = marking.same_lowest(table.iloc[[5, 3]], table, n=2, by="score", name="low")
    assert list(picked["id"]) == ["f", "d"]  # equal scores in any order, returned as given
    with pytest.raises(marking.AnswerError, match="2 of 4 values differ"):
        marking.same_lowest(table.iloc[[1, 0]], table, n=2, by="score", name="low")
    assert len(marking.lowest_choices(table, n=4, by="score")) == 1  # no tie at the cut-off
    assert len(marking.lowest_choices(table, n=3, by="score")) == 1  # the tie fits in
    with pytest.raises(marking.AnswerError, match="the lowest score first"):
        marking.same_lowest(table.iloc[[0, 1, 3, 5]], table, n=4, by="score", name="low")


# ---------------------------------------------------------------------------------------------
# 5. Order: required where the question fixes one, and then checked where the student sees it


def test_columns_in_another_order_count_where_the_question_leaves_it_free(corpus: Corpus) -> None:
    kwic = analysis.concordance("horror", window=5)
    assert_full(mark(GENRES, "test_horror_kwic", horror_kwic=kwic[kwic.columns[::-1]]))
    hedged_rows = hedged(kwic).reset_index(drop=True)
    assert_full(
        mark(GENRES, "test_hedged_horror", hedged_horror=hedged_rows[sorted(hedged_rows.columns)])
    )
    choice = darkest("first")
    assert_full(
        mark(RECEPTION, "test_darkest_paragraphs", darkest_paragraphs=choice[DARKEST_COLUMNS[::-1]])
    )
    negative = glass_negative()
    assert_full(
        mark(
            RECEPTION,
            "test_glass_negative_words",
            glass_negative_words=negative[["word", "count", "valence", "source"]],
        )
    )


def test_an_order_the_question_fixes_is_checked_before_hand_in(
    corpus: Corpus, corpus_ids: list[str]
) -> None:
    counts = analysis.term_counts(analysis.GENRE_TERMS)
    alphabetical = counts[sorted(counts.columns)]
    assert_caught_before_hand_in(
        mark(GENRES, "test_genre_counts", genre_counts=alphabetical), "in another order"
    )
    by_groupby = analysis.paragraph_sentiment().groupby("source")["compound"].mean()
    assert list(by_groupby.index) != corpus_ids
    assert_caught_before_hand_in(
        mark(RECEPTION, "test_source_tone", source_tone=by_groupby), "in another order"
    )
    kwic = analysis.concordance("horror", window=5)
    assert_caught_before_hand_in(
        mark(GENRES, "test_horror_kwic", horror_kwic=kwic.sort_values("left")),
        "keep the rows in the order analysis.concordance gives them",
    )
    hedged_rows = hedged(kwic)
    assert_caught_before_hand_in(
        mark(GENRES, "test_hedged_horror", hedged_horror=hedged_rows.iloc[::-1]),
        "keep the rows in the order they have in horror_kwic",
    )
    assert_caught_before_hand_in(
        mark(
            RECEPTION,
            "test_glass_negative_words",
            glass_negative_words=glass_negative().sort_values("word"),
        ),
        "keep the rows in the order analysis.word_sentiment gives them",
    )
    sources = [s for s in corpus_ids if s in set(hedged_rows["source"])]
    assert sources[::-1] != sources
    assert_caught_before_hand_in(
        mark(GENRES, "test_hedging_sources", hedging_sources=sources[::-1]),
        "put the ids in the corpus's order",
    )
    assert_caught_before_hand_in(
        mark(GENRES, "test_hedging_sources", hedging_sources=sources + sources[:1]),
        "name each source once",
    )


# ---------------------------------------------------------------------------------------------
# 6. Containers: a tuple (or another sequence) where the question says a list


def test_any_sequence_counts_where_a_list_is_asked_for(corpus_ids: list[str]) -> None:
    kwic = analysis.concordance("horror", window=5)
    hedging = hedged(kwic)["source"]
    right = [s for s in corpus_ids if s in set(hedging)]
    for answer in (
        tuple(right),
        hedging.unique(),  # a NumPy array
        pd.Index(right),
        hedging.drop_duplicates(),  # a Series
    ):
        assert_full(mark(GENRES, "test_hedging_sources", hedging_sources=answer))
    assert_caught_before_hand_in(
        mark(GENRES, "test_hedging_sources", hedging_sources=set(right)), "has no order"
    )
    power = analysis.term_counts(analysis.POWER_TERMS).sum(axis=1)
    silent = tuple(s for s in corpus_ids if power[s] == 0)
    assert_full(mark(MENTORS, "test_silent_sources", silent_sources=silent))
    used = (analysis.term_counts(["Shepard", "Shepherd", "Shephard"]) > 0).sum(axis=1)
    inconsistent = tuple(used.index[used > 1])
    assert_full(mark(RECEPTION, "test_inconsistent_sources", inconsistent_sources=inconsistent))


# ---------------------------------------------------------------------------------------------
# 7. Visible checks catch what would lose marks for its form alone


def test_form_problems_fail_the_visible_check_with_the_fix(corpus: Corpus) -> None:
    counts = analysis.term_counts(analysis.ROLE_TERMS)
    assert_caught_before_hand_in(
        mark(MENTORS, "test_role_counts", role_counts=counts.drop(columns="pupil")),
        "missing 'pupil'",
    )
    assert_caught_before_hand_in(
        mark(MENTORS, "test_role_counts", role_counts=counts.reset_index(drop=True)),
        "index (its row labels)",
    )
    assert_caught_before_hand_in(
        mark(MENTORS, "test_anton_mentions", anton_mentions=analysis.term_counts(["Anton"])),
        "should be a pandas Series",
    )
    tones = anton_tones()
    assert_caught_before_hand_in(
        mark(MENTORS, "test_anton_tone", anton_tone=tones.reindex(corpus.ids)),
        "unexpected 'worth-watching'",
    )
    choice = darkest("first")
    assert_caught_before_hand_in(
        mark(
            RECEPTION,
            "test_darkest_paragraphs",
            darkest_paragraphs=analysis.paragraph_sentiment().loc[choice.index],
        ),
        "unexpected 'words'",
    )
    assert_caught_before_hand_in(
        mark(RECEPTION, "test_darkest_paragraphs", darkest_paragraphs=choice.astype(str)),
        "holds numbers as text",
    )


# ---------------------------------------------------------------------------------------------
# The specimens' analysis answers, through the same cells (the grading cycle checks the rest)


@pytest.mark.parametrize("assignment", list(NOTEBOOKS))
def test_specimens_score_as_their_files_say(assignment: str) -> None:
    specimens = runpy.run_path(str(REPO / "tests" / "fixtures" / "specimens" / f"{assignment}.py"))
    for student, specimen in specimens["SPECIMENS"].items():
        scored = _run_notebook(assignment, specimen["answers"])
        for grade_id, got in scored.items():
            want = specimen["expect"][grade_id]
            of = float(_meta(cell(assignment, grade_id))["points"])
            assert got == (of if want == "full" else 0.0), (student, grade_id, want)


def _run_notebook(assignment: str, answers: dict[str, str]) -> dict[str, float]:
    """Every analysis test cell's points when the notebook runs top to bottom with ``answers``
    in its answer cells (answer cells left blank are skipped: their stub raises)."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    points: dict[str, float] = {}
    for c in cells_of(assignment):
        meta, source = _meta(c), _source(c)
        if c["cell_type"] != "code" or "evidence_report(" in source:
            continue
        if meta.get("solution"):
            if meta["grade_id"] not in answers:
                continue
            source = answers[meta["grade_id"]]
        elif meta.get("grade") and HIDDEN not in source:
            continue  # an evidence answer's check: the grading cycle recomputes its credit
        out, err = io.StringIO(), io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                exec(compile(source, str(meta.get("grade_id", "cell")), "exec"), namespace)
            failed = bool(err.getvalue())
        except Exception:
            failed = True
        if meta.get("grade") and not meta.get("solution"):
            points[meta["grade_id"]] = 0.0 if failed else float(meta["points"])
    return points
