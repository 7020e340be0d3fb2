"""filmkit.kernel.marking: what the assignments' test cells call, tested outside a notebook."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from filmkit.analysis import GENRE_TERMS, term_counts
from filmkit.corpus import Corpus
from filmkit.evidence import Status, verify
from filmkit.kernel import marking
from filmkit.kernel.marking import AnswerError

from .conftest import essay_notebook


class EqualsEverything:
    """A hostile answer: compares equal to anything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__


class SneakyFrame(pd.DataFrame):
    def equals(self, other: object) -> bool:
        return True


# ---------------------------------------------------------------------------------------------
# Answer checks


def test_plain_values_and_look_alikes() -> None:
    assert marking.plain(np.int64(3)) == 3 and type(marking.plain(np.int64(3))) is int
    assert marking.plain(("a", np.float64(0.5))) == ["a", 0.5]
    for hostile in (EqualsEverything(), type("S", (str,), {})("x"), [EqualsEverything()]):
        with pytest.raises(TypeError):
            marking.plain(hostile)


def test_same_value_refuses_an_object_that_equals_everything() -> None:
    with pytest.raises(AnswerError, match="plain Python value"):
        marking.same_value(EqualsEverything(), ["madness-music-genius"], name="answer")
    with pytest.raises(AnswerError, match="plain Python"):
        marking.value([EqualsEverything()], name="answer", kind=list)
    marking.same_value(["a", "b"], ["a", "b"], name="answer")
    marking.same_value(np.int64(4), 4, name="answer")
    marking.same_value(4.0, 4, name="answer")  # numbers compare as numbers
    with pytest.raises(AnswerError):
        marking.same_value("4", 4, name="answer")  # text is not a number
    with pytest.raises(AnswerError, match="int"):
        marking.value(True, name="answer", kind=int)


def test_same_frame_accepts_the_expected_table_and_float_counts(corpus: Corpus) -> None:
    expected = term_counts(GENRE_TERMS, corpus)
    marking.same_frame(expected.copy(), expected, name="t")
    marking.same_frame(expected.astype(float), expected, name="t")
    marking.same_frame(expected.reset_index(drop=True), expected, name="t", ignore_index=True)


def test_same_frame_messages_say_what_differs_without_the_expected_values(corpus: Corpus) -> None:
    expected = term_counts(GENRE_TERMS, corpus)
    wrong = expected.copy()
    wrong.loc["worth-watching", "thriller"] += 7
    with pytest.raises(AnswerError) as caught:
        marking.same_frame(wrong, expected, name="genre_counts")
    message = str(caught.value)
    assert "1 of 50 values differ" in message and "'worth-watching'" in message
    assert str(expected.loc["worth-watching", "thriller"]) not in message.replace("1 of 50", "")
    with pytest.raises(AnswerError, match="missing 'giallo'"):
        marking.same_frame(expected.drop(columns="giallo"), expected, name="genre_counts")
    with pytest.raises(AnswerError, match="another order"):
        marking.same_frame(expected.iloc[::-1], expected, name="genre_counts")


def test_same_frame_refuses_hostile_objects(corpus: Corpus) -> None:
    expected = term_counts(GENRE_TERMS, corpus)
    with pytest.raises(AnswerError, match="DataFrame"):
        marking.same_frame(SneakyFrame(expected), expected, name="t")
    hostile = expected.astype(object)
    hostile.iloc[:, :] = EqualsEverything()
    with pytest.raises(AnswerError, match="numbers"):
        marking.same_frame(hostile, expected, name="t")
    text = pd.DataFrame({"word": ["a", "b"]})
    fake = pd.DataFrame({"word": [EqualsEverything(), EqualsEverything()]})
    with pytest.raises(AnswerError, match="plain values"):
        marking.same_frame(fake, text, name="t")


def test_same_series_and_visible_checks(corpus: Corpus) -> None:
    expected = (term_counts(GENRE_TERMS, corpus) > 0).sum(axis=1)
    marking.same_series(expected.astype(float), expected, name="s")
    with pytest.raises(AnswerError, match="values differ"):
        marking.same_series(expected + 1, expected, name="s")
    with pytest.raises(AnswerError, match="Series"):
        marking.series(expected.to_frame(), name="s")
    with pytest.raises(AnswerError, match="5 values"):
        marking.series(expected.iloc[:2], name="s", length=5)
    with pytest.raises(AnswerError, match="3 rows"):
        marking.frame(pd.DataFrame({"a": [1]}), name="f", rows=3)


def test_numbers_count_whatever_their_dtype_when_they_convert_losslessly(corpus: Corpus) -> None:
    expected = term_counts(GENRE_TERMS, corpus)
    by_loc = pd.DataFrame(index=expected.index, columns=expected.columns)
    for row in expected.index:
        for i, column in enumerate(expected.columns):
            n = expected.loc[row, column]
            by_loc.loc[row, column] = [int(n), np.int64(n), float(n), np.float32(n)][i % 4]
    assert set(by_loc.dtypes) == {np.dtype(object)}
    marking.same_frame(by_loc, expected, name="t")
    marking.frame(by_loc, name="t", numbers=True)
    for dtype in ("int32", "uint8", "Int64", "float32"):
        marking.same_frame(expected.astype(dtype), expected, name="t")
    gaps = pd.Series([0.25, None, 0.5], dtype=object)
    marking.same_series(gaps, pd.Series([0.25, np.nan, 0.5]), name="s")
    with pytest.raises(AnswerError, match="1 of 3 values differ"):
        marking.same_series(gaps, pd.Series([0.25, 0.1, 0.5]), name="s")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["1", "2"], r"s holds numbers as text \(object dtype\): use \.astype\(int\)\."),
        (["1.5", "2"], r"use \.astype\(float\)\."),
        (["one", "two"], "holds text where numbers are asked for"),
        ([True, 2], "True/False"),
        ([EqualsEverything(), 2], "EqualsEverything; use plain numbers"),
    ],
)
def test_values_that_are_not_numbers_are_refused_with_the_fix(
    values: list[object], message: str
) -> None:
    answer = pd.Series(values, dtype=object)
    with pytest.raises(AnswerError, match=message):
        marking.series(answer, name="s", numbers=True)
    with pytest.raises(AnswerError, match=message):
        marking.same_series(answer, pd.Series([1, 2]), name="s")
    with pytest.raises(AnswerError, match="True/False"):
        marking.same_series(pd.Series([True, False]), pd.Series([1, 0]), name="s")
    with pytest.raises(AnswerError, match=r"s\['a'\] holds numbers as text"):
        marking.frame(pd.DataFrame({"a": ["1"], "b": [1]}), name="s", numbers=["a", "b"])


def test_decimals_let_an_answer_be_rounded_to_that_many() -> None:
    expected = pd.Series([0.123456, 0.125, 2 / 3, 12.0])
    marking.same_series(expected.round(2), expected, name="s", decimals=2)
    marking.same_series(pd.Series([0.12, 0.13, 0.67, 12]), expected, name="s", decimals=2)
    marking.same_series(expected.round(5), expected, name="s", decimals=2)
    with pytest.raises(AnswerError, match="values are rounded more coarsely than this question"):
        marking.same_series(expected.round(1), expected, name="s", decimals=2)
    with pytest.raises(AnswerError, match="keep at least 2 decimals"):
        marking.same_series(expected.round(1), expected, name="s", decimals=2)
    with pytest.raises(AnswerError, match="do not round them"):  # full precision by default
        marking.same_series(expected.round(2), expected, name="s")
    wrong = expected.round(1)
    wrong.iloc[3] = 13
    with pytest.raises(AnswerError) as caught:
        marking.same_series(wrong, expected, name="s", decimals=2)
    assert "1 of 4 values differ from what the sources give (the first at 3)" in str(caught.value)
    assert "; 3 more differ only by rounding: keep at least 2 decimals" in str(caught.value)
    marking.same_value(0.67, 2 / 3, name="v", decimals=2)
    with pytest.raises(AnswerError, match="rounded more coarsely"):
        marking.same_value(0.7, 2 / 3, name="v", decimals=2)
    with pytest.raises(AnswerError, match="not what the sources give"):
        marking.same_value(0.9, 2 / 3, name="v", decimals=2)


def test_order_counts_only_where_the_check_asks_for_it(corpus: Corpus) -> None:
    expected = term_counts(GENRE_TERMS, corpus)
    shuffled = expected[sorted(expected.columns)].iloc[::-1]
    with pytest.raises(AnswerError, match="another order"):
        marking.same_frame(shuffled, expected, name="t")
    with pytest.raises(AnswerError, match="another order"):
        marking.same_frame(shuffled, expected, name="t", column_order=False)  # rows still fixed
    marking.same_frame(shuffled, expected, name="t", column_order=False, row_order=False)
    wrong = shuffled.copy()
    wrong.loc["worth-watching", "giallo"] += 1
    with pytest.raises(AnswerError, match="row 'worth-watching', column 'giallo'"):
        marking.same_frame(wrong, expected, name="t", column_order=False, row_order=False)
    marking.frame(shuffled, name="t", columns=list(GENRE_TERMS), column_order=False)
    with pytest.raises(AnswerError, match="'horror' more than once"):
        marking.frame(
            expected[[*GENRE_TERMS, "horror"]],
            name="t",
            columns=list(GENRE_TERMS),
            column_order=False,
        )
    series = expected["horror"]
    marking.same_series(series.iloc[::-1], series, name="s", row_order=False)
    marking.same_value(("b", "a"), ["a", "b"], name="v", order=False)
    with pytest.raises(AnswerError, match="not what the sources give"):
        marking.same_value(("b", "a"), ["a", "b"], name="v")


def test_a_list_may_be_any_sequence_and_a_whole_float_an_int() -> None:
    ids = ["madness-music-genius", "worth-watching"]
    for answer in (tuple(ids), np.array(ids), pd.Index(ids), pd.Series(ids), pd.array(ids)):
        assert marking.value(answer, name="v", kind=list) == ids
        marking.same_value(answer, ids, name="v")
    with pytest.raises(AnswerError, match="has no order"):
        marking.value(set(ids), name="v", kind=list)
    with pytest.raises(AnswerError, match="plain Python"):
        marking.value(pd.Series([EqualsEverything()]), name="v", kind=list)
    assert (
        marking.value(4.0, name="v", kind=int) == 4
        and type(marking.value(4.0, name="v", kind=int)) is int
    )
    assert marking.value(np.float64(4), name="v", kind=int) == 4
    with pytest.raises(AnswerError, match="not a whole number"):
        marking.value(4.5, name="v", kind=int)
    marking.same_value(np.float64(4), 4, name="v")
    marking.same_value(3, [3, 4], name="v", one_of=True)
    marking.same_value(4.0, [3, 4], name="v", one_of=True)
    with pytest.raises(AnswerError, match="not what the sources give"):
        marking.same_value(5, [3, 4], name="v", one_of=True)


# ---------------------------------------------------------------------------------------------
# Evidence answers

GOOD = ("The mistakes make it human", "madness-music-genius")


def test_mark_evidence_credits_each_verified_quotation(capsys: pytest.CaptureFixture[str]) -> None:
    answers = [
        GOOD,
        ("From here, the movie does a complete one-eighty turn", "Glass"),  # near miss
        ("The mistakes make it human", "worth-watching"),  # misattributed
        ("A bold triumph of modern cinema for everyone", "nothing-perfect"),  # fabricated
    ]
    score = marking.mark_evidence(answers, points=4, need=4)
    out = capsys.readouterr()
    assert type(score) is float and score == 1.0
    assert out.err == ""
    near = verify(answers[1][0], "Glass")
    assert near.status is Status.NEAR_MISS and near.closest is not None
    assert near.closest.text in out.out  # the source's own wording is shown
    assert "near-miss" in out.out and "misattributed" in out.out and "not-found" in out.out
    assert " 2. ✗ near-miss" in out.out and " 1. ✓ verified" in out.out
    assert "Score: 1 of 4 points" in out.out


def test_evidence_rules_overlap_per_source_need_length_and_claim() -> None:
    marks = marking.evidence_marks(
        [
            GOOD,
            ("The mistakes make it human,” he said", "madness-music-genius"),  # overlaps 1
            ("Discipline is worshiped, mentors are worshiped", "madness-music-genius"),
            ("Discipline is worshiped", "madness-music-genius"),  # too short? 3 words
            ("See if you too could endure The Perfection", "Glass"),  # off the claim
            ("mistakes are punished", "madness-music-genius"),
        ],
        points=3,
        need=3,
        max_per_source=2,
        min_words=4,
        must_mention=["mistakes", "discipline", "mentors"],
    )
    statuses = [line.status for line in marks.lines]
    assert statuses[0] == "verified" and marks.lines[0].counts
    assert statuses[1] == "not counted" and "overlaps quotation 1" in marks.lines[1].message
    assert statuses[2] == "verified" and marks.lines[2].counts
    assert statuses[3] == "too short"
    assert statuses[4] == "off the claim"
    assert statuses[5] == "too short"
    assert marks.counted == 2 and marks.score == 2.0


def test_a_long_list_is_not_marked_past_a_limit() -> None:
    marks = marking.evidence_marks([GOOD] * 50, points=2, need=2)
    assert len(marks.lines) == 11 and marks.lines[-1].status == "not marked"
    assert marks.counted == 1  # the same passage counts once


def test_evidence_source_cap_and_need_cap() -> None:
    marks = marking.evidence_marks(
        [
            GOOD,
            ("Discipline is worshiped, mentors are worshiped", "madness-music-genius"),
            ("Audiences were taken by surprise", "madness-music-genius"),
        ],
        points=2,
        need=2,
    )
    assert [line.counts for line in marks.lines] == [True, True, False]
    assert "the first 2 count" in marks.lines[2].message
    capped = marking.evidence_marks(
        [GOOD, ("Audiences were taken by surprise", "madness-music-genius")],
        points=4,
        need=4,
        max_per_source=1,
    )
    assert capped.counted == 1 and "already count" in capped.lines[1].message


@pytest.mark.parametrize(
    ("answers", "status"),
    [
        ({"quote": "The mistakes make it human"}, "malformed"),
        (["The mistakes make it human"], "malformed"),
        ([("The mistakes make it human", "Roger Ebert")], "unknown source"),
        ([("The mistakes make it human", "")], "no source"),
        ([(EqualsEverything(), "madness-music-genius")], "malformed"),
    ],
)
def test_malformed_evidence_earns_nothing_and_says_why(answers: object, status: str) -> None:
    marks = marking.evidence_marks(answers, points=2, need=2)
    assert marks.score == 0.0 and marks.lines[0].status == status and marks.lines[0].message


# ---------------------------------------------------------------------------------------------
# Essays


def test_evidence_report_reads_the_notebook_being_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    essay = (
        'Shepard said "The mistakes make it human" (madness-music-genius), and the film is '
        '"a bold triumph" (Glass). It is "ridiculous" in places.'
    )
    essay_notebook(tmp_path / "a.ipynb", essay)
    (tmp_path / "other.ipynb").write_text(json.dumps({"cells": []}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    marking.evidence_report("essay", min_sources=2)
    out = capsys.readouterr().out
    assert "3 quotation(s)" in out
    assert "✓ verified: “The mistakes make it human”" in out
    assert "✗ not-found: “a bold triumph”" in out
    assert "✗ no citation: “ridiculous”" in out
    assert "1 of 3 verified" in out and "at least 2" in out


def test_evidence_report_prefers_the_session_notebook_and_handles_blank(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    notebook = essay_notebook(elsewhere / "mine.ipynb", marking.BLANK_ANSWER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    check = marking.essay_check("essay")
    assert check.notebook == notebook and not check.answered
    assert "No answer yet" in check.report()
    monkeypatch.delenv("JPY_SESSION_NAME")
    missing = marking.essay_check("essay")
    assert missing.notebook is None and "Could not find" in missing.report()


@pytest.mark.parametrize(
    "citation",
    ["Glass, ¶5", "(Glass, ¶5)", "(play-it-again-lizzie, ¶9)", "Play It Again Lizzie", "GLASS"],
)
def test_evidence_pairs_accept_the_citations_lesson_00_teaches(citation: str) -> None:
    marks = marking.evidence_marks(
        [("the movie does a complete one-eighty", citation)], points=1, need=1
    )
    assert marks.score == 1


def test_an_id_written_as_words_names_its_source(corpus: Corpus) -> None:
    for source in corpus.ids:
        assert marking.cited_source(source.replace("-", " ").title(), corpus) == source


def test_an_unknown_source_says_how_to_name_one() -> None:
    (line,) = marking.evidence_marks(
        [("the movie does a complete one-eighty", "Roger Ebert, ¶2")], points=1, need=1
    ).lines
    assert line.status == "unknown source" and "locator" in line.message


def test_bracketed_words_do_not_count_towards_the_length() -> None:
    quote = "the movie does a complete one-eighty"
    short = " ".join(quote.split()[:3])  # three of the source's words
    padded = f"[{'Glass says'}] {short} [big]"
    assert len(marking.source_words(quote)) == len(quote.split())  # one-eighty is one word
    assert marking.source_words(padded) == short.split()
    (line,) = marking.evidence_marks([(padded, "Glass")], points=1, need=1).lines
    assert line.status == "too short" and "bracketed" in line.message


def test_messages_are_grammatical() -> None:
    with pytest.raises(marking.AnswerError, match=r"should be an int; it is a str \(text\): "):
        marking.value("3", name="answer", kind=int)
    with pytest.raises(marking.AnswerError, match=r"should be an int; it is a float that is not"):
        marking.value(3.5, name="answer", kind=int)
    with pytest.raises(marking.AnswerError, match=r"1 of 2 values is rounded more coarsely"):
        marking.same_series(pd.Series([0.5, 0.7]), pd.Series([0.5, 0.72]), name="s", decimals=2)
    with pytest.raises(marking.AnswerError, match=r"should have 1 row; it has 2\."):
        marking.frame(pd.DataFrame({"a": [1, 2]}), name="answer", rows=1)
