"""filmkit.analysis: tables that point back into the texts."""

from __future__ import annotations

import re

from filmkit.analysis import (
    GENRE_TERMS,
    NAME_VARIANTS,
    concordance,
    find_terms,
    lexicon_valence,
    lexicon_words,
    paragraph_sentiment,
    sentiment,
    spelling_table,
    term_counts,
    term_pattern,
    word_sentiment,
)
from filmkit.corpus import Corpus


def test_term_pattern_tolerates_case_hyphens_and_apostrophes() -> None:
    assert term_pattern("body horror").search("a BODY-HORROR turn")
    assert term_pattern("Charlotte's").search("Charlotte’s plan")
    assert term_pattern("B movie").search("a ‘B movie’") and term_pattern("‘B’ movie").search(
        "‘B’ movie"
    )
    assert not term_pattern("horror").search("horrors")
    assert not term_pattern("rom").search("romance")


def test_every_found_term_points_at_its_text(corpus: Corpus) -> None:
    found = find_terms(GENRE_TERMS, corpus)
    assert not found.empty
    for row in found.itertuples():
        assert corpus.text(row.source)[row.start : row.end] == row.text
        assert (
            row.text.casefold().replace("-", " ")
            in [t.casefold().replace("-", " ") for t in GENRE_TERMS[row.label]]
            or "‘" in row.text
        )
        assert corpus.paragraph_of(row.source, row.start) == row.paragraph


def test_term_counts_agree_with_a_plain_regex_count(corpus: Corpus) -> None:
    table = term_counts(["thriller", "giallo", "cello"], corpus)
    assert list(table.index) == corpus.ids
    for source in corpus.ids:
        words = re.findall(r"[a-z]+", corpus.text(source).lower())
        for term in ("thriller", "giallo", "cello"):
            assert table.loc[source, term] == words.count(term)


def test_longer_spelling_claims_its_words_once(corpus: Corpus) -> None:
    found = find_terms({"body horror": ("horror", "body horror")}, corpus)
    spans = list(zip(found["source"], found["start"], found["end"], strict=True))
    for source, start, end in spans:
        assert not any(
            s == source and a <= start < b and (a, b) != (start, end) for s, a, b in spans
        )


def test_concordance_rows_quote_the_text(corpus: Corpus) -> None:
    kwic = concordance("perfection", corpus, window=4)
    total = sum(
        len(re.findall(r"(?<!\w)perfection(?!\w)", corpus.text(s), re.I)) for s in corpus.ids
    )
    assert len(kwic) == total
    for row in kwic.itertuples():
        text = corpus.text(row.source)
        assert text[row.start : row.end] == row.keyword
        assert len(row.left.split()) <= 4 and len(row.right.split()) <= 4
        if row.left:
            assert row.left.split()[-1] in text[: row.start].split()[-1]


def test_paragraph_sentiment_covers_every_paragraph(corpus: Corpus) -> None:
    table = paragraph_sentiment(corpus)
    assert len(table) == len(corpus.paragraphs)
    assert table["compound"].between(-1, 1).all()
    first = table.iloc[0]
    assert first["compound"] == sentiment(str(first["text"]))["compound"]


def test_lexicon_misreads_horror_praise() -> None:
    """The caveat lesson 03 teaches: praise in horror vocabulary scores as negative."""
    assert sentiment("A terrifying, brutal and disturbing film.")["compound"] < 0


def test_word_sentiment_counts_lexicon_words(corpus: Corpus) -> None:
    table = word_sentiment(corpus, sources=["nothing-perfect"])
    assert set(table["source"]) == {"nothing-perfect"}
    text = corpus.text("nothing-perfect").lower()
    for row in table.head(10).itertuples():
        assert row.count == len(
            re.findall(rf"(?<![a-z’']){re.escape(row.word)}(?![a-z’'])", text.replace("’", "'"))
        )


def test_spelling_table_shows_the_disagreements(corpus: Corpus) -> None:
    table = spelling_table(NAME_VARIANTS, corpus)
    for name, spellings in NAME_VARIANTS.items():
        rows = table[table["name"] == name]
        assert len(set(rows["spelling"])) > 1, f"the sources agree on {name}"
        for row in rows.itertuples():
            assert row.spelling in spellings
    webber = table[table["spelling"] == "Steven Webber"]
    assert list(webber["source"]) == [s for s in corpus.ids if "Steven Webber" in corpus.text(s)]


def test_lexicon_words_explain_a_paragraphs_score(corpus: Corpus) -> None:
    """The words behind a score, per text: they agree with word_sentiment over a whole source."""
    whole = word_sentiment(corpus, sources=["worth-watching"]).set_index("word")
    words = lexicon_words(corpus.text("worth-watching")).set_index("word")
    assert sorted(words.index) == sorted(whole.index)
    assert (words["count"] == whole.loc[words.index, "count"]).all()
    assert (words["valence"] == whole.loc[words.index, "valence"]).all()
    assert lexicon_words("").empty and list(lexicon_words("").columns) == [
        "word",
        "valence",
        "count",
    ]


def test_lexicon_valence_marks_what_the_lexicon_lacks(corpus: Corpus) -> None:
    scored = word_sentiment(corpus).drop_duplicates("word").set_index("word")["valence"]
    sample = [*scored.index[:5], "batshit", "gory"]
    valence = lexicon_valence(sample)
    assert list(valence.index) == sample
    assert (valence[scored.index[:5]] == scored.iloc[:5]).all()
    assert valence[["batshit", "gory"]].isna().all()
