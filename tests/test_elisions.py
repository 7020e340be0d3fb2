"""Elisions in quotations: what a cut inside one sentence may not leave out, and how it is marked.

Every quotation here is cut from a real sentence of the corpus (the first sentence, in corpus
order, that has what the test needs), and every expected value is computed from that sentence:
the word the elision cuts, the passage the message quotes, the points an answer earns.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import pytest

from filmkit.corpus import load_corpus
from filmkit.evidence import (
    APPROXIMATORS,
    LIMITERS,
    MODALS,
    NEGATIONS,
    Status,
    elision_problems,
    verify,
)
from filmkit.kernel import marking
from filmkit.provenance import WORD_PATTERN

CORPUS = load_corpus()
KEEP = 3  # words kept on each side of a cut
# Punctuation that sets a part of a sentence off (the module docstring's "Elisions").
SETS_OFF = re.compile(r"[,;:()–—]")
MODAL_VERBS = frozenset(
    ["can", "could", "will", "would", "may", "might", "shall", "should", "must"]
)


def folded(word: str) -> str:
    return word.replace("’", "'").casefold()


def negates(word: str) -> bool:
    return folded(word) in NEGATIONS or folded(word).endswith("n't")


def qualifies(word: str) -> bool:
    """Of a class an elision may not cut from the words it keeps (or a limiting word)."""
    w = folded(word)
    return negates(word) or w in MODALS or w in APPROXIMATORS or w in LIMITERS


@dataclass(frozen=True)
class Sentence:
    """One of the corpus's sentences (``Corpus.sentences``), with its words' offsets."""

    source: str
    spans: tuple[tuple[int, int], ...]  # each word's span in the source's text

    @property
    def text(self) -> str:
        return CORPUS.text(self.source)

    def word(self, i: int) -> str:
        return self.text[self.spans[i][0] : self.spans[i][1]]

    @property
    def words(self) -> list[str]:
        return [self.word(i) for i in range(len(self.spans))]

    def between(self, i: int) -> str:
        """The text between word ``i - 1`` and word ``i``."""
        return self.text[self.spans[i - 1][1] : self.spans[i][0]]

    def plain(self, first: int, last: int) -> bool:
        """Words first..last - 1 follow each other with nothing but a space between."""
        return all(self.between(i) == " " for i in range(first + 1, last))

    def passage(self, first: int, last: int) -> str:
        return self.text[self.spans[first][0] : self.spans[last - 1][1]]


@cache
def sentences() -> tuple[Sentence, ...]:
    table = CORPUS.sentences
    found = []
    for source, start, end in zip(
        table["source"].tolist(), table["start"].tolist(), table["end"].tolist(), strict=True
    ):
        text = CORPUS.text(source)[start:end]
        spans = tuple((start + m.start(), start + m.end()) for m in WORD_PATTERN.finditer(text))
        found.append(Sentence(source, spans))
    return tuple(found)


@cache
def _joined() -> dict[str, str]:
    return {
        s: " " + " ".join(folded(w) for w in WORD_PATTERN.findall(CORPUS.text(s))) + " "
        for s in CORPUS.ids
    }


def occurs_once(words: list[str]) -> bool:
    piece = " " + " ".join(folded(w) for w in words) + " "
    return sum(text.count(piece) for text in _joined().values()) == 1


@dataclass(frozen=True)
class Cut:
    """A quotation of words ``before``..``after - 1`` of a sentence (or of it and the next) with
    words ``first``..``last - 1`` cut by an elision."""

    sentence: Sentence
    before: int  # the first word kept
    first: int
    last: int
    after: int  # one past the last word kept
    following: Sentence | None = None  # the next sentence, if the cut ends in it

    @property
    def source(self) -> str:
        return self.sentence.source

    @property
    def tail(self) -> Sentence:
        """The sentence the words kept after the cut are in."""
        return self.following or self.sentence

    @property
    def pieces(self) -> tuple[str, str]:
        return (
            self.sentence.passage(self.before, self.first),
            self.tail.passage(self.last, self.after),
        )

    def quote(self, mark: str = "...") -> str:
        before, after = self.pieces
        return f"{before} {mark} {after}"

    @property
    def start(self) -> int:
        return self.sentence.spans[self.before][0]

    @property
    def end(self) -> int:
        return self.tail.spans[self.after - 1][1]

    @property
    def passage(self) -> str:
        """The source's text from the first word kept to the last."""
        return CORPUS.text(self.source)[self.start : self.end]

    @property
    def cut_span(self) -> tuple[int, int]:
        """Where the elision's text begins and ends: after the last word kept, before the next."""
        return self.sentence.spans[self.first - 1][1], self.tail.spans[self.last][0]

    @property
    def paragraph(self) -> int:
        return CORPUS.paragraph_of(self.source, self.start)


def first_cut(fits: Callable[[Sentence], Iterator[Cut]]) -> Cut:
    for sentence in sentences():
        for cut in fits(sentence):
            return cut
    raise AssertionError("no sentence of the corpus fits")


def mark_one(quote: str, source: str) -> marking.EvidenceLine:
    (line,) = marking.evidence_marks([(quote, source)], points=1, need=1).lines
    return line


def unique(cut: Cut) -> bool:
    """Both kept pieces occur once in the corpus, so the quotation has one place to be."""
    before = [cut.sentence.word(i) for i in range(cut.before, cut.first)]
    after = [cut.tail.word(i) for i in range(cut.last, cut.after)]
    return occurs_once(before) and occurs_once(after)


def cut_word(test: Callable[[Sentence, int], bool]) -> Callable[[Sentence], Iterator[Cut]]:
    """Cuts of one word that passes ``test``, inside a run of plain words (one part of the
    sentence), with KEEP words kept either side."""

    def fits(s: Sentence) -> Iterator[Cut]:
        for i in range(KEEP, len(s.spans) - KEEP):
            if test(s, i) and s.plain(i - KEEP, i + 1 + KEEP):
                cut = Cut(s, i - KEEP, i, i + 1, i + 1 + KEEP)
                if unique(cut):
                    yield cut

    return fits


def assert_reported(cut: Cut, word: str, kind: str, mark: str = "...") -> marking.EvidenceLine:
    """The cut quotation is a near-miss naming the elision, the word and the fix, and counts
    nothing; the whole passage is the source's and counts."""
    quote = cut.quote(mark)
    line = mark_one(quote, cut.source)
    assert not line.counts and line.status == "near-miss", line.message
    before, after = cut.pieces
    assert f"The elision in “{before} {mark} {after}” cuts “{word}” ({kind})" in line.message
    assert f"quote the words it cuts, or keep “{word}”" in line.message
    assert "An elision may leave words out of a sentence, but not a word that reverses" in (
        line.message
    )
    assert f"{cut.source} ¶{cut.paragraph} has “{cut.passage}”" in line.message
    verdict = line.verdict
    assert verdict is not None and verdict.closest is not None
    assert (verdict.closest.source, verdict.closest.text) == (cut.source, cut.passage)
    assert marking.evidence_marks([(quote, cut.source)], points=2, need=1).score == 0
    assert mark_one(cut.passage, cut.source).counts
    (problem,) = elision_problems(cut.source, *cut.cut_span, corpus=CORPUS)
    assert f"cuts “{word}” ({kind})" in problem
    return line


def assert_allowed(cut: Cut, mark: str = "...") -> None:
    quote = cut.quote(mark)
    line = mark_one(quote, cut.source)
    assert line.counts and line.status == "verified", (quote, line.message)
    verdict = verify(quote, cut.source)
    assert any(
        (m.source, m.start, m.end) == (cut.source, cut.start, cut.end) for m in verdict.matches
    )
    assert elision_problems(cut.source, *cut.cut_span, corpus=CORPUS) == []


# ---------------------------------------------------------------------------------------------
# What an elision inside a sentence may not cut


NEGATION_CUT = cut_word(lambda s, i: negates(s.word(i)))


@pytest.mark.parametrize("mark", ["...", "…", "[…]"])
def test_an_elision_that_cuts_a_negation_is_a_near_miss(mark: str) -> None:
    cut = first_cut(NEGATION_CUT)
    assert_reported(cut, cut.sentence.word(cut.first), "a negation", mark)


def test_an_elision_that_cuts_a_modal_is_reported() -> None:
    cut = first_cut(
        cut_word(lambda s, i: folded(s.word(i)) in MODAL_VERBS and not negates(s.word(i)))
    )
    assert_reported(cut, cut.sentence.word(cut.first), "a modal")


def test_an_elision_that_cuts_a_reversing_word_of_degree_is_reported() -> None:
    cut = first_cut(cut_word(lambda s, i: folded(s.word(i)) in APPROXIMATORS))
    assert_reported(cut, cut.sentence.word(cut.first), "a word of degree")


def test_a_limit_under_a_kept_negation_is_reported_and_so_is_the_negation() -> None:
    """What "isn’t merely background" is, is background and more; "isn’t background" is not."""

    def limited(s: Sentence) -> Iterator[Cut]:
        for i in range(KEEP, len(s.spans) - KEEP):
            negation, limit = s.word(i - 1), s.word(i)
            if negates(negation) and folded(limit) in LIMITERS and s.plain(i - KEEP, i + KEEP):
                cut = Cut(s, i - KEEP, i, i + 1, i + 1 + KEEP)
                if unique(cut):
                    yield cut

    cut = first_cut(limited)
    negation, limit = cut.sentence.word(cut.first - 1), cut.sentence.word(cut.first)
    assert_reported(cut, limit, f"a word of degree, under the kept “{negation}”")
    # the same passage with the negation cut instead: the misquotation of the task's example
    no_negation = Cut(cut.sentence, cut.before - 1, cut.first - 1, cut.first, cut.first + KEEP)
    assert unique(no_negation) and cut.sentence.plain(no_negation.before, no_negation.after)
    assert_reported(no_negation, negation, "a negation")


# ---------------------------------------------------------------------------------------------
# What it may cut: across sentences, around the negation, a clause of its own


@cache
def following(s: Sentence) -> Sentence | None:
    """The next sentence of the same source."""
    for this, that in itertools.pairwise(sentences()):
        if this == s:
            return that if that.source == s.source else None
    return None


def across(s: Sentence) -> Iterator[Cut]:
    """A cut from before a negation to the next sentence, which keeps its first KEEP words."""
    nxt = following(s)
    if nxt is not None and len(nxt.spans) >= KEEP and nxt.plain(0, KEEP):
        for i in range(KEEP, len(s.spans)):
            if negates(s.word(i)) and s.plain(i - KEEP, i):
                yield Cut(s, i - KEEP, i, 0, KEEP, following=nxt)


def around(s: Sentence) -> Iterator[Cut]:
    """A cut of two words that are no negation, modal or word of degree, just before a
    negation the quotation keeps."""
    for i in range(KEEP + 2, len(s.spans) - KEEP + 1):
        cut = [s.word(j) for j in (i - 2, i - 1)]
        if negates(s.word(i)) and not any(map(qualifies, cut)) and s.plain(i - KEEP - 2, i + KEEP):
            yield Cut(s, i - KEEP - 2, i - 2, i, i + KEEP)


def set_off_parts(s: Sentence) -> Iterator[tuple[int, int]]:
    """Parts of the sentence between two marks of punctuation, with KEEP plain words before and
    after them in the sentence."""
    marks = [i for i in range(1, len(s.spans)) if SETS_OFF.search(s.between(i))]
    for first, last in itertools.pairwise(marks):
        fits = first >= KEEP and last + KEEP <= len(s.spans)
        if fits and s.plain(first - KEEP, first) and s.plain(last, last + KEEP):
            yield first, last


def clause_with_negation(s: Sentence) -> Iterator[Cut]:
    """A part set off by punctuation, holding a negation and words of its own, cut whole."""
    for first, last in set_off_parts(s):
        words = [s.word(j) for j in range(first, last)]
        if any(map(negates, words)) and not all(map(qualifies, words)):
            yield Cut(s, first - KEEP, first, last, last + KEEP)


def clause_without_negation(s: Sentence) -> Iterator[Cut]:
    """A part set off by punctuation, holding none of the classes, cut whole from a sentence
    with a negation."""
    if any(map(negates, s.words)):
        for first, last in set_off_parts(s):
            if not any(qualifies(s.word(j)) for j in range(first, last)):
                yield Cut(s, first - KEEP, first, last, last + KEEP)


def contrast(s: Sentence) -> Iterator[Cut]:
    """ "not A, but B" cut to "... B": from the negation to the "but", with no clause break."""
    for i, j in itertools.combinations(range(KEEP, len(s.spans) - KEEP), 2):
        if negates(s.word(i)) and folded(s.word(j)) == "but" and s.plain(i - KEEP, i + 1):
            between = s.text[s.spans[i][1] : s.spans[j][0]]
            if not re.search(r"[;:()–—]", between) and s.plain(j + 1, j + 1 + KEEP):
                yield Cut(s, i - KEEP, i, j + 1, j + 1 + KEEP)


def test_an_elision_across_sentences_may_cut_a_negation() -> None:
    cut = first_cut(across)
    assert cut.following is not None and negates(cut.sentence.word(cut.first))
    assert_allowed(cut)


def test_an_elision_that_keeps_the_negation_is_verified() -> None:
    cut = first_cut(around)
    assert negates(cut.sentence.word(cut.last))  # the first word kept after the elision
    assert_allowed(cut)


def test_an_elision_may_cut_a_clause_that_holds_a_negation() -> None:
    """The negation of a clause set off by punctuation is the clause's, not the kept words'
    ("The film, which is not subtle, ... works")."""
    assert_allowed(first_cut(clause_with_negation))


def test_an_elision_may_cut_a_clause_without_a_negation_from_a_negated_sentence() -> None:
    assert_allowed(first_cut(clause_without_negation))


def test_not_a_but_b_may_be_cut_to_b() -> None:
    assert_allowed(first_cut(contrast))


def test_every_cut_of_a_negation_from_the_middle_of_a_clause_is_reported() -> None:
    cuts = [cut for s in sentences() for cut in NEGATION_CUT(s)]
    assert len(cuts) > 1
    for cut in cuts:
        verdict = verify(cut.quote(), cut.source)
        assert verdict.status is Status.NEAR_MISS, (cut.quote(), verdict.message)
        assert f"cuts “{cut.sentence.word(cut.first)}” (a negation" in verdict.message


@pytest.mark.parametrize(
    "finder", [across, around, clause_with_negation, clause_without_negation, contrast]
)
def test_every_allowed_cut_of_its_kind_is_verified(
    finder: Callable[[Sentence], Iterator[Cut]],
) -> None:
    cuts = [cut for s in sentences() for cut in finder(s)]
    assert cuts
    for cut in cuts:
        verdict = verify(cut.quote(), cut.source)
        assert verdict.verified, (cut.quote(), verdict.message)


# ---------------------------------------------------------------------------------------------
# Marking a list


def overlap(a: Cut, b: Cut) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end


def test_mark_evidence_counts_the_allowed_cuts_and_names_the_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reported = first_cut(NEGATION_CUT)
    allowed: list[Cut] = []
    for finder in (across, around, clause_with_negation, clause_without_negation, contrast):
        cut = first_cut(finder)
        # overlapping quotations count once: keep those that overlap no other
        if not any(overlap(cut, other) for other in [reported, *allowed]):
            allowed.append(cut)
    assert allowed
    answers = [(reported.quote(), reported.source), *((c.quote(), c.source) for c in allowed)]
    points, need = 3, len(answers)
    score = marking.mark_evidence(answers, points=points, need=need)
    out = capsys.readouterr().out
    assert score == points * len(allowed) / need
    assert " 1. ✗ near-miss" in out
    assert all(f"{n:2d}. ✓ verified" in out for n in range(2, len(answers) + 1))
    assert f"cuts “{reported.sentence.word(reported.first)}” (a negation)" in out
