"""Assignment 03: critical reception. What did critics make of *The Perfection*, and how far can
these five texts be trusted as evidence of it?

Run ``python -m filmkit.course.authoring`` after editing to rewrite the source notebook.
"""

from __future__ import annotations

from _common import RUBRIC, closing, essay_check, intro, setup

from filmkit.course.authoring import answer, essay, markdown, readonly, tests

ASSIGNMENT = "03-critical-reception"
NOTEBOOK = "critical-reception"

OVERVIEW = """\
"While critics were divided on their opinions, no one was able to ignore the film", says one of
our sources. Were they divided, and what can five texts found online tell us about it? In this
assignment you test a sentiment lexicon against the texts (and find what it actually measures),
you check the sources against each other on names and dates, as any historian checks witnesses,
and you gather the critics' judgements in their own words; then you assess how reliable these
texts are as evidence of the film's reception.

About 1½ hours: Part A (what sentiment scores measure, 30 min), Part B (checking the sources
against each other, 20 min), Part C (evidence, 15 min), Part D (a short written answer, 30 min).
**22 points**: 16 marked automatically, 6 by hand."""

FOCUS = (
    "This assignment is about how critics judged the film: the abuse and violence appear in it "
    "mainly as the subject matter that a sentiment lexicon picks up in plot summaries."
)

JUDGEMENT_WORDS = (
    '["astounding", "brilliant", "bold", "risks", "fun", "terrific", "remarkable", '
    '"refreshing", "masterpiece", "entertaining", "intrigued", "worth", "ridiculous", "dumb", '
    '"goofy", "trashy", "trash", "clumsily", "unwatchable", "exploitative", "frustrating", '
    '"sub-par", "wasted"]'
)

CELLS = [
    intro("intro", "Assignment 3 · Critical reception", FOCUS, OVERVIEW),
    setup("setup"),
    readonly(
        "part_a",
        """\
## Part A · What does a sentiment score measure?

VADER is a lexicon of everyday English words, each with a valence (how positive or negative it
is), plus rules for negation and intensifiers. `analysis.paragraph_sentiment()` scores every
paragraph of the corpus: `neg`, `neu` and `pos` are the shares of negative, neutral and positive
wording, and `compound` sums them up from −1 to 1. It is tempting to read a review's compound
score as the critic's verdict. The questions below test that reading.""",
    ),
    readonly(
        "q1",
        """\
**Question 1 (2 points).** Make `source_tone`: a Series indexed by source id (in the corpus's
order) holding the **mean** `compound` score of each source's paragraphs. Means right to three
decimals (as shown under your answer) or finer count.""",
    ),
    answer(
        "source_tone",
        """\
### BEGIN SOLUTION
source_tone = analysis.paragraph_sentiment().groupby("source")["compound"].mean().reindex(corpus.ids)
### END SOLUTION
source_tone.round(3)""",
    ),
    tests(
        "test_source_tone",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.series(source_tone, name="source_tone", index=load_corpus().ids, numbers=True)
_ps = fa.paragraph_sentiment()
_mean = _ps.loc[_ps["source"] == "worth-watching", "compound"].mean()
assert abs(float(source_tone["worth-watching"]) - _mean) <= 0.5e-3 + 1e-9, (
    "source_tone: the value for worth-watching is not the mean compound of its paragraphs, to 3 decimals or finer"
)
print("✓ source_tone: one mean per source; the spot check passes.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa
from filmkit.corpus import load_corpus as _load_corpus

_scores = _fa.paragraph_sentiment()
_expected = _scores.groupby("source")["compound"].mean().reindex(_load_corpus().ids)
_marking.same_series(source_tone, _expected, name="source_tone", decimals=3)
### END HIDDEN TESTS""",
    ),
    readonly(
        "q2",
        """\
**Question 2 (2 points).** Make `darkest_paragraphs`: the five paragraphs with the lowest
`compound` score, as a DataFrame with the columns `source`, `paragraph` and `compound` (in any
order), lowest first (the row labels do not matter). If paragraphs tie on the fifth-lowest
score, any of them may complete the five: every such choice counts, and Question 3 is marked on
yours. Then read them: `corpus.paragraphs` has their text.""",
    ),
    answer(
        "darkest_paragraphs",
        """\
### BEGIN SOLUTION
darkest_paragraphs = analysis.paragraph_sentiment().nsmallest(5, "compound")[["source", "paragraph", "compound"]]
### END SOLUTION
darkest_paragraphs""",
    ),
    tests(
        "test_darkest_paragraphs",
        2,
        """\
from filmkit.kernel import marking

marking.frame(
    darkest_paragraphs,
    name="darkest_paragraphs",
    columns=["source", "paragraph", "compound"],
    column_order=False,
    rows=5,
    numbers=["paragraph", "compound"],
)
assert darkest_paragraphs["compound"].astype(float).is_monotonic_increasing, "darkest_paragraphs: put the lowest score first"
print("✓ darkest_paragraphs: five rows, the right columns, lowest first.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

# any right answer counts: the paragraphs below the fifth-lowest score, and any of those tied at it
_marking.same_lowest(
    darkest_paragraphs,
    _fa.paragraph_sentiment(),
    n=5,
    by="compound",
    columns=["source", "paragraph", "compound"],
    name="darkest_paragraphs",
)
### END HIDDEN TESTS""",
    ),
    readonly(
        "q3",
        """\
**Question 3 (1 point).** Make `explainer_in_darkest`: how many of your five darkest paragraphs
(`darkest_paragraphs`) come from the plot explainer, `perfection-explained` (a whole number, such
as an `int`). Is the explainer the harshest critic of the film, or is something else being
measured?""",
    ),
    answer(
        "explainer_in_darkest",
        """\
### BEGIN SOLUTION
explainer_in_darkest = int((darkest_paragraphs["source"] == "perfection-explained").sum())
### END SOLUTION
explainer_in_darkest""",
    ),
    tests(
        "test_explainer_in_darkest",
        1,
        """\
from filmkit.kernel import marking

_answer = marking.value(explainer_in_darkest, name="explainer_in_darkest", kind=int)
assert 0 <= _answer <= 5, "explainer_in_darkest: a count of five paragraphs is between 0 and 5"
print("✓ explainer_in_darkest: a whole number from 0 to 5.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_scores = _fa.paragraph_sentiment()
try:  # marked on your own darkest_paragraphs when it is a right answer to Question 2
    _own = _marking.same_lowest(
        darkest_paragraphs,
        _scores,
        n=5,
        by="compound",
        columns=["source", "paragraph", "compound"],
        name="darkest_paragraphs",
    )
    _choices = [_own]
except (NameError, _marking.AnswerError):  # otherwise on any right answer to it
    _choices = _marking.lowest_choices(_scores, n=5, by="compound")
_right = sorted({int((_c["source"] == "perfection-explained").sum()) for _c in _choices})
_marking.same_value(explainer_in_darkest, _right, name="explainer_in_darkest", one_of=True)
### END HIDDEN TESTS""",
    ),
    readonly(
        "q4",
        """\
**Question 4 (2 points).** Alicia Glass's review opens "Oh, this one is absolutely astounding
y’all". Make `glass_negative_words`: the rows of
`analysis.word_sentiment(sources=["play-it-again-lizzie"])` whose `valence` is below 0, with all
its columns (in any order), its rows in the order that function gives them (the row labels do
not matter). What are these negative words describing: the film's quality, or what happens in
it?""",
    ),
    answer(
        "glass_negative_words",
        """\
### BEGIN SOLUTION
glass_words = analysis.word_sentiment(sources=["play-it-again-lizzie"])
glass_negative_words = glass_words[glass_words["valence"] < 0]
### END SOLUTION
glass_negative_words""",
    ),
    tests(
        "test_glass_negative_words",
        2,
        """\
from filmkit.kernel import marking

marking.frame(
    glass_negative_words,
    name="glass_negative_words",
    columns=["source", "word", "valence", "count"],
    column_order=False,
    numbers=["valence", "count"],
)
assert (glass_negative_words["valence"].astype(float) < 0).all(), "glass_negative_words: keep only words with a valence below 0"
assert (glass_negative_words["source"] == "play-it-again-lizzie").all(), "glass_negative_words: only Glass's review"
_order = [(-float(_n), str(_w)) for _n, _w in zip(glass_negative_words["count"], glass_negative_words["word"])]
assert _order == sorted(_order), (
    "glass_negative_words: keep the rows in the order analysis.word_sentiment gives them (most frequent first)"
)
print("✓ glass_negative_words: the right columns; only negative words of Glass's review, in order.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_words = _fa.word_sentiment(sources=["play-it-again-lizzie"])
_marking.same_frame(
    glass_negative_words, _words[_words["valence"] < 0], name="glass_negative_words", ignore_index=True, column_order=False
)
### END HIDDEN TESTS""",
    ),
    markdown(
        """\
*Think (not marked).* Put `source_tone` next to each text's verdict in its own words (a score of
"60% CHILLIN", "absolutely astounding", "a trashy B movie, but that isn't automatically a bad
thing"). Where does the lexicon agree with the critic, and where does it hear the plot instead of
the judgement?""",
    ),
    readonly(
        "part_b",
        """\
## Part B · Checking the sources against each other

Historians check witnesses against each other: where they disagree on a fact, at least one is
wrong, and a witness who contradicts *itself* deserves care. Our texts disagree on the spelling
of the director's name (Richard Shepard, on the film's credits) and of an actor's, and on the
year of release. The texts keep their own spellings: the corpus is never corrected.""",
    ),
    readonly(
        "q5",
        """\
**Question 5 (2 points).** Make `director_spellings`: the source × term table of counts for the
terms `"Shepard"`, `"Shepherd"` and `"Shephard"` (in that order), as `analysis.term_counts`
gives it.""",
    ),
    answer(
        "director_spellings",
        """\
### BEGIN SOLUTION
director_spellings = analysis.term_counts(["Shepard", "Shepherd", "Shephard"])
### END SOLUTION
director_spellings""",
    ),
    tests(
        "test_director_spellings",
        2,
        """\
from filmkit.kernel import marking
from filmkit.corpus import load_corpus

marking.frame(
    director_spellings,
    name="director_spellings",
    index=load_corpus().ids,
    columns=["Shepard", "Shepherd", "Shephard"],
    numbers=True,
)
print("✓ director_spellings: one row per source, one column per spelling.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_frame(director_spellings, _fa.term_counts(["Shepard", "Shepherd", "Shephard"]), name="director_spellings")
### END HIDDEN TESTS""",
    ),
    readonly(
        "q6",
        """\
**Question 6 (1 point).** Make `inconsistent_sources`: a list of the ids of the sources that spell
the director's surname in more than one way, in the corpus's order.""",
    ),
    answer(
        "inconsistent_sources",
        """\
### BEGIN SOLUTION
inconsistent_sources = list(director_spellings.index[(director_spellings > 0).sum(axis=1) > 1])
### END SOLUTION
inconsistent_sources""",
    ),
    tests(
        "test_inconsistent_sources",
        1,
        """\
from filmkit.kernel import marking
from filmkit.corpus import load_corpus

_ids = load_corpus().ids
_answer = marking.value(inconsistent_sources, name="inconsistent_sources", kind=list)
assert all(type(_s) is str and _s in _ids for _s in _answer), "inconsistent_sources: every item should be a source id"
assert len(set(_answer)) == len(_answer), "inconsistent_sources: name each source once"
assert _answer == [_s for _s in _ids if _s in _answer], "inconsistent_sources: put the ids in the corpus's order (corpus.ids)"
print("✓ inconsistent_sources: a list of source ids, each once, in the corpus's order.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_used = (_fa.term_counts(["Shepard", "Shepherd", "Shephard"]) > 0).sum(axis=1)
_marking.same_value(inconsistent_sources, [s for s in _used.index if _used[s] > 1], name="inconsistent_sources")
### END HIDDEN TESTS""",
    ),
    readonly(
        "q7",
        """\
**Question 7 (2 points).** Make `fact_table`: the source × term table of counts for `"Weber"`,
`"Webber"`, `"2018"` and `"2019"` (in that order). Then find each occurrence with
`analysis.concordance`: which source gives both years, and in what context? Look at
`corpus.documents` too: when does each text say it was written?""",
    ),
    answer(
        "fact_table",
        """\
### BEGIN SOLUTION
fact_table = analysis.term_counts(["Weber", "Webber", "2018", "2019"])
### END SOLUTION
fact_table""",
    ),
    tests(
        "test_fact_table",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(
    fact_table, name="fact_table", index=load_corpus().ids, columns=["Weber", "Webber", "2018", "2019"], numbers=True
)
assert fact_table["2018"].astype(float).sum() == len(fa.concordance("2018")), (
    "fact_table: the 2018 column does not count every '2018'"
)
print("✓ fact_table: the right shape; the 2018 column is right.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_frame(fact_table, _fa.term_counts(["Weber", "Webber", "2018", "2019"]), name="fact_table")
### END HIDDEN TESTS""",
    ),
    readonly(
        "part_c",
        f"""\
## Part C · Evidence

**Question 8 (4 points).** The claim: *critics judged The Perfection in opposite terms, as bold
and astonishing or as ridiculous and trashy.* Give four quotations that support it, as a list
named `judgement_evidence` of `("quotation", "source")` pairs. Each earns 1 point when it is
verified in the source you attribute it to, has at least 4 of the source's own words (not your
[bracketed] ones; a hyphenated word is one), and carries a judgement: one of
{JUDGEMENT_WORDS}. No more than 2 quotations from one source count, and a passage counts once.
A good answer quotes both sides.""",
    ),
    answer(
        "judgement_evidence",
        """\
### BEGIN SOLUTION
judgement_evidence = [
    ("Oh, this one is absolutely astounding y’all.", "Glass"),
    ("The story ends up being completely ridiculous.", "worth-watching"),
    ("The Perfection is a trashy B movie, but that isn’t automatically a bad thing.", "nothing-perfect"),
    ("Creepy, disturbing, gory, but entertaining, nonetheless", "perfection-explained"),
]
### END SOLUTION""",
    ),
    tests(
        "test_judgement_evidence",
        4,
        f"""\
from filmkit.kernel.marking import mark_evidence

mark_evidence(
    judgement_evidence,
    points=4,
    need=4,
    max_per_source=2,
    claim="Critics judged The Perfection in opposite terms: bold and astonishing, or ridiculous and trashy.",
    must_mention={JUDGEMENT_WORDS},
)""",
    ),
    readonly(
        "part_d",
        "## Part D · Written answer\n\n"
        "**Question 9 (6 points, marked by hand).** In 250 to 400 words: *how far can these five "
        "texts be trusted as evidence of how critics received The Perfection?* Consider who wrote "
        "them and when (`corpus.documents`), what they spell or date differently (Part B), and "
        "what the sentiment scores can and cannot tell you (Part A). Quote at least three "
        "different sources, citing each quotation with a parenthetical that names its source.\n\n"
        + RUBRIC.format(
            sources=3,
            argument2="A clear, qualified judgement of the texts' reliability, held through the whole answer.",
            argument1="A judgement, but unqualified or dropped along the way.",
            analysis2="Uses both kinds of evidence (the source checks of Part B and the limits of the sentiment scores of Part A) correctly, with a figure.",
            analysis1="Uses one of them.",
        ),
    ),
    essay(
        "essay_reception",
        6,
        """\
These five texts are usable evidence of the film's reception only with care: they are few, mostly
anonymous, and not all of them are criticism. Only one review names its author and date, Alicia
Glass, "Published on: August 26, 2025" (Glass), six years after the film's release, so it records
a later viewing rather than the reception of 2019. The nothing-perfect review says it was written
"a few months" after release (nothing-perfect), and the rest give no date at all.

Checking the texts against each other lowers trust in the feature in particular. It spells the
director both "Richard Shepard" and "Richard Shepherd" (madness-music-genius), and dates the film's
release to two different years: it "debuted on Netflix in 2019" and was one of the first "straight
to Netflix" films "in 2018" (madness-music-genius). It also quotes test audiences and tweets
without saying where they come from. Its claims about the making of the film may be right, but
this text alone cannot establish them.

Sentiment scores do not rescue the evidence. The five darkest paragraphs by VADER's score include
four from the explainer, which passes no judgement on the film there: it retells the plot. Glass,
who finds the film "absolutely astounding" (Glass), uses words such as *horrific* and *insanity*
that the lexicon reads as negative, because they describe what happens on screen. The judgements
themselves have to be read: the film is "a trashy B movie, but that isn’t automatically a bad
thing" (nothing-perfect) for one critic and "completely ridiculous" for another (worth-watching).
The texts do show that critics disagreed, in their own words; they cannot show how the film was
received as a whole.""",
    ),
    essay_check("essay_reception_check", "essay_reception", 3),
    closing("closing"),
]
