"""Quotation verification: the rules of filmkit.evidence, by example and by property."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from filmkit.corpus import Corpus, UnknownSourceError, load_corpus
from filmkit.evidence import (
    BRACKET_MAX_WORDS,
    ELISION_MAX_GAP_WORDS,
    Status,
    bracket_problems,
    elision_problems,
    find_matches,
    verify,
)
from filmkit.provenance import WORD_PATTERN

CORPUS = load_corpus()


def span_of(corpus: Corpus, source: str, passage: str) -> tuple[int, int]:
    start = corpus.text(source).index(passage)
    return start, start + len(passage)


def occurrences(corpus: Corpus, passage: str) -> list[str]:
    return [s for s in corpus.ids if passage in corpus.text(s)]


# --- examples -------------------------------------------------------------------------------


def test_exact_quotation_is_verified_at_its_span(corpus: Corpus) -> None:
    passage = "The mistakes make it human"
    (source,) = occurrences(corpus, passage)
    verdict = verify(passage, source)
    assert verdict.status is Status.VERIFIED
    (match,) = verdict.matches
    assert (match.source, match.start, match.end) == (source, *span_of(corpus, source, passage))
    assert corpus.text(source)[match.start : match.end] == match.text == passage
    assert match.paragraph == corpus.paragraph_of(source, match.start)


def test_unattributed_quotation_is_verified_anywhere(corpus: Corpus) -> None:
    verdict = verify("the mistakes make it human")
    assert verdict.status is Status.VERIFIED and verdict.attributed_to is None


def test_quotation_from_another_source_is_misattributed(corpus: Corpus) -> None:
    passage = "The mistakes make it human"
    (true_source,) = occurrences(corpus, passage)
    other = next(s for s in corpus.ids if s != true_source)
    verdict = verify(passage, other)
    assert verdict.status is Status.MISATTRIBUTED
    assert {m.source for m in verdict.matches} == {true_source}
    assert true_source in verdict.message and other in verdict.message


def test_corrected_spelling_is_a_near_miss_showing_the_source_wording(corpus: Corpus) -> None:
    """A student who writes "Steven Weber" quoting the review that says "Steven Webber"."""
    passage = "her former cellist instructor Anton (Steven Webber)"
    (source,) = occurrences(corpus, passage)
    verdict = verify(passage.replace("Webber", "Weber"), source)
    assert verdict.status is Status.NEAR_MISS
    assert verdict.closest is not None and verdict.closest.source == source
    text = corpus.text(source)
    assert text[verdict.closest.start : verdict.closest.end] == verdict.closest.text
    assert "Steven Webber" in verdict.closest.text
    assert "“Weber” where the source has “Webber”" in verdict.message
    assert 0.9 < verdict.closest.similarity < 1


def test_misattributed_short_form_points_to_the_named_sources_spelling(corpus: Corpus) -> None:
    """“Anton (Steven Weber)” is in one review; the review it is attributed to spells Webber."""
    weber, webber = (
        occurrences(corpus, "Anton (Steven Weber)"),
        occurrences(corpus, "Anton (Steven Webber)"),
    )
    verdict = verify("Anton (Steven Weber)", webber[0])
    assert verdict.status is Status.MISATTRIBUTED
    assert [m.source for m in verdict.matches] == weber
    assert verdict.closest is not None and "Webber" in verdict.closest.text


@pytest.mark.parametrize(
    ("variant", "passage"),
    [
        (
            "That impossibility - the one of mastering chaos - became",
            "That impossibility—the one of mastering chaos—became",
        ),
        (
            "that impossibility -- the one of mastering chaos -- became",
            "That impossibility—the one of mastering chaos—became",
        ),
        (
            "The Perfection is a trashy B movie, but that isn't",
            "The Perfection is a trashy B movie, but that isn’t",
        ),
        ('the "room" were tattooed', "“the room” were tattooed"),
        ("THE   MISTAKES\n make\u00a0it\thuman", "The mistakes make it human"),
        ("[T]he cello becomes the instrument", "The cello becomes the instrument"),
    ],
)
def test_tolerated_variations(corpus: Corpus, variant: str, passage: str) -> None:
    (source,) = occurrences(corpus, passage)
    verdict = verify(variant, source)
    assert verdict.status is Status.VERIFIED, verdict.message
    start, end = span_of(corpus, source, passage)
    assert any(m.start == start + (passage[0] in "“") and m.end <= end for m in verdict.matches)


def test_bracketed_insertion_stands_for_source_words(corpus: Corpus) -> None:
    passage = "She was bestowed with the talent that is rare"
    (source,) = occurrences(corpus, passage)
    assert verify("[Charlotte] was bestowed with the talent that is rare", source).verified
    assert verify("She was [gifted] with the talent that is rare", source).verified
    assert verify("She was bestowed with [her] talent that is rare", source).verified
    # a bracket may stand for at most BRACKET_MAX_WORDS words, and the verdict says which
    words = passage.split()
    too_many = " ".join([words[0], "[x x]", *words[2 + BRACKET_MAX_WORDS :]])
    verdict = verify(too_many, source)
    assert verdict.status is Status.NEAR_MISS and verdict.closest is not None
    assert verdict.closest.text == passage
    stood_for = " ".join(words[1 : 2 + BRACKET_MAX_WORDS])
    assert f"The bracket [x x] stands for {BRACKET_MAX_WORDS + 1} of the source's words" in (
        verdict.message
    )
    assert f"(“{stood_for}”)" in verdict.message


def test_elision_joins_pieces_of_one_passage_in_order(corpus: Corpus) -> None:
    first, second = (
        "Charlotte was a musical prodigy",
        "she received the opportunity to hone this gift",
    )
    (source,) = occurrences(corpus, first + ". She was bestowed")
    for mark in ("...", "…", " [...] ", ". . ."):
        verdict = verify(f"{first}{mark}{second}", source)
        assert verdict.verified, (mark, verdict.message)
        (match,) = verdict.matches
        assert match.start == span_of(corpus, source, first)[0]
        assert match.end == span_of(corpus, source, second)[1]
        assert [corpus.text(source)[a:b] for a, b in match.pieces] == [first, second]
    backwards = verify(f"{second} ... {first}", source)
    assert backwards.status is Status.NOT_FOUND and "not in order" in backwards.message


def test_elision_across_sources_is_refused(corpus: Corpus) -> None:
    a, b = "The mistakes make it human", "worth every last drop of blood"
    assert occurrences(corpus, a) != occurrences(corpus, b)
    assert not verify(f"{a} ... {b}").verified


def test_elision_may_not_span_too_far(corpus: Corpus) -> None:
    source = "perfection-explained"
    words = [(m.group(), m.start()) for m in WORD_PATTERN.finditer(corpus.text(source))]
    rng = random.Random(4)
    for _ in range(20):
        i = rng.randrange(0, len(words) - 2 * ELISION_MAX_GAP_WORDS - 20)
        head = " ".join(w for w, _ in words[i : i + 4])
        near = " ".join(
            w for w, _ in words[i + 4 + ELISION_MAX_GAP_WORDS : i + 8 + ELISION_MAX_GAP_WORDS]
        )
        far = " ".join(
            w for w, _ in words[i + 5 + ELISION_MAX_GAP_WORDS : i + 9 + ELISION_MAX_GAP_WORDS]
        )
        assert verify(f"{head} ... {near}", source).verified
        far_verdict = verify(f"{head} ... {far}", source)
        # unless the far piece happens to occur again close by, it is too far
        if not any(m.start > 0 for m in find_matches(f"{head} ... {far}")):
            assert not far_verdict.verified


def test_changed_added_or_dropped_words_are_not_verified(corpus: Corpus) -> None:
    passage = "The music in The Perfection isn’t merely background"
    (source,) = occurrences(corpus, passage)
    for variant in (
        "The music in The Perfection is merely background",  # dropped negation
        "The music in The Perfection isn’t simply background",  # changed
        "The music in The Perfection isn’t merely a background",  # added
        "The score in The Perfection isn’t merely background",
    ):
        assert verify(variant, source).status in {Status.NEAR_MISS, Status.NOT_FOUND}, variant


def test_fabrication_is_not_found(corpus: Corpus) -> None:
    verdict = verify("Anton was a gentle teacher who loved his students dearly")
    assert verdict.status is Status.NOT_FOUND and verdict.closest is None and not verdict.matches


def test_unknown_attribution_raises(corpus: Corpus) -> None:
    with pytest.raises(UnknownSourceError, match="names no source"):
        verify("The mistakes make it human", "Roger Ebert")


def test_quotation_without_words() -> None:
    assert verify("...").status is Status.NOT_FOUND


def test_json_shape(corpus: Corpus) -> None:
    data = verify("The mistakes make it human", "madness-music-genius").to_dict()
    assert set(data) >= {"quote", "status", "matches", "closest", "message"}
    assert set(data["matches"][0]) == {"source", "paragraph", "start", "end", "text"}  # type: ignore[index]
    near = verify("her former cellist instructor Anton (Steven Weber)").to_dict()
    assert set(near["closest"]) >= {"source", "text", "similarity"}  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------

WORDS = {
    s: [(m.start(), m.end()) for m in WORD_PATTERN.finditer(CORPUS.text(s))] for s in CORPUS.ids
}
VOCABULARY = sorted(
    {m.group().casefold() for s in CORPUS.ids for m in WORD_PATTERN.finditer(CORPUS.text(s))}
)
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
DASHES = str.maketrans({"–": "-", "—": "-"})


@st.composite
def source_spans(draw: st.DrawFn, min_words: int = 1, max_words: int = 40) -> tuple[str, int, int]:
    source = draw(st.sampled_from(CORPUS.ids))
    n = draw(st.integers(min_words, max_words))
    first = draw(st.integers(0, len(WORDS[source]) - n))
    return source, first, first + n  # word indices [first, last)


def render(
    source: str, first: int, last: int, draw: st.DrawFn, *, elide: bool, bracket: bool
) -> str:
    """The source's words first..last, rewritten under a random mix of tolerated variations."""
    text, spans = CORPUS.text(source), WORDS[source]
    n = last - first
    elided: range = range(0)
    if elide and n >= 3:
        a = draw(st.integers(first + 1, last - 2))
        b = draw(st.integers(a, min(last - 2, a + ELISION_MAX_GAP_WORDS - 1)))
        # an elision may not cut a negation or a modal out of a sentence (test_elisions.py)
        if not elision_problems(source, spans[a - 1][1], spans[b + 1][0], corpus=CORPUS):
            elided = range(a, b + 1)
    bracketed: range = range(0)
    insertion = ""
    if bracket and n >= 3:
        candidates = [
            i
            for i in range(first + 1, last - 1)
            if i not in elided and i - 1 not in elided and i + 1 not in elided
        ]
        if candidates:
            c = draw(st.sampled_from(candidates))
            k = draw(st.integers(1, BRACKET_MAX_WORDS))
            run = [i for i in range(c, c + k) if i in candidates and i < last - 1]
            run = run[: next((j for j, i in enumerate(run) if i != c + j), len(run))]
            insertion = draw(st.sampled_from(["she", "Anton", "the academy's", "sic"]))
            replaced = [text[spans[i][0] : spans[i][1]] for i in run]
            # a bracket may not stand for a negation or a modal and drop it (test_brackets.py)
            if not bracket_problems(insertion, replaced, corpus=CORPUS):
                bracketed = range(c, c + len(run))
    pieces: list[str] = []
    for i in range(first, last):
        if i in elided:
            if i == elided.start:
                pieces.append(draw(st.sampled_from([" ... ", "…", " … ", " [...] "])))
            continue
        if i in bracketed:
            if i == bracketed.start:
                pieces.append(f"[{insertion}]")
            if i == bracketed[-1]:
                pieces.append(" ")
            continue
        word = text[spans[i][0] : spans[i][1]]
        case = draw(st.sampled_from(["keep", "upper", "lower", "title"]))
        word = {"keep": word, "upper": word.upper(), "lower": word.lower(), "title": word.title()}[
            case
        ]
        pieces.append(word.translate(QUOTES) if draw(st.booleans()) else word)
        if i + 1 < last:
            gap = text[spans[i][1] : spans[i + 1][0]]
            if draw(st.booleans()):
                gap = gap.translate(QUOTES).translate(DASHES)
            if draw(st.booleans()):
                gap = gap.replace(" ", draw(st.sampled_from(["  ", "\n", "\u00a0", " \n "])))
            pieces.append(gap if gap.strip() or gap else " ")
    return "".join(pieces)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), span=source_spans(), elide=st.booleans(), bracket=st.booleans())
def test_any_span_under_tolerated_variations_is_verified_at_its_true_offsets(
    data: st.DataObject, span: tuple[str, int, int], elide: bool, bracket: bool
) -> None:
    source, first, last = span
    quote = render(source, first, last, data.draw, elide=elide, bracket=bracket)
    verdict = verify(quote, source, corpus=CORPUS)
    assert verdict.status is Status.VERIFIED, (quote, verdict.message)
    start, end = WORDS[source][first][0], WORDS[source][last - 1][1]
    assert any((m.source, m.start, m.end) == (source, start, end) for m in verdict.matches), quote
    for m in verdict.matches:
        assert CORPUS.text(m.source)[m.start : m.end] == m.text


@settings(max_examples=300, deadline=None)
@given(span=source_spans(min_words=6, max_words=30), data=st.data())
def test_changing_one_content_word_never_verifies(
    span: tuple[str, int, int], data: st.DataObject
) -> None:
    source, first, last = span
    text, spans = CORPUS.text(source), WORDS[source]
    content = [i for i in range(first, last) if spans[i][1] - spans[i][0] >= 4]
    assume(content)
    i = data.draw(st.sampled_from(content))
    word = text[spans[i][0] : spans[i][1]]
    replacement = data.draw(
        st.one_of(
            st.sampled_from(VOCABULARY).filter(lambda w: w != word.casefold()),
            st.just(word[:-1]),  # a letter dropped: a misspelling
            st.just(word + word[-1]),  # a letter doubled
        )
    )
    assume(replacement.casefold() != word.casefold())
    quote = (
        text[spans[first][0] : spans[i][0]] + replacement + text[spans[i][1] : spans[last - 1][1]]
    )
    verdict = verify(quote, source, corpus=CORPUS)
    assert verdict.status is not Status.VERIFIED, (quote, verdict.matches)
    assert verdict.status is not Status.MISATTRIBUTED or all(
        m.source != source for m in verdict.matches
    )


@settings(max_examples=150, deadline=None)
@given(span=source_spans(min_words=6, max_words=30), data=st.data())
def test_dropping_one_content_word_never_verifies(
    span: tuple[str, int, int], data: st.DataObject
) -> None:
    source, first, last = span
    text, spans = CORPUS.text(source), WORDS[source]
    content = [i for i in range(first + 1, last - 1) if spans[i][1] - spans[i][0] >= 4]
    assume(content)
    i = data.draw(st.sampled_from(content))
    quote = text[spans[first][0] : spans[i][0]] + text[spans[i + 1][0] : spans[last - 1][1]]
    assert not verify(quote, source, corpus=CORPUS).verified, quote


def test_a_verified_message_names_the_source_once(corpus: Corpus) -> None:
    # a sentence of one source, quoted with and without naming it
    row = corpus.sentences.iloc[0]
    quote = str(row["text"])[:60].rsplit(" ", 1)[0]
    named = verify(quote, str(row["source"]), corpus=corpus)
    assert named.status is Status.VERIFIED
    assert named.message.startswith(f"Verified in {row['source']} ¶")
    assert named.message.count(str(row["source"])) == 1
    unnamed = verify(quote, corpus=corpus)
    assert unnamed.message.startswith(f"Verified: {row['source']} ¶")
