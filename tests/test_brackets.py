"""Square brackets in quotations: what they may stand for, what they may add, how they are marked.

Every quotation here is built from a real passage of the corpus (the first passage, in corpus
order, that fits what the test needs, occurring once in the corpus), and every expected value is
computed from that passage: the words a bracket stands for, the passage the message quotes, the
points an answer earns.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from filmkit.analysis import lexicon_valence
from filmkit.corpus import load_corpus
from filmkit.evidence import BRACKET_MAX_WORDS, verify
from filmkit.kernel import marking
from filmkit.provenance import WORD_PATTERN

from .conftest import essay_notebook

CORPUS = load_corpus()


@dataclass(frozen=True)
class Passage:
    """Consecutive words of one source, separated by single spaces, found once in the corpus."""

    source: str
    words: tuple[str, ...]  # in the source's spelling
    text: str  # the source's text from the first word to the last

    def inserted(self, after: int, bracket: str) -> str:
        """The passage with ``[bracket]`` added after word ``after`` (replacing nothing)."""
        return " ".join([*self.words[: after + 1], f"[{bracket}]", *self.words[after + 1 :]])

    def replaced(self, first: int, last: int, bracket: str) -> str:
        """The passage with words ``first``..``last - 1`` replaced by ``[bracket]``."""
        return " ".join([*self.words[:first], f"[{bracket}]", *self.words[last:]])


def passage(n: int, fits: Callable[[Sequence[str]], bool]) -> Passage:
    """The first passage of ``n`` words (in corpus order) whose words ``fit``."""
    for source in CORPUS.ids:
        text = CORPUS.text(source)
        found = list(WORD_PATTERN.finditer(text))
        for i in range(len(found) - n + 1):
            window = found[i : i + n]
            if any(text[a.end() : b.start()] != " " for a, b in itertools.pairwise(window)):
                continue
            words = tuple(m.group() for m in window)
            passage_text = text[window[0].start() : window[-1].end()]
            if fits(words) and sum(CORPUS.text(s).count(passage_text) for s in CORPUS.ids) == 1:
                return Passage(source, words, passage_text)
    raise AssertionError(f"no passage of {n} words in the corpus fits")


def folded(word: str) -> str:
    return word.replace("’", "'").casefold()


def mark_one(quote: str, source: str) -> marking.EvidenceLine:
    (line,) = marking.evidence_marks([(quote, source)], points=1, need=1).lines
    return line


def valence(word: str) -> float:
    """The word's rating in VADER's lexicon, the course's sentiment vocabulary (lesson 03)."""
    rating = float(lexicon_valence([word]).iloc[0])
    assert not math.isnan(rating), f"VADER does not rate {word!r}"
    return rating


# ---------------------------------------------------------------------------------------------
# What brackets may do: say whom or what the source means, fit its words to a sentence


def test_a_name_for_a_pronoun_is_accepted_at_the_start_and_inside() -> None:
    opening = passage(6, lambda w: w[0] in ("She", "He"))
    inside = passage(6, lambda w: w[2] in ("she", "he"))
    for quote, source in (
        (opening.replaced(0, 1, "Charlotte"), opening.source),
        (inside.replaced(2, 3, "Charlotte"), inside.source),
    ):
        line = mark_one(quote, source)
        assert line.counts and line.status == "verified", line.message
    (match,) = verify(inside.replaced(2, 3, "Charlotte"), inside.source).matches
    assert match.text == inside.text  # the bracket stands for the pronoun, in place


def test_a_changed_capital_is_the_sources_word() -> None:
    found = passage(5, lambda w: w[0] == "the")
    quote = "[T]" + " ".join(found.words)[1:]
    line = mark_one(quote, found.source)
    assert line.counts, line.message
    (match,) = line.verdict.matches if line.verdict else ()
    assert match.text == found.text
    # "[T]he" is one of the source's words, not a word of the writer's own
    assert [w.casefold() for w in marking.source_words(quote)] == [
        w.casefold() for w in found.words
    ]
    short = mark_one("[T]" + " ".join(found.words[:3])[1:], found.source)
    assert short.status == "too short" and "bracketed" not in short.message


def test_a_referent_may_be_a_title_or_a_word_of_the_course_vocabularies() -> None:
    """VADER rates "perfection" and "horror", but here they name the film and its genre."""
    found = passage(6, lambda w: w[2] == "it")
    for referent, rated in (("The Perfection", "perfection"), ("the horror film", "horror")):
        assert valence(rated) != 0
        line = mark_one(found.replaced(2, 3, referent), found.source)
        assert line.counts, line.message


def test_a_modal_may_change_tense_within_its_family() -> None:
    found = passage(6, lambda w: w[2] == "will")
    assert mark_one(found.replaced(2, 3, "would"), found.source).counts
    line = mark_one(found.replaced(2, 3, "might"), found.source)
    assert not line.counts and line.status == "near-miss"
    assert "The bracket [might] adds a modal (“might”)" in line.message
    assert f"drops its “{found.words[2]}”" in line.message


def test_sic_after_the_sources_spelling_is_accepted() -> None:
    found = passage(5, lambda w: True)
    assert mark_one(f"{' '.join(found.words)} [sic]", found.source).counts


# ---------------------------------------------------------------------------------------------
# What brackets may not do: add a claim, negate, stand for a passage, carry the quotation


@pytest.mark.parametrize(
    ("bracket", "kind"),
    [
        ("not", "a negation"),
        ("never", "a negation"),
        ("might", "a modal"),
        ("because", "a connective"),
        ("very", "a word of degree or comparison"),
        ("only", "a word of degree or comparison"),
    ],
)
def test_an_added_claim_word_is_reported_and_earns_nothing(bracket: str, kind: str) -> None:
    found = passage(6, lambda w: w[2] in ("is", "was"))
    quote = found.inserted(2, bracket)
    line = mark_one(quote, found.source)
    assert not line.counts and line.status == "near-miss"
    assert f"The bracket [{bracket}] adds {kind} (“{bracket}”)" in line.message
    assert "Quote the source's words, or put your own outside the quotation marks" in line.message
    assert f"{found.source} ¶" in line.message and f"has “{found.text}”" in line.message
    verdict = line.verdict
    assert verdict is not None and verdict.closest is not None
    assert (verdict.closest.source, verdict.closest.text) == (found.source, found.text)
    assert marking.evidence_marks([(quote, found.source)], points=2, need=1).score == 0
    # the same quotation without the bracket is the source's, and earns the point
    assert mark_one(" ".join(found.words), found.source).counts


def test_an_evaluative_word_is_reported_with_its_rating() -> None:
    found = passage(6, lambda w: w[2] in ("the", "a"))
    rating = valence("brilliant")
    line = mark_one(found.inserted(2, "brilliant"), found.source)
    assert not line.counts and line.status == "near-miss"
    assert (
        f"The bracket [brilliant] adds a word of judgement (“brilliant”, VADER {rating:+.1f})"
        in line.message
    )
    assert "it may not add a claim" in line.message


def test_a_bracket_that_drops_the_sources_negation_is_reported() -> None:
    negated = ("isn't", "wasn't", "doesn't", "didn't", "aren't")
    found = passage(6, lambda w: folded(w[2]) in negated)
    positive = folded(found.words[2]).removesuffix("n't")
    line = mark_one(found.replaced(2, 3, positive), found.source)
    assert not line.counts and line.status == "near-miss"
    assert f"The bracket [{positive}] stands for “{found.words[2]}” and drops its negation" in (
        line.message
    )
    # spelling the negation out keeps it
    assert mark_one(found.replaced(2, 3, f"{positive} not"), found.source).counts


def test_a_bracket_standing_for_a_clause_is_reported_with_the_words_it_replaces() -> None:
    replaced = BRACKET_MAX_WORDS + 2
    found = passage(replaced + 4, lambda w: len(" ".join(w[2 : 2 + replaced])) <= 50)
    quote = found.replaced(2, 2 + replaced, "it")
    line = mark_one(quote, found.source)
    assert not line.counts and line.status == "near-miss"
    stood_for = " ".join(found.words[2 : 2 + replaced])
    assert (
        f"The bracket [it] stands for {replaced} of the source's words (“{stood_for}”); "
        f"a bracket may stand for at most {BRACKET_MAX_WORDS}"
    ) in line.message
    assert "cut them with an elision" in line.message and f"has “{found.text}”" in line.message
    # cut with an elision instead, the same words are the source's
    elided = " ".join([*found.words[:2], "...", *found.words[2 + replaced :]])
    assert mark_one(elided, found.source).counts


def test_a_bracket_holding_many_words_is_reported() -> None:
    found = passage(6, lambda w: w[2] in ("she", "he"))
    referent = "Charlotte, the cellist who left the academy"
    held = len(referent.split())
    assert held > BRACKET_MAX_WORDS
    line = mark_one(found.replaced(2, 3, referent), found.source)
    assert not line.counts
    assert f"The bracket [{referent}] holds {held} words; a bracket may hold at most" in (
        line.message
    )


def test_brackets_may_not_outnumber_the_sources_words() -> None:
    found = passage(marking.MIN_QUOTATION_WORDS, lambda w: True)
    before, after = "Charlotte and Lizzie", "the two cellists"
    quote = f"[{before}] {' '.join(found.words)} [{after}]"
    held = len(before.split()) + len(after.split())
    assert held > len(found.words)
    line = mark_one(quote, found.source)
    assert not line.counts and line.status == "near-miss"
    assert (
        f"Your bracketed words ({held}) outnumber the source's own ({len(found.words)})"
        in line.message
    )


def test_a_short_quotation_padded_with_brackets_is_still_too_short() -> None:
    found = passage(marking.MIN_QUOTATION_WORDS - 1, lambda w: True)
    before, after = "Glass writes that", "in the end"
    quote = f"[{before}] {' '.join(found.words)} [{after}]"
    own = len(before.split()) + len(after.split())
    line = mark_one(quote, found.source)
    assert not line.counts and line.status == "too short"
    assert f"it has {len(found.words)} (your [bracketed] words do not count: {own} of them)" in (
        line.message
    )


# ---------------------------------------------------------------------------------------------
# Marking a list, and the essays' report


def test_mark_evidence_counts_the_accepted_brackets_and_names_the_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pronoun = passage(6, lambda w: w[2] in ("she", "he"))
    copula = passage(6, lambda w: w[2] in ("is", "was"))
    padded = passage(marking.MIN_QUOTATION_WORDS - 1, lambda w: True)
    legitimate = [(pronoun.replaced(2, 3, "Charlotte"), pronoun.source)]
    answers = [
        *legitimate,
        (copula.inserted(2, "not"), copula.source),
        (copula.inserted(2, "brilliant"), copula.source),
        (f"[Glass says] {' '.join(padded.words)} [today]", padded.source),
    ]
    points, need = 4, len(answers)
    score = marking.mark_evidence(answers, points=points, need=need)
    out = capsys.readouterr().out
    assert score == points * len(legitimate) / need
    assert " 1. ✓ verified" in out and " 2. ✗ near-miss" in out and " 4. ✗ too short" in out
    assert "The bracket [not] adds a negation (“not”)" in out
    assert "The bracket [brilliant] adds a word of judgement" in out


def test_the_essay_report_names_the_same_bracket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copula = passage(6, lambda w: w[2] in ("is", "was"))
    pronoun = passage(6, lambda w: w[2] in ("she", "he"))
    negated = copula.inserted(2, "not")
    named = pronoun.replaced(2, 3, "Charlotte")
    essay = (
        f'One source says the film "{negated}" ({copula.source}). Another notes that '
        f'"{named}" ({pronoun.source}).'
    )
    essay_notebook(tmp_path / "essay.ipynb", essay)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    marking.evidence_report("essay")
    out = capsys.readouterr().out
    assert f"✗ near-miss: “{negated}”" in out and f"✓ verified: “{named}”" in out
    assert mark_one(negated, copula.source).message in out
    assert "1 of 2 verified" in out
