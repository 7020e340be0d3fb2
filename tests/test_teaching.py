"""filmkit.teaching and filmkit.figures: the helpers the lessons build on."""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import pytest

from filmkit import figures
from filmkit.analysis import (
    GENRE_TERMS,
    concordance,
    find_terms,
    paragraph_sentiment,
    spelling_table,
    term_counts,
    word_sentiment,
)
from filmkit.annotations import load_annotation
from filmkit.corpus import Corpus
from filmkit.teaching import (
    CONTENT_TERMS,
    WITHHELD_LABELS,
    content_map,
    hide_withheld,
    reading_list,
    self_check,
    withheld_paragraphs,
)


def test_content_map_lists_labels_and_never_text(corpus: Corpus) -> None:
    table = content_map(corpus)
    assert list(table.columns) == ["source", "paragraph", "labels", "withheld"]
    hits = find_terms(CONTENT_TERMS, corpus)
    assert set(zip(table["source"], table["paragraph"], strict=True)) == set(
        zip(hits["source"], hits["paragraph"], strict=True)
    )
    for row in table.itertuples():
        assert row.withheld == any(label in WITHHELD_LABELS for label in row.labels)
    explicit = find_terms({"x": CONTENT_TERMS["sexual abuse"]}, corpus)
    assert set(zip(explicit["source"], explicit["paragraph"], strict=True)) <= withheld_paragraphs(
        corpus
    )


def test_reading_list_points_at_paragraphs_and_hides_withheld_openings(corpus: Corpus) -> None:
    (source, paragraph), *_ = sorted(withheld_paragraphs(corpus))
    table = reading_list({"worth-watching": [9], source: [paragraph]}, corpus)
    score = table.iloc[0]
    text = corpus.paragraphs.set_index(["source", "paragraph"]).loc[("worth-watching", 9), "text"]
    assert score["opening"].rstrip(" …") == " ".join(str(text).split()[:12])
    assert score["words"] == len(str(text).split())
    assert table.iloc[1]["opening"] == "(content note: opening not shown)"
    assert table.iloc[1]["content"]
    with pytest.raises(KeyError, match=r"worth-watching has no ¶99 \(its paragraphs are ¶0–¶14\)"):
        reading_list({"worth-watching": [99]}, corpus)
    with pytest.raises(KeyError, match="no source 'imdb'"):
        reading_list({"imdb": [0]}, corpus)


def test_hide_withheld_keeps_rows_and_drops_words(corpus: Corpus) -> None:
    kwic = concordance("punishment", corpus)
    shown = hide_withheld(kwic, corpus)
    assert len(shown) == len(kwic) and list(shown["keyword"]) == list(kwic["keyword"])
    withheld = withheld_paragraphs(corpus)
    for before, after in zip(kwic.itertuples(), shown.itertuples(), strict=True):
        hidden = (before.source, before.paragraph) in withheld
        assert after.withheld == hidden
        assert (after.left == "(content note: not shown)") == hidden
        if not hidden:
            assert after.left == before.left and after.right == before.right
    assert shown["withheld"].any() and not shown["withheld"].all()


@pytest.mark.parametrize(
    ("answer", "expected", "printed"),
    [
        (None, 3, "Not answered yet"),
        (3, 3, "Correct."),
        (3.0000000001, 3, "Correct."),
        (4, 3, "Not yet (4 is not the answer). Hint: count"),
        (" HOME ", "Home", "Correct."),
        ("Charlotte’s plan", "charlotte's plan", "Correct."),
        (["b", "A"], {"a", "b"}, "Correct."),
        (("a",), ["a", "b"], "Not yet"),
        (False, True, "Not yet. Hint: count"),
        (object(), 3, "Not yet"),
    ],
)
def test_self_check_prints_and_never_raises(
    answer: object, expected: object, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    self_check(answer, expected, hint="count")
    assert capsys.readouterr().out.startswith(printed)


# ---------------------------------------------------------------------------------------------
# Figures: titled, labelled, and hover text that leads back to the words


def hover_texts(figure: go.Figure) -> list[str]:
    texts: list[str] = []
    for trace in figure.data:
        values = trace.hovertext
        if values is None:
            continue
        for value in values if not isinstance(values, str) else [values]:
            texts.extend(value if isinstance(value, (list, tuple)) else [value])
    return [str(t) for t in texts]


def assert_labelled(figure: go.Figure) -> None:
    assert isinstance(figure, go.Figure)
    assert figure.layout.title.text
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text
    assert hover_texts(figure)


def test_every_figure_is_titled_labelled_and_has_hover_text(corpus: Corpus) -> None:
    words = dict(zip(corpus.documents["id"], corpus.documents["words"], strict=True))
    counts = term_counts(GENRE_TERMS, corpus)
    hits = find_terms(GENRE_TERMS, corpus)
    results = pd.DataFrame(
        {
            "where": ["line 1", "line 2"],
            "quote": ["a", "b"],
            "status": ["verified", "near-miss"],
            "message": ["ok", "close"],
        }
    )
    built = [
        figures.corpus_overview(corpus.documents),
        figures.check_summary(results),
        figures.term_heatmap(counts, hits, words=words),
        figures.term_positions(hits, corpus, withheld=withheld_paragraphs(corpus)),
        figures.chapter_genres(load_annotation("genre_by_chapter", corpus=corpus), corpus),
        figures.framing_chart(load_annotation("framing", corpus=corpus), corpus),
        figures.aspect_matrix(load_annotation("reception_aspects", corpus=corpus), corpus),
        figures.sentiment_by_paragraph(paragraph_sentiment(corpus)),
        figures.word_valence(word_sentiment(corpus), ["horror", "perfection"]),
        figures.spelling_chart(spelling_table(corpus=corpus)),
    ]
    for figure in built:
        assert_labelled(figure)


def test_heatmap_rates_are_per_thousand_words_and_hover_gives_paragraphs(corpus: Corpus) -> None:
    words = dict(zip(corpus.documents["id"], corpus.documents["words"], strict=True))
    counts = term_counts(GENRE_TERMS, corpus)
    hits = find_terms(GENRE_TERMS, corpus)
    heatmap = figures.term_heatmap(counts, hits, words=words).data[0]
    i, j = list(heatmap.y).index("madness-music-genius"), list(heatmap.x).index("horror")
    assert heatmap.z[i][j] == pytest.approx(
        counts.at["madness-music-genius", "horror"] / words["madness-music-genius"] * 1000
    )
    paragraphs = sorted(
        set(
            hits[(hits["source"] == "madness-music-genius") & (hits["label"] == "horror")][
                "paragraph"
            ]
        )
    )
    assert re.findall(r"¶(\d+)", heatmap.hovertext[i][j]) == [str(p) for p in paragraphs]


def test_annotation_hover_quotes_the_evidence(corpus: Corpus) -> None:
    chapters = load_annotation("genre_by_chapter", corpus=corpus)
    hover = " ".join(hover_texts(figures.chapter_genres(chapters, corpus))).replace("<br>", " ")
    named = chapters[chapters["placement"] == "named"].iloc[0]
    assert "named" in hover and "(perfection-explained)" in hover
    assert " ".join(str(named["note"]).split()[:4]) in hover


def test_withheld_paragraphs_show_no_words_in_hover(corpus: Corpus) -> None:
    scores = paragraph_sentiment(corpus)
    withheld = withheld_paragraphs(corpus)
    figure = figures.sentiment_by_paragraph(scores, withheld=withheld)
    shown = " ".join(hover_texts(figure)).replace("<br>", " ")
    for source, paragraph in withheld:
        text = scores[(scores["source"] == source) & (scores["paragraph"] == paragraph)]["text"]
        opening = " ".join(str(text.iloc[0]).split()[:8])
        assert opening not in shown, (source, paragraph)
    assert figures.WITHHELD_NOTE.split(";")[0] in shown
