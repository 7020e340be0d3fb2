"""Finding quotations and their attributions in students' markdown."""

from __future__ import annotations

from filmkit.corpus import Corpus
from filmkit.quotations import extract_quotations


def test_curly_and_straight_quotations_with_parenthetical_ids(corpus: Corpus) -> None:
    found = extract_quotations(
        "Shepard said “The mistakes make it human” (madness-music-genius). "
        'Glass wrote "Oh, this one is absolutely astounding" (play-it-again-lizzie).',
        corpus,
    )
    assert [(q.text, q.source, q.kind) for q in found] == [
        ("The mistakes make it human", "madness-music-genius", "inline"),
        ("Oh, this one is absolutely astounding", "play-it-again-lizzie", "inline"),
    ]


def test_attribution_by_surname_and_title_words_with_locator(corpus: Corpus) -> None:
    found = extract_quotations(
        'It is "astounding" (Glass, ¶4) and "gory" (Perfection, Explained).', corpus
    )
    assert [(q.citation, q.source) for q in found] == [
        ("Glass, ¶4", "play-it-again-lizzie"),
        ("Perfection, Explained", "perfection-explained"),
    ]


def test_one_parenthetical_cites_every_earlier_quotation_of_its_sentence(corpus: Corpus) -> None:
    found = extract_quotations(
        'It is “creepy” and “disturbing” (perfection-explained). Then "x".', corpus
    )
    assert [q.source for q in found] == ["perfection-explained", "perfection-explained", None]


def test_attribution_stays_within_its_sentence(corpus: Corpus) -> None:
    found = extract_quotations(
        "“It’s not exactly a horror movie.” She said it twice (Glass).\n\n"
        '"The mistakes make it human". Later, someone agreed (madness-music-genius).',
        corpus,
    )
    assert [q.source for q in found] == [None, None]


def test_parenthetical_inside_a_quotation_is_the_sources_not_a_citation(corpus: Corpus) -> None:
    (quote,) = extract_quotations('One review names "Anton (Steven Weber)" as the teacher.', corpus)
    assert quote.text == "Anton (Steven Weber)" and quote.source is None


def test_parentheticals_that_name_no_source_are_not_citations(corpus: Corpus) -> None:
    (quote,) = extract_quotations('The film (2019) is "gory" (The Perfection).', corpus)
    assert (
        quote.source is None and quote.citation_problem and "too general" in quote.citation_problem
    )


def test_block_quotations_with_trailing_or_following_citation(corpus: Corpus) -> None:
    markdown = (
        "Intro.\n\n"
        "> The mistakes make it human. (madness-music-genius)\n\n"
        "> Charlotte was a musical prodigy.\n"
        "> She was bestowed with the talent that is rare\n\n"
        "— (perfection-explained)\n\n"
        "> Unattributed block.\n\n"
        "A new paragraph (Glass).\n"
    )
    found = extract_quotations(markdown, corpus)
    assert [(q.kind, q.line, q.source) for q in found] == [
        ("block", 3, "madness-music-genius"),
        ("block", 5, "perfection-explained"),
        ("block", 10, None),
    ]
    assert found[0].text == "The mistakes make it human."
    assert (
        found[1].text
        == "Charlotte was a musical prodigy.\nShe was bestowed with the talent that is rare"
    )


def test_quotation_marks_inside_a_block_quotation_are_part_of_it(corpus: Corpus) -> None:
    found = extract_quotations(
        "> students were told “If you make a mistake, you pay the price.”\n", corpus
    )
    assert len(found) == 1 and found[0].kind == "block"


def test_code_is_not_read(corpus: Corpus) -> None:
    markdown = (
        'Use `verify("the room")` here.\n\n```python\nprint("fenced")\n```\n\nBut "this" counts.'
    )
    assert [q.text for q in extract_quotations(markdown, corpus)] == ["this"]


def test_line_numbers_follow_soft_line_breaks(corpus: Corpus) -> None:
    found = extract_quotations('# Title\n\nFirst line\nsecond "here"\nthird "there".', corpus)
    assert [(q.text, q.line) for q in found] == [("here", 4), ("there", 5)]


def test_emphasis_inside_a_quotation_is_read_as_text(corpus: Corpus) -> None:
    (quote,) = extract_quotations("“The *mistakes* make it human” (madness-music-genius)", corpus)
    assert quote.text == "The mistakes make it human"
