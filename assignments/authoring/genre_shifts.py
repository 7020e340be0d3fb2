"""Assignment 01: genre shifts. What kind of film do the sources say *The Perfection* is?

Run ``python -m filmkit.course.authoring`` after editing to rewrite the source notebook.
"""

from __future__ import annotations

from _common import RUBRIC, closing, essay_check, intro, setup

from filmkit.course.authoring import answer, code, essay, markdown, readonly, tests

ASSIGNMENT = "01-genre-shifts"
NOTEBOOK = "genre-shifts"

OVERVIEW = """\
Reviewers agree on one thing about *The Perfection*: it does not stay the film it starts as. Its
director says he wanted "something that shifts genres a few times", and the texts you study
reach for a crowd of genre labels (psychological drama, romance, thriller, horror, body horror,
revenge, B movie, giallo). In this assignment you measure which labels each source uses, where a
source *denies* a label while using it, and where in each text the labels appear; then you argue,
with quotations, whether the sources agree on what the film turns into.

About 1½ hours: Part A (counting labels, 20 min), Part B (hedged labels, 20 min), Part C (where the
labels appear, 20 min), Part D (evidence, 15 min), Part E (a short written answer, 30 min).
**22 points**: 16 marked automatically, 6 by hand."""

SHIFT_WORDS = (
    '["genre", "genres", "shift", "shifts", "shifted", "shifting", "turn", "turns", '
    '"turned", "one-eighty", "twist", "twists"]'
)

CELLS = [
    intro(
        "intro",
        "Assignment 1 · Genre shifts",
        "This assignment is about genre: it touches them only where a source names a genre by them (body horror, revenge).",
        OVERVIEW,
    ),
    setup("setup"),
    readonly(
        "part_a",
        """\
## Part A · Which labels does each source use?

`analysis.GENRE_TERMS` is the course's genre vocabulary: each *label* lists the spellings that
count for it (`horror` counts *horror*, *horrifying* and *horrific*). Matching is by whole words
and ignores case; a space also matches a hyphen, so *body horror* finds *body-horror*. Within one
label, a longer spelling claims its words first, so *horror-thriller* is counted once for
thriller, not again as *thriller*. Labels are counted independently of each other, so
*body-horror* counts under body horror and again under horror (and *horror-thriller* under
thriller and again under horror), as lesson 01 says: a compound belongs to both families. Run
the next cell to see the vocabulary, and `analysis.term_counts?` to read how the counting
function works.""",
    ),
    code("analysis.GENRE_TERMS"),
    readonly(
        "q1",
        """\
**Question 1 (2 points).** Make `genre_counts`: a DataFrame with one row per source (the index
is the source ids, in the corpus's order, `corpus.ids`) and one column per label of
`analysis.GENRE_TERMS` (in that order), holding how many times each source uses each label.""",
    ),
    answer(
        "genre_counts",
        """\
### BEGIN SOLUTION
genre_counts = analysis.term_counts(analysis.GENRE_TERMS)
### END SOLUTION
genre_counts""",
    ),
    tests(
        "test_genre_counts",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(
    genre_counts, name="genre_counts", index=load_corpus().ids, columns=list(fa.GENRE_TERMS), numbers=True
)
_found = fa.find_terms({"thriller": fa.GENRE_TERMS["thriller"]})
assert genre_counts.loc["worth-watching", "thriller"] == (_found["source"] == "worth-watching").sum(), (
    "genre_counts: the thriller count of worth-watching is not the number of times it uses the label"
)
print("✓ genre_counts: one row per source, one column per label; the spot check passes.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_frame(genre_counts, _fa.term_counts(_fa.GENRE_TERMS), name="genre_counts")
### END HIDDEN TESTS""",
    ),
    readonly(
        "q2",
        """\
**Question 2 (2 points).** How many *different* labels does each source use at least once? Make
`label_range`, a Series indexed by source id (in the corpus's order) whose values are that
number. A label used once counts as much as one used five times.""",
    ),
    answer(
        "label_range",
        """\
### BEGIN SOLUTION
label_range = (genre_counts > 0).sum(axis=1)
### END SOLUTION
label_range""",
    ),
    tests(
        "test_label_range",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.series(label_range, name="label_range", index=load_corpus().ids, numbers=True)
_found = fa.find_terms(fa.GENRE_TERMS)
assert label_range["worth-watching"] == _found.loc[_found["source"] == "worth-watching", "label"].nunique(), (
    "label_range: the value for worth-watching is not the number of labels it uses"
)
print("✓ label_range: one value per source; the spot check passes.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_series(label_range, (_fa.term_counts(_fa.GENRE_TERMS) > 0).sum(axis=1), name="label_range")
### END HIDDEN TESTS""",
    ),
    markdown(
        """\
*Think before you go on (not marked, but it feeds Part E).* Which labels does only one source
use? Look at the kinds of text in `corpus.documents`: a review decides whether to recommend the
film, an explainer retells its plot, a feature interprets it. How might each purpose shape the
labels a writer reaches for? Note your thoughts here.""",
    ),
    readonly(
        "part_b",
        """\
## Part B · "Not exactly a horror movie": hedged labels

Counting a label says nothing about *how* a text uses it. A writer can name a genre in order to
deny it (*not really a horror movie*) or to rank it below another (*more thriller than horror*).
A concordance, or keyword in context, lists every occurrence of a word with the words around it,
so you can read each use. `analysis.concordance(keyword, window=n)` gives one row per
occurrence: `source, paragraph, start, end` (where it is), `left, keyword, right` (up to `n`
words either side, within the paragraph).""",
    ),
    readonly(
        "q3",
        """\
**Question 3 (2 points).** Make `horror_kwic`, the concordance of the keyword `"horror"` with a
window of 5 words, as `analysis.concordance` returns it: its rows in the order it gives them (the
row labels and the order of the columns do not matter).""",
    ),
    answer(
        "horror_kwic",
        """\
### BEGIN SOLUTION
horror_kwic = analysis.concordance("horror", window=5)
### END SOLUTION
horror_kwic""",
    ),
    tests(
        "test_horror_kwic",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(
    horror_kwic,
    name="horror_kwic",
    columns=["source", "paragraph", "start", "end", "left", "keyword", "right"],
    column_order=False,
    rows=len(fa.find_terms(["horror"])),
    numbers=["paragraph", "start", "end"],
)
_ids = list(load_corpus().ids)
assert all(_s in _ids for _s in horror_kwic["source"]), "horror_kwic: the source column should hold source ids"
_where = [(_ids.index(_s), float(_at)) for _s, _at in zip(horror_kwic["source"], horror_kwic["start"])]
assert _where == sorted(_where), (
    "horror_kwic: keep the rows in the order analysis.concordance gives them (source by source, in the corpus's order)"
)
print("✓ horror_kwic: the concordance's columns, one row per occurrence of 'horror', in its order.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_frame(
    horror_kwic, _fa.concordance("horror", window=5), name="horror_kwic", ignore_index=True, column_order=False
)
### END HIDDEN TESTS""",
    ),
    readonly(
        "q4",
        """\
**Question 4 (2 points).** Make `hedged_horror`: the rows of `horror_kwic` whose `left` context
contains the word *not* or the word *than* (whole words, any case), with all their columns, the
rows in the same order as in `horror_kwic` (the row labels and the order of the columns do not
matter). These are the places where a source says the film is not horror, or less horror
than something else. (Hint: `Series.str.contains` with a regular expression and `\\b` for word
boundaries.)""",
    ),
    answer(
        "hedged_horror",
        """\
### BEGIN SOLUTION
hedged_horror = horror_kwic[horror_kwic["left"].str.contains(r"\\b(?:not|than)\\b", case=False, regex=True)]
### END SOLUTION
hedged_horror""",
    ),
    tests(
        "test_hedged_horror",
        2,
        """\
import re

from filmkit.kernel import marking
from filmkit.corpus import load_corpus

marking.frame(
    hedged_horror,
    name="hedged_horror",
    columns=["source", "paragraph", "start", "end", "left", "keyword", "right"],
    column_order=False,
    numbers=["paragraph", "start", "end"],
)
assert all(re.search(r"\\b(not|than)\\b", str(_left), re.IGNORECASE) for _left in hedged_horror["left"]), (
    "hedged_horror: some rows have neither 'not' nor 'than' in their left context"
)
_ids = list(load_corpus().ids)
assert all(_s in _ids for _s in hedged_horror["source"]), "hedged_horror: the source column should hold source ids"
_where = [(_ids.index(_s), float(_at)) for _s, _at in zip(hedged_horror["source"], hedged_horror["start"])]
assert _where == sorted(_where), "hedged_horror: keep the rows in the order they have in horror_kwic"
print("✓ hedged_horror: the concordance's columns, every row hedged, in horror_kwic's order.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_kwic = _fa.concordance("horror", window=5)
_expected = _kwic[_kwic["left"].str.contains(r"\\b(?:not|than)\\b", case=False, regex=True)]
_marking.same_frame(hedged_horror, _expected, name="hedged_horror", ignore_index=True, column_order=False)
### END HIDDEN TESTS""",
    ),
    readonly(
        "q5",
        """\
**Question 5 (1 point).** Make `hedging_sources`: a list of the ids of the sources that hedge the
horror label, each once, in the corpus's order. Then read their rows of `hedged_horror`: who is
speaking in each? (One of them quotes an actor.)""",
    ),
    answer(
        "hedging_sources",
        """\
### BEGIN SOLUTION
hedging_sources = [s for s in corpus.ids if s in set(hedged_horror["source"])]
### END SOLUTION
hedging_sources""",
    ),
    tests(
        "test_hedging_sources",
        1,
        """\
from filmkit.kernel import marking
from filmkit.corpus import load_corpus

_ids = load_corpus().ids
_answer = marking.value(hedging_sources, name="hedging_sources", kind=list)
assert all(type(_s) is str and _s in _ids for _s in _answer), "hedging_sources: every item should be a source id"
assert len(set(_answer)) == len(_answer), "hedging_sources: name each source once"
assert _answer == [_s for _s in _ids if _s in _answer], "hedging_sources: put the ids in the corpus's order (corpus.ids)"
print("✓ hedging_sources: a list of source ids, each once, in the corpus's order.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa
from filmkit.corpus import load_corpus as _load_corpus

_kwic = _fa.concordance("horror", window=5)
_hedged = set(_kwic.loc[_kwic["left"].str.contains(r"\\b(?:not|than)\\b", case=False, regex=True), "source"])
_marking.same_value(hedging_sources, [s for s in _load_corpus().ids if s in _hedged], name="hedging_sources")
### END HIDDEN TESTS""",
    ),
    readonly(
        "part_c",
        """\
## Part C · Where in each text do the labels appear?

The film is built to mislead: it is divided into chapters and shows events again from another
point of view, so that what looked like one genre becomes another. Do the texts about it follow
the same movement, naming the darker genres only late? To compare texts of different lengths,
measure a position as a fraction of the text: the character offset where a label first appears
divided by the length of the text (0 is the first character, 1 the end). `analysis.find_terms`
gives every occurrence with its `start` offset; `len(corpus.text(source_id))` is a text's
length.""",
    ),
    readonly(
        "q6",
        """\
**Question 6 (3 points).** Make `first_mention`: a DataFrame with one row per source (index: the
source ids in the corpus's order) and one column per label of `analysis.GENRE_TERMS` (in that
order), holding the relative position of the **first** occurrence of that label in that source,
and `NaN` where the source never uses the label. Positions right to two decimals (as shown under
your answer) or finer count. (Hint: compute a `position` column on
`analysis.find_terms(analysis.GENRE_TERMS)`, then `pivot_table(..., aggfunc="min")` and
`reindex`.)""",
    ),
    answer(
        "first_mention",
        """\
### BEGIN SOLUTION
found = analysis.find_terms(analysis.GENRE_TERMS)
lengths = {source: len(corpus.text(source)) for source in corpus.ids}
found["position"] = found["start"] / found["source"].map(lengths)
first_mention = found.pivot_table(index="source", columns="label", values="position", aggfunc="min").reindex(
    index=corpus.ids, columns=list(analysis.GENRE_TERMS)
)
### END SOLUTION
first_mention.round(2)""",
    ),
    tests(
        "test_first_mention",
        3,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(
    first_mention, name="first_mention", index=load_corpus().ids, columns=list(fa.GENRE_TERMS), numbers=True
)
_positions = first_mention.astype(float)
_unused = (fa.term_counts(fa.GENRE_TERMS) == 0).to_numpy()
assert (_positions.isna().to_numpy() == _unused).all(), (
    "first_mention: NaN should be exactly where a source never uses a label"
)
assert ((_positions.fillna(0) >= 0) & (_positions.fillna(0) <= 1)).to_numpy().all(), (
    "first_mention: positions are fractions of the text, from 0 up to 1"
)
print("✓ first_mention: the right shape, NaN where a label is unused, positions between 0 and 1.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa
from filmkit.corpus import load_corpus as _load_corpus

_corpus = _load_corpus()
_found = _fa.find_terms(_fa.GENRE_TERMS)
_found["position"] = _found["start"] / _found["source"].map({s: len(_corpus.text(s)) for s in _corpus.ids})
_expected = _found.groupby(["source", "label"])["position"].min().unstack().reindex(
    index=_corpus.ids, columns=list(_fa.GENRE_TERMS)
)
_marking.same_frame(first_mention, _expected, name="first_mention", decimals=2)
### END HIDDEN TESTS""",
    ),
    markdown(
        """\
*Think (not marked).* In which sources does a darker label (horror, body horror, revenge) first
appear after the midpoint? Does any review mirror the film's turn in its own structure, or do
the texts announce the genre up front to prepare (or warn) their readers?""",
    ),
    readonly(
        "part_d",
        f"""\
## Part D · Evidence

**Question 7 (4 points).** The claim: *the sources describe The Perfection as a film that
changes genre partway through.* Give four quotations that support it, as a list named
`genre_shift_evidence` of `("quotation", "source")` pairs, for example
`("exact words from the text", "worth-watching")`. The source may be named by its id, its
author's surname or words of its title, with a locator after a comma if you like
(`"Glass, ¶5"`). Each quotation earns 1 point when

- it is verified in the source you attribute it to (a quotation from another source, or with a
  changed word, earns nothing: the check shows the source's own wording);
- it has at least 4 of the source's own words (not your [bracketed] ones; a hyphenated word is
  one) and mentions a change or a genre: one of {SHIFT_WORDS}, or a spelling
  of a label of `analysis.GENRE_TERMS`;
- no more than 2 quotations from one source count, and a passage counts once (two overlapping
  quotations count as one).""",
    ),
    answer(
        "genre_shift_evidence",
        """\
### BEGIN SOLUTION
genre_shift_evidence = [
    (
        "What started as a psychological drama featuring a pair of cellists turned into something much more sinister",
        "madness-music-genius",
    ),
    ("I wanted to create something that shifts genres a few times.", "madness-music-genius"),
    ("the movie does a complete one-eighty", "Glass"),
    ("Scenes start to dip into ‘B’ movie territory", "worth-watching"),
]
### END SOLUTION""",
    ),
    tests(
        "test_genre_shift_evidence",
        4,
        f"""\
from filmkit.kernel.marking import mark_evidence
import filmkit.analysis as _fa

mark_evidence(
    genre_shift_evidence,
    points=4,
    need=4,
    max_per_source=2,
    claim="The sources describe The Perfection as a film that changes genre partway through.",
    must_mention={SHIFT_WORDS} + [s for spellings in _fa.GENRE_TERMS.values() for s in spellings],
)""",
    ),
    readonly(
        "part_e",
        "## Part E · Written answer\n\n"
        "**Question 8 (6 points, marked by hand).** In 250 to 400 words: *do the sources agree on "
        "what kind of film The Perfection turns into?* Build your answer on your tables from Parts "
        "A to C (use at least one figure from them) and quote at least three different sources, "
        "citing each quotation with a parenthetical that names its source.\n\n"
        + RUBRIC.format(
            sources=3,
            argument2="A clear answer to the question, held through the whole answer.",
            argument1="An answer, but unclear or dropped along the way.",
            analysis2="Relates the labels to each text's kind and purpose (review, explainer, feature) and uses a figure from Parts A to C correctly.",
            analysis1="Does one of these.",
        ),
    ),
    essay(
        "essay_genre",
        6,
        """\
The sources agree that The Perfection changes genre, but not on what it changes into, and the
disagreement follows what each text is for. The feature is the most generous with labels (five of
the ten in our vocabulary) and quotes the director's own plan: "It starts as a romance, shifts to
horror, and ends as an empowerment story" (madness-music-genius). Yet the same text reports
Allison Williams saying "It’s not exactly a horror movie" (madness-music-genius), so even the
film's makers hedge the darkest label.

The reviews hedge too, for their own reasons. A review has to tell readers whether to watch, and
worth-watching sorts its audience by genre: the film suits those "looking for more thriller than
horror" and is "not really a horror movie" (worth-watching). Glass, enthusiastic, describes the
turn itself rather than naming a genre: "the movie does a complete one-eighty" (Glass). The
nothing-perfect review is the only text to place the film in a critical tradition, the "Giallo
and Korean horror films" that inspired it (nothing-perfect), and in a lower one: "The Perfection
is a trashy B movie" (nothing-perfect).

The explainer, whose purpose is to retell the plot, uses only three labels and calls the film a
"perfect horror-thriller" in its first sentence (perfection-explained): it does not need to
persuade anyone, so it names the genre once and moves on to the chapters. So the sources agree
that the film turns, and they agree in hedging *horror*; what the film turns into depends on
whether the writer is recommending it, explaining it or interpreting it.""",
    ),
    essay_check("essay_genre_check", "essay_genre", 3),
    closing("closing"),
]
