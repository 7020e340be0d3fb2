"""Interactive figures for the lessons, built with plotly from filmkit's DataFrames.

Every function takes a table that :mod:`filmkit.analysis`, :mod:`filmkit.annotations` or the
corpus produce and returns a ``plotly.graph_objects.Figure`` with a title, axis titles and hover
text that leads back to the words behind each mark (the paragraph, the quotation, the note).
Nothing here sets a renderer or embeds plotly.js: a notebook displays the figure with plotly's
default, and the course site renders the figure's JSON when it builds.

Colours come from the Okabe–Ito palette, which stays distinguishable with the common forms of
colour blindness; where colour carries meaning, so does a label, a symbol or the hover text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import Final

import pandas as pd
import plotly.graph_objects as go

from filmkit.annotations import CHAPTERS, STAGES, STANCES, evidence_quotations
from filmkit.corpus import Corpus, load_corpus

OKABE_ITO: Final = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
STATUS_COLOURS: Final = {
    "verified": "#009E73",
    "misattributed": "#E69F00",
    "near-miss": "#56B4E9",
    "not-found": "#D55E00",
}
STANCE_STYLE: Final = {
    "praise": ("#009E73", "circle"),
    "criticism": ("#D55E00", "x"),
    "caution": ("#E69F00", "diamond"),
    "reported": ("#56B4E9", "square"),
}
# One colour per framing, grouped by sense: teachers dark, rivals warm, harm reddish, the wronged
# blue, their response purple and green.
FRAMING_COLOURS: Final = {
    "mentor": "#000000",
    "home": "#999999",
    "protégé": "#F0E442",
    "rival": "#E69F00",
    "villain": "#D55E00",
    "abuser": "#882255",
    "victim": "#56B4E9",
    "rescuer": "#0072B2",
    "avenger": "#CC79A7",
    "survivor": "#009E73",
}
WITHHELD_NOTE: Final = "(content note: text not shown here; read it in the source if you choose)"
_TEMPLATE: Final = "plotly_white"
# Category tick labels on a phone (390 px): every label drawn (plotly otherwise drops every other
# one when they crowd), shortened with "…": on a horizontal axis to one line of X_TICK characters
# (plotly turns them upright when they would still overlap), on a vertical axis wrapped on up to
# Y_TICK_LINES lines of Y_TICK characters. The hover text of each mark names its category in
# full; automargin makes room for the labels.
X_TICK: Final = 18
Y_TICK: Final = 14
Y_TICK_LINES: Final = 2


def wrap(text: str, width: int = 60) -> str:
    """Hover text: ``text`` wrapped at ``width`` characters with ``<br>`` line breaks."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    return "<br>".join(lines)


def tick_label(value: object, width: int = Y_TICK, lines: int = Y_TICK_LINES) -> str:
    """A category's tick label: wrapped at spaces and hyphens, at most ``lines`` lines of about
    ``width`` characters, the rest shortened to "…"."""
    text = " ".join(str(value).split())
    parts = textwrap.wrap(text, width, break_on_hyphens=True) or [""]
    if len(parts) > lines:
        # what the first lines leave of the text, as written
        rest = text[sum(len(part) for part in parts[: lines - 1]) :].strip()
        rest = rest if len(rest) <= width else rest[: width - 1].rstrip(" -") + "…"
        parts = [*parts[: lines - 1], rest]
    return "<br>".join(parts)


def category_ticks(values: Sequence[object], axis: str = "x") -> dict[str, object]:
    """Axis settings drawing a tick label for every one of ``values`` on the ``axis`` ("x",
    horizontal: one line each; "y", vertical: wrapped)."""
    shown = list(dict.fromkeys(values))
    width, lines = (X_TICK, 1) if axis == "x" else (Y_TICK, Y_TICK_LINES)
    return {
        "tickmode": "array",
        "tickvals": shown,
        "ticktext": [tick_label(v, width, lines) for v in shown],
        "automargin": True,
    }


def _evidence_hover(evidence: str, corpus: Corpus, limit: int = 3) -> str:
    pairs = evidence_quotations(evidence, corpus)
    shown = [wrap(f"“{q}” ({s})") for q, s in pairs[:limit]]
    if len(pairs) > limit:
        shown.append(f"… and {len(pairs) - limit} more")
    return "<br>".join(shown)


def _palette(labels: Sequence[str]) -> dict[str, str]:
    return {label: OKABE_ITO[i % len(OKABE_ITO)] for i, label in enumerate(labels)}


def _source_palette(sources: Sequence[str]) -> dict[str, str]:
    """The same colour for a source in every figure: by its place in the corpus."""
    ids = load_corpus().ids
    order = ids + [s for s in sources if s not in ids]
    return {s: OKABE_ITO[order.index(s) % len(OKABE_ITO)] for s in sources}


def _opening(text: str, words: int = 30) -> str:
    parts = str(text).split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


# ---------------------------------------------------------------------------------------------
# Lesson 00: the corpus and quotation checks


def corpus_overview(documents: pd.DataFrame) -> go.Figure:
    """Words per source (``corpus.documents``), coloured by kind; hover: title, author, date,
    checksum."""
    kinds = sorted(documents["kind"].unique())
    colours = _palette(kinds)
    fig = go.Figure()
    for kind in kinds:
        rows = documents[documents["kind"] == kind]
        hover = [
            "<br>".join(
                [
                    f"<b>{r['id']}</b> ({kind})",
                    wrap(f"title: {r['title'] or '(none given)'}"),
                    f"author: {r['author'] or '(not given)'}",
                    f"published: {r['published'] or '(not given)'}",
                    f"words: {r['words']:,}",
                    f"sha256: {str(r['sha256'])[:16]}…",
                ]
            )
            for _, r in rows.iterrows()
        ]
        fig.add_bar(
            x=rows["id"],
            y=rows["words"],
            name=kind,
            marker_color=colours[kind],
            text=rows["words"],
            textposition="outside",
            hovertext=hover,
            hoverinfo="text",
        )
    fig.update_layout(
        title="The five sources: length in words, by kind of text",
        xaxis={"title": "source", **category_ticks(list(documents["id"]))},
        yaxis_title="words",
        legend_title="kind",
        template=_TEMPLATE,
    )
    return fig


def check_summary(results: pd.DataFrame) -> go.Figure:
    """Quotations per verdict (columns ``where, quote, status, message``), one bar per status;
    hover lists each quotation with where it is and the checker's message."""
    order = [s for s in STATUS_COLOURS if s in set(results["status"])]
    fig = go.Figure()
    for status in order:
        rows = results[results["status"] == status]
        hover = "<br><br>".join(
            wrap(f"{r['where']}: “{r['quote']}” — {r['message']}", 70) for _, r in rows.iterrows()
        )
        fig.add_bar(
            x=[status],
            y=[len(rows)],
            name=status,
            marker_color=STATUS_COLOURS[status],
            text=[len(rows)],
            textposition="outside",
            hovertext=[hover],
            hoverinfo="text",
        )
    fig.update_layout(
        title="The sample essay's quotations, by what filmkit check found",
        xaxis={"title": "verdict", **category_ticks(order)},
        yaxis_title="quotations",
        showlegend=False,
        template=_TEMPLATE,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Term tables (lessons 01 and 02)


def term_heatmap(
    counts: pd.DataFrame,
    found: pd.DataFrame | None = None,
    *,
    words: Mapping[str, int] | None = None,
    title: str = "Terms by source",
    label_axis: str = "label",
) -> go.Figure:
    """A source × label heatmap of :func:`filmkit.analysis.term_counts`.

    With ``words`` (source → word count) the colour shows occurrences per 1,000 words and the
    cells still print the raw count; with ``found`` (:func:`filmkit.analysis.find_terms`) the
    hover lists the spellings and the paragraphs (¶) where each label occurs.
    """
    sources, labels = list(counts.index), list(counts.columns)
    values = counts.astype(float)
    if words is not None:
        values = values.div(pd.Series({s: words[s] for s in sources}), axis=0) * 1000
    raw, shown = counts.to_numpy(), values.to_numpy()
    hover: list[list[str]] = []
    for i, source in enumerate(sources):
        row: list[str] = []
        for j, label in enumerate(labels):
            lines = [f"<b>{source}</b>", f"{label_axis}: {label}", f"count: {int(raw[i, j])}"]
            if words is not None:
                lines.append(f"per 1,000 words: {float(shown[i, j]):.2f}")
            if found is not None:
                hits = found[(found["source"] == source) & (found["label"] == label)]
                if not hits.empty:
                    spellings = ", ".join(sorted(set(hits["text"].str.lower())))
                    paragraphs = ", ".join(f"¶{p}" for p in sorted(set(hits["paragraph"])))
                    lines += [wrap(f"as written: {spellings}"), wrap(f"in {paragraphs}")]
            row.append("<br>".join(lines))
        hover.append(row)
    fig = go.Figure(
        go.Heatmap(
            z=values.to_numpy(),
            x=labels,
            y=sources,
            text=counts.to_numpy(),
            texttemplate="%{text}",
            hovertext=hover,
            hoverinfo="text",
            colorscale="Blues",
            colorbar_title="per 1,000<br>words" if words is not None else "count",
        )
    )
    fig.update_layout(
        title=title,
        xaxis={"title": label_axis, **category_ticks(labels)},
        yaxis={"title": "source", "autorange": "reversed", **category_ticks(sources, "y")},
        template=_TEMPLATE,
    )
    return fig


def term_positions(
    found: pd.DataFrame,
    corpus: Corpus | None = None,
    *,
    title: str = "Where the terms occur",
    withheld: Collection[tuple[str, int]] = (),
) -> go.Figure:
    """Each occurrence of :func:`filmkit.analysis.find_terms` at its relative position in its
    source (0 = the first character, 1 = the last), one row per source, one colour per label;
    hover: the words around it and its paragraph (not the words, for ``withheld`` paragraphs)."""
    corpus = corpus or load_corpus()
    labels = list(dict.fromkeys(found["label"]))
    colours = _palette(labels)
    # twelve symbols against eight colours: no two of up to twelve labels share both
    symbols = (
        "circle",
        "square",
        "diamond",
        "triangle-up",
        "x",
        "star",
        "cross",
        "hexagon",
        "triangle-down",
        "pentagon",
        "star-diamond",
        "hourglass",
    )
    fig = go.Figure()
    for index, label in enumerate(labels):
        rows = found[found["label"] == label]
        positions, hover = [], []
        for _, r in rows.iterrows():
            text = corpus.text(r["source"])
            positions.append(r["start"] / max(len(text), 1))
            context = text[max(0, r["start"] - 60) : r["end"] + 60].replace("\n", " ")
            hidden = (str(r["source"]), int(r["paragraph"])) in withheld
            hover.append(
                "<br>".join(
                    [
                        f"<b>{r['text']}</b> ({label})",
                        f"{r['source']} ¶{r['paragraph']}",
                        wrap(WITHHELD_NOTE if hidden else f"…{context}…"),
                    ]
                )
            )
        fig.add_scatter(
            x=positions,
            y=rows["source"],
            mode="markers",
            name=label,
            marker={
                "color": colours[label],
                "symbol": symbols[index % len(symbols)],
                "size": 11,
                "line": {"width": 1, "color": "white"},
            },
            hovertext=hover,
            hoverinfo="text",
        )
    fig.update_layout(
        title=title,
        xaxis_title="position in the text (0 = beginning, 1 = end)",
        yaxis={"title": "source", **category_ticks(list(dict.fromkeys(found["source"])), "y")},
        xaxis_range=[-0.03, 1.03],
        legend_title="label",
        template=_TEMPLATE,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Annotations (lessons 01, 02, 03)


def chapter_genres(table: pd.DataFrame, corpus: Corpus | None = None) -> go.Figure:
    """The ``genre_by_chapter`` annotation as a chapter × genre heatmap of salience (1–3);
    hover: the instructor's note, the placement and the evidence quotations."""
    corpus = corpus or load_corpus()
    chapters = [c for c in CHAPTERS if c in set(table["chapter"])]
    genres = list(dict.fromkeys(table.sort_values(["chapter_order"])["genre"]))
    z: list[list[float | None]] = []
    hover: list[list[str]] = []
    for genre in genres:
        z_row: list[float | None] = []
        h_row: list[str] = []
        for chapter in chapters:
            rows = table[(table["chapter"] == chapter) & (table["genre"] == genre)]
            if rows.empty:
                z_row.append(None)
                h_row.append(f"{chapter}: {genre} not annotated")
                continue
            r = rows.iloc[0]
            z_row.append(float(r["salience"]))
            h_row.append(
                "<br>".join(
                    [
                        f"<b>{chapter}: {genre}</b> (salience {r['salience']}, {r['placement']})",
                        wrap(str(r["note"])),
                        _evidence_hover(str(r["evidence"]), corpus),
                    ]
                )
            )
        z.append(z_row)
        hover.append(h_row)
    columns = [f"{i + 1}. {c}" for i, c in enumerate(chapters)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=genres,
            zmin=1,
            zmax=3,
            colorscale=[[0, "#deebf7"], [0.5, "#6baed6"], [1, "#08306b"]],
            colorbar={
                "title": "salience",
                "tickvals": [1, 2, 3],
                "ticktext": ["1 trace", "2 present", "3 dominant"],
            },
            text=[[("" if v is None else str(int(v))) for v in row] for row in z],
            texttemplate="%{text}",
            hovertext=hover,
            hoverinfo="text",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        title="Genres in play, chapter by chapter (instructor annotation)",
        xaxis={"title": "chapter (as perfection-explained names them)", **category_ticks(columns)},
        yaxis={"title": "genre", "autorange": "reversed", **category_ticks(genres, "y")},
        template=_TEMPLATE,
    )
    return fig


def framing_chart(table: pd.DataFrame, corpus: Corpus | None = None) -> go.Figure:
    """The ``framing`` annotation: for each character (rows) and stage of the film (columns), a
    labelled mark per source's framing; hover: the source, the note and the evidence."""
    corpus = corpus or load_corpus()
    stages = [s for s in STAGES if s in set(table["stage"])]
    characters = list(dict.fromkeys(table["character"]))
    framings = [f for f in FRAMING_COLOURS if f in set(table["framing"])]
    framings += [f for f in dict.fromkeys(table["framing"]) if f not in framings]
    colours = {**_palette(framings), **FRAMING_COLOURS}
    # several marks in one cell sit side by side
    slot = table.groupby(["character", "stage"]).cumcount()
    size = table.groupby(["character", "stage"])["source"].transform("count")
    offset = (slot - (size - 1) / 2) * 0.27
    x = table["stage"].map({s: i for i, s in enumerate(stages)}) + offset
    fig = go.Figure()
    for framing in framings:
        mask = table["framing"] == framing
        rows = table[mask]
        hover = [
            "<br>".join(
                [
                    f"<b>{r['character']}</b>, {r['stage']}: {framing}",
                    f"in {r['source']}",
                    *([wrap(str(r["note"]))] if r["note"] else []),
                    _evidence_hover(str(r["evidence"]), corpus),
                ]
            )
            for _, r in rows.iterrows()
        ]
        fig.add_scatter(
            x=x[mask],
            y=rows["character"],
            mode="markers+text",
            name=framing,
            text=[framing] * len(rows),
            textposition="top center",
            textfont={"size": 10},
            marker={"color": colours[framing], "size": 13, "line": {"width": 1, "color": "white"}},
            hovertext=hover,
            hoverinfo="text",
        )
    fig.update_layout(
        title="Who is framed as what, and when (instructor annotation)",
        xaxis={
            "title": "point in the film (or after it)",
            "tickvals": list(range(len(stages))),
            "ticktext": [tick_label(stage, X_TICK, 1) for stage in stages],
            "automargin": True,
            "range": [-0.6, len(stages) - 0.4],
        },
        yaxis={
            "title": "character",
            "categoryorder": "array",
            "categoryarray": characters[::-1],
            **category_ticks(characters, "y"),
        },
        legend_title="framing",
        height=520,
        template=_TEMPLATE,
    )
    return fig


def aspect_matrix(aspects: pd.DataFrame, corpus: Corpus | None = None) -> go.Figure:
    """The ``reception_aspects`` annotation: a mark per source (rows), aspect (columns) and
    stance (colour and symbol); hover: the note and the evidence."""
    corpus = corpus or load_corpus()
    aspect_order = sorted(set(aspects["aspect"]))
    sources = list(dict.fromkeys(aspects["source"]))
    slot = aspects.groupby(["source", "aspect"]).cumcount()
    size = aspects.groupby(["source", "aspect"])["stance"].transform("count")
    offset = (slot - (size - 1) / 2) * 0.25
    x = aspects["aspect"].map({a: i for i, a in enumerate(aspect_order)}) + offset
    fig = go.Figure()
    for stance in STANCES:
        mask = aspects["stance"] == stance
        if not mask.any():
            continue
        rows = aspects[mask]
        colour, symbol = STANCE_STYLE[stance]
        hover = [
            "<br>".join(
                [
                    f"<b>{r['source']}</b>: {r['aspect']}, {stance}",
                    wrap(str(r["note"])),
                    _evidence_hover(str(r["evidence"]), corpus),
                ]
            )
            for _, r in rows.iterrows()
        ]
        fig.add_scatter(
            x=x[mask],
            y=rows["source"],
            mode="markers",
            name=stance,
            marker={"color": colour, "symbol": symbol, "size": 14, "line": {"width": 1}},
            hovertext=hover,
            hoverinfo="text",
        )
    fig.update_layout(
        title="What each source praises and criticises (instructor annotation)",
        xaxis={
            "title": "aspect of the film",
            "tickvals": list(range(len(aspect_order))),
            "ticktext": [tick_label(aspect, X_TICK, 1) for aspect in aspect_order],
            "automargin": True,
        },
        yaxis={
            "title": "source",
            "categoryorder": "array",
            "categoryarray": sources[::-1],
            **category_ticks(sources, "y"),
        },
        legend_title="stance",
        template=_TEMPLATE,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Sentiment and spelling (lesson 03)


def sentiment_by_paragraph(
    scores: pd.DataFrame, *, withheld: Collection[tuple[str, int]] = ()
) -> go.Figure:
    """:func:`filmkit.analysis.paragraph_sentiment` as one line per source: VADER's compound
    score (−1 to 1) of each paragraph in order. Hover shows the paragraph's opening words, except
    for the ``withheld`` paragraphs (see :func:`filmkit.teaching.withheld_paragraphs`)."""
    sources = list(dict.fromkeys(scores["source"]))
    colours = _source_palette(sources)
    fig = go.Figure()
    for source in sources:
        rows = scores[scores["source"] == source]
        hover = [
            "<br>".join(
                [
                    f"<b>{source} ¶{r['paragraph']}</b> ({r['words']} words)",
                    f"compound {r['compound']:+.2f} (neg {r['neg']:.2f}, pos {r['pos']:.2f})",
                    wrap(
                        WITHHELD_NOTE
                        if (source, int(r["paragraph"])) in withheld
                        else _opening(str(r["text"]))
                    ),
                ]
            )
            for _, r in rows.iterrows()
        ]
        fig.add_scatter(
            x=rows["paragraph"],
            y=rows["compound"],
            mode="lines+markers",
            name=source,
            line={"color": colours[source]},
            hovertext=hover,
            hoverinfo="text",
        )
    fig.add_hline(y=0, line={"color": "grey", "width": 1, "dash": "dot"})
    fig.update_layout(
        title="VADER sentiment of each paragraph, through each source",
        xaxis_title="paragraph (¶, from 0)",
        yaxis_title="compound score (−1 negative … +1 positive)",
        yaxis_range=[-1.05, 1.05],
        legend_title="source",
        template=_TEMPLATE,
    )
    return fig


def word_valence(lexicon_hits: pd.DataFrame, words: Sequence[str] | None = None) -> go.Figure:
    """:func:`filmkit.analysis.word_sentiment` rows (``source, word, valence, count``) as a bar
    per word: its valence in VADER's lexicon (−4 to 4), sorted; hover: where and how often the
    sources use it. ``words`` restricts the chart to those words (in that table)."""
    rows = lexicon_hits if words is None else lexicon_hits[lexicon_hits["word"].isin(words)]
    per_word = (
        rows.groupby("word")
        .agg(valence=("valence", "first"), count=("count", "sum"))
        .sort_values(["valence", "word"])
    )
    hover = []
    for word, r in per_word.iterrows():
        uses = rows[rows["word"] == word]
        where = ", ".join(f"{s} ({n})" for s, n in zip(uses["source"], uses["count"], strict=True))
        hover.append(
            f"<b>{word}</b>: valence {r['valence']:+.1f}<br>"
            f"used {r['count']} time(s)<br>{wrap('in ' + where)}"
        )
    colours = ["#D55E00" if v < 0 else "#0072B2" for v in per_word["valence"]]
    fig = go.Figure(
        go.Bar(
            x=per_word["valence"],
            y=per_word.index,
            orientation="h",
            marker_color=colours,
            text=[f"{v:+.1f}" for v in per_word["valence"]],
            textposition="outside",
            hovertext=hover,
            hoverinfo="text",
        )
    )
    fig.add_vline(x=0, line={"color": "grey", "width": 1})
    fig.update_layout(
        title="How VADER's lexicon scores the sources' genre and horror vocabulary",
        xaxis_title="valence in the lexicon (negative … positive)",
        yaxis={"title": "word", **category_ticks(list(per_word.index), "y")},
        height=max(350, 24 * len(per_word) + 120),
        template=_TEMPLATE,
    )
    return fig


def spelling_chart(table: pd.DataFrame) -> go.Figure:
    """:func:`filmkit.analysis.spelling_table` as grouped bars: how often each source uses each
    spelling of each name (spellings grouped by name along the axis)."""
    sources = list(dict.fromkeys(table["source"]))
    colours = _source_palette(sources)
    order = list(dict.fromkeys(table.sort_values(["name", "spelling"])["spelling"]))
    fig = go.Figure()
    for source in sources:
        rows = table[table["source"] == source]
        fig.add_bar(
            x=rows["spelling"],
            y=rows["count"],
            name=source,
            marker_color=colours[source],
            text=rows["count"],
            textposition="outside",
            hovertext=[
                f"<b>{source}</b><br>{name}: writes “{s}” {n} time(s)"
                for name, s, n in zip(rows["name"], rows["spelling"], rows["count"], strict=True)
            ],
            hoverinfo="text",
        )
    fig.update_layout(
        title="How each source spells the actor who plays Anton, and the director",
        xaxis={
            "title": "spelling used",
            "categoryorder": "array",
            "categoryarray": order,
            **category_ticks(order),
        },
        yaxis={"title": "occurrences", "dtick": 1},
        barmode="group",
        legend_title="source",
        template=_TEMPLATE,
    )
    return fig


__all__ = [
    "OKABE_ITO",
    "aspect_matrix",
    "category_ticks",
    "chapter_genres",
    "check_summary",
    "corpus_overview",
    "framing_chart",
    "sentiment_by_paragraph",
    "spelling_chart",
    "term_heatmap",
    "term_positions",
    "tick_label",
    "word_valence",
    "wrap",
]
