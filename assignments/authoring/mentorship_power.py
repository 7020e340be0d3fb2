"""Assignment 02: mentorship and the abuse of power. How do the sources name Anton, his school
and what happens there?

Run ``python -m filmkit.course.authoring`` after editing to rewrite the source notebook.
"""

from __future__ import annotations

from _common import RUBRIC, closing, essay_check, intro, setup

from filmkit.course.authoring import answer, code, essay, markdown, readonly, tests

ASSIGNMENT = "02-mentorship-power"
NOTEBOOK = "mentorship-power"

OVERVIEW = """\
At the centre of *The Perfection* is a music school and the man who runs it. The texts you study
call Anton a *mentor*, a *trainer*, an *instructor*; one calls him and his colleagues abusers in
plain words, and one reads the school through the Indian *guru-shishya* (teacher-disciple)
tradition. Others never say what happens at the school at all, to keep the film's secret. In this
assignment you measure who is named and in which words, which texts name the abuse and which stay
silent, and how each text frames Anton; then you argue, with quotations, how the sources
describe the relationship between the teacher and his students.

About 1¾ hours: Part A (the words for teacher, student and school, 30 min), Part B (naming the
abuse, 25 min), Part C (framing Anton, 15 min), Part D (evidence, 15 min), Part E (a short
written answer, 30 min). **24 points**: 18 marked automatically, 6 by hand."""

FOCUS = (
    "This assignment works most directly with the texts' passages about the abuse at the film's "
    "music school: the counts and concordances below put those words on your screen, in short "
    "windows."
)

SYSTEM_WORDS = (
    '["academy", "Bachoff", "school", "system", "systems", "institutions", "teachers", '
    '"mentors", "mentorship", "discipline", "power", "conservatories"]'
)

CELLS = [
    intro("intro", "Assignment 2 · Mentorship and the abuse of power", FOCUS, OVERVIEW),
    setup("setup"),
    readonly(
        "part_a",
        """\
## Part A · Teacher, student, school: the words the sources choose

What a text calls a person frames them before it says anything about them. *Mentor* suggests
guidance freely given; *trainer* suggests drill; *the academy* or *Bachoff* makes an institution
the actor rather than a man. `analysis.ROLE_TERMS` groups the sources' own words into four labels
(run the next cell to see them).""",
    ),
    code("analysis.ROLE_TERMS"),
    readonly(
        "q1",
        """\
**Question 1 (2 points).** Make `anton_mentions`: a Series indexed by source id (every source, in
the corpus's order, with 0 for a source that never names him) holding how many times each source
names Anton. (Hint: `analysis.term_counts` takes a list of terms too.) Which source never names
him, and what does it call the teachers instead?""",
    ),
    answer(
        "anton_mentions",
        """\
### BEGIN SOLUTION
anton_mentions = analysis.term_counts(["Anton"])["Anton"]
### END SOLUTION
anton_mentions""",
    ),
    tests(
        "test_anton_mentions",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.series(anton_mentions, name="anton_mentions", index=load_corpus().ids, numbers=True)
assert anton_mentions["perfection-explained"] == len(fa.concordance("Anton", sources=["perfection-explained"])), (
    "anton_mentions: the value for perfection-explained is not the number of times it names Anton"
)
print("✓ anton_mentions: one value per source; the spot check passes.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_series(anton_mentions, _fa.term_counts(["Anton"])["Anton"], name="anton_mentions")
### END HIDDEN TESTS""",
    ),
    readonly(
        "q2",
        """\
**Question 2 (2 points).** Make `role_counts`: the source × label table of counts for
`analysis.ROLE_TERMS` (sources as rows in the corpus's order, the labels as columns in their
order).""",
    ),
    answer(
        "role_counts",
        """\
### BEGIN SOLUTION
role_counts = analysis.term_counts(analysis.ROLE_TERMS)
### END SOLUTION
role_counts""",
    ),
    tests(
        "test_role_counts",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(role_counts, name="role_counts", index=load_corpus().ids, columns=list(fa.ROLE_TERMS), numbers=True)
_found = fa.find_terms({"institution": fa.ROLE_TERMS["institution"]})
assert role_counts.loc["perfection-explained", "institution"] == (_found["source"] == "perfection-explained").sum(), (
    "role_counts: the institution count of perfection-explained is not right"
)
print("✓ role_counts: one row per source, one column per label; the spot check passes.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_frame(role_counts, _fa.term_counts(_fa.ROLE_TERMS), name="role_counts")
### END HIDDEN TESTS""",
    ),
    readonly(
        "q3",
        """\
**Question 3 (2 points).** The explainer is four times longer than some reviews, so raw counts
mislead. Make `role_share`: `role_counts` with each row divided by that row's total, so that each
source's row sums to 1 (the share of its role words that go to each label). Shares right to two
decimals (as shown under your answer) or finer count. Which source speaks most of the
institution, and which of mentors?""",
    ),
    answer(
        "role_share",
        """\
### BEGIN SOLUTION
role_share = role_counts.div(role_counts.sum(axis=1), axis=0)
### END SOLUTION
role_share.round(2)""",
    ),
    tests(
        "test_role_share",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(role_share, name="role_share", index=load_corpus().ids, columns=list(fa.ROLE_TERMS), numbers=True)
_sums = role_share.astype(float).sum(axis=1)
assert ((_sums - 1).abs() <= 0.005 * len(fa.ROLE_TERMS) + 1e-9).all(), (
    "role_share: every row should sum to 1 (give the shares to at least 2 decimals)"
)
print("✓ role_share: the right shape, and every row sums to 1.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_counts = _fa.term_counts(_fa.ROLE_TERMS)
_marking.same_frame(role_share, _counts.div(_counts.sum(axis=1), axis=0), name="role_share", decimals=2)
### END HIDDEN TESTS""",
    ),
    readonly(
        "part_b",
        """\
## Part B · Which texts name the abuse?

The film hides its subject until its second half, and reviewers who do not want to spoil it have
to choose what to say. `analysis.POWER_TERMS` groups the sources' words for abuse, punishment,
power, control, victims and survival (run the next cell). Counting them shows which texts name
what happens at the school and which leave it unsaid: an absence is evidence too.""",
    ),
    code("analysis.POWER_TERMS"),
    readonly(
        "q4",
        """\
**Question 4 (2 points).** Make `power_counts`: the source × label table of counts for
`analysis.POWER_TERMS`, as in Question 2.""",
    ),
    answer(
        "power_counts",
        """\
### BEGIN SOLUTION
power_counts = analysis.term_counts(analysis.POWER_TERMS)
### END SOLUTION
power_counts""",
    ),
    tests(
        "test_power_counts",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa
from filmkit.corpus import load_corpus

marking.frame(power_counts, name="power_counts", index=load_corpus().ids, columns=list(fa.POWER_TERMS), numbers=True)
_found = fa.find_terms({"survival": fa.POWER_TERMS["survival"]})
assert power_counts.loc["madness-music-genius", "survival"] == (_found["source"] == "madness-music-genius").sum(), (
    "power_counts: the survival count of madness-music-genius is not right"
)
print("✓ power_counts: one row per source, one column per label; the spot check passes.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_marking.same_frame(power_counts, _fa.term_counts(_fa.POWER_TERMS), name="power_counts")
### END HIDDEN TESTS""",
    ),
    readonly(
        "q5",
        """\
**Question 5 (2 points).** Make `power_per_1000`: a Series indexed by source id (corpus order)
holding how many words of the `POWER_TERMS` vocabulary (all labels together) each source uses per
1,000 words of its text. A text's length in words is the `words` column of `corpus.documents`.
Rates right to two decimals (as shown under your answer) or finer count.""",
    ),
    answer(
        "power_per_1000",
        """\
### BEGIN SOLUTION
words = corpus.documents.set_index("id")["words"]
power_per_1000 = power_counts.sum(axis=1) / words * 1000
### END SOLUTION
power_per_1000.round(2)""",
    ),
    tests(
        "test_power_per_1000",
        2,
        """\
from filmkit.kernel import marking
from filmkit.corpus import load_corpus

marking.series(power_per_1000, name="power_per_1000", index=load_corpus().ids, numbers=True)
_rates = power_per_1000.astype(float)
assert (_rates >= 0).all() and (_rates < 1000).all(), (
    "power_per_1000: rates per 1,000 words are between 0 and 1,000"
)
print("✓ power_per_1000: one rate per source, in range.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa
from filmkit.corpus import load_corpus as _load_corpus

_words = _load_corpus().documents.set_index("id")["words"].astype(float)
_total = _fa.term_counts(_fa.POWER_TERMS).sum(axis=1)
_marking.same_series(power_per_1000, _total / _words * 1000, name="power_per_1000", decimals=2)
### END HIDDEN TESTS""",
    ),
    readonly(
        "q6",
        """\
**Question 6 (2 points).** Make `silent_sources`: a list of the ids of the sources that use none
of the `POWER_TERMS` vocabulary, in the corpus's order. Then look at what kind of text each one
is (`corpus.documents`): why might a text about this film say nothing of what it is about?""",
    ),
    answer(
        "silent_sources",
        """\
### BEGIN SOLUTION
silent_sources = [source for source in corpus.ids if power_counts.loc[source].sum() == 0]
### END SOLUTION
silent_sources""",
    ),
    tests(
        "test_silent_sources",
        2,
        """\
from filmkit.kernel import marking
from filmkit.corpus import load_corpus

_ids = load_corpus().ids
_answer = marking.value(silent_sources, name="silent_sources", kind=list)
assert all(type(_s) is str and _s in _ids for _s in _answer), "silent_sources: every item should be a source id"
assert len(set(_answer)) == len(_answer), "silent_sources: name each source once"
assert _answer == [_s for _s in _ids if _s in _answer], "silent_sources: put the ids in the corpus's order (corpus.ids)"
print("✓ silent_sources: a list of source ids, each once, in the corpus's order.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_counts = _fa.term_counts(_fa.POWER_TERMS).sum(axis=1)
_marking.same_value(silent_sources, [s for s in _counts.index if _counts[s] == 0], name="silent_sources")
### END HIDDEN TESTS""",
    ),
    readonly(
        "part_c",
        """\
## Part C · How does each text frame Anton?

The words around a name colour it. VADER, a sentiment lexicon of everyday English, gives a
passage a *compound* score from −1 (negative) to 1 (positive): `analysis.sentiment(text)` returns
it. Here you score the few words around each mention of Anton. (Lesson 03 and Assignment 3 look
at what such scores miss.)""",
    ),
    readonly(
        "q7",
        """\
**Question 7 (2 points).** Make `anton_tone`: a Series indexed by the ids of the sources that name
Anton (in the corpus's order) holding the **mean** compound score of his contexts in that source.
A context is one row of `analysis.concordance("Anton", window=6)`: its `left`, `keyword` and
`right` joined with single spaces. Means right to four decimals (as shown under your answer, and
as VADER gives its scores) or finer count.""",
    ),
    answer(
        "anton_tone",
        """\
### BEGIN SOLUTION
anton_kwic = analysis.concordance("Anton", window=6)
contexts = anton_kwic["left"] + " " + anton_kwic["keyword"] + " " + anton_kwic["right"]
anton_kwic["compound"] = [analysis.sentiment(context)["compound"] for context in contexts]
anton_tone = anton_kwic.groupby("source", sort=False)["compound"].mean()
### END SOLUTION
anton_tone.round(4)""",
    ),
    tests(
        "test_anton_tone",
        2,
        """\
from filmkit.kernel import marking
from filmkit import analysis as fa

_naming = [s for s, n in fa.term_counts(["Anton"])["Anton"].items() if n > 0]
marking.series(anton_tone, name="anton_tone", index=_naming, numbers=True)
_tones = anton_tone.astype(float)
assert ((_tones >= -1) & (_tones <= 1)).all(), "anton_tone: compound scores are between -1 and 1"
print("✓ anton_tone: one mean score per source that names Anton, in range.")
### BEGIN HIDDEN TESTS
from filmkit.kernel import marking as _marking
import filmkit.analysis as _fa

_kwic = _fa.concordance("Anton", window=6)
_scores = [
    _fa.sentiment(" ".join([left, keyword, right]))["compound"]
    for left, keyword, right in zip(_kwic["left"], _kwic["keyword"], _kwic["right"])
]
_expected = _kwic.assign(compound=_scores).groupby("source", sort=False)["compound"].mean()
_marking.same_series(anton_tone, _expected, name="anton_tone", decimals=4)
### END HIDDEN TESTS""",
    ),
    markdown(
        """\
*Think (not marked).* Read the contexts behind the most negative mean: is the negativity about
Anton, or about what the sentence around him describes? What does that tell you about using a
sentiment score as evidence of a text's attitude?""",
    ),
    readonly(
        "part_d",
        f"""\
## Part D · Evidence

**Question 8 (4 points).** The claim: *the sources present the abuse in the film as the work of
a system (a school, its teachers, a culture of discipline), not only of one cruel man.* Give four
quotations that support it, as a list named `system_evidence` of `("quotation", "source")` pairs.
Each earns 1 point when it is verified in the source you attribute it to, has at least 4 of the
source's own words (not your [bracketed] ones; a hyphenated word is one),
and mentions the system: one of {SYSTEM_WORDS}. No more than 2 quotations from one source count,
and a passage counts once.""",
    ),
    answer(
        "system_evidence",
        """\
### BEGIN SOLUTION
system_evidence = [
    (
        "institutions, and systems of power manipulate the notion of ‘perfection’ into something poisonous",
        "madness-music-genius",
    ),
    ("Discipline is worshiped, mentors are worshiped, and mistakes are punished.", "madness-music-genius"),
    (
        "Anton and his fellow teachers were not just interested in teaching the girls to be the best cellists.",
        "perfection-explained",
    ),
    ("cutting off a piece of yourself that’s attached to a system of deceit", "nothing-perfect"),
]
### END SOLUTION""",
    ),
    tests(
        "test_system_evidence",
        4,
        f"""\
from filmkit.kernel.marking import mark_evidence

mark_evidence(
    system_evidence,
    points=4,
    need=4,
    max_per_source=2,
    claim="The sources present the abuse as the work of a system, not only of one cruel man.",
    must_mention={SYSTEM_WORDS},
)""",
    ),
    readonly(
        "part_e",
        "## Part E · Written answer\n\n"
        "**Question 9 (6 points, marked by hand).** In 250 to 400 words: *how do the sources "
        "describe the relationship between Anton and his students: as mentorship, as abuse of "
        "power, or as both?* Compare at least one review with the explainer, and say what the "
        "feature's reading through the guru-shishya relationship adds. Use at least one figure "
        "from Parts A to C, and quote at least three different sources, citing each quotation with "
        "a parenthetical that names its source. Write about the texts' words, not the acts: no "
        "graphic detail is needed.\n\n"
        + RUBRIC.format(
            sources=3,
            argument2="A clear answer to the question, held through the whole answer.",
            argument1="An answer, but unclear or dropped along the way.",
            analysis2="Explains how each text's kind and purpose (a spoiler-free review, a plot explainer, an interpretive feature) shapes what it names, and uses a figure from Parts A to C correctly.",
            analysis1="Does one of these.",
        ),
    ),
    essay(
        "essay_mentorship",
        6,
        """\
The sources describe Anton's relationship with his students first as mentorship and then, if
they describe it at all, as abuse of power; which of the two a text settles on depends on how
much of the film it is willing to reveal. The reviews keep the first frame. Glass calls him
Charlotte's "former music school trainer Anton" (Glass) and lets his menace show only in his
demands, "the kind of expertise Anton (Steven Weber) is demanding" (Glass), while worth-watching
never names him at all (0 mentions in our table) and never uses a word of the power vocabulary:
a spoiler-free review cannot say what the school is for.

The explainer, whose purpose is to tell the whole plot, names Anton fourteen times and moves from
the language of teaching to the language of crime. It first accepts the school's own logic of
"guidance with some strictness on the teacher’s part" (perfection-explained), then names the
teachers as abusers who "used music to justify" what they did (perfection-explained). Its counts
show the shift: most of its role words are about the institution, and most of the abuse
vocabulary in the corpus is its own or the feature's.

The feature adds a frame the others lack. It reads the film through the teacher-disciple bond,
noting that "The ‘guru-shishya’ relationship and obsession as a negative focus were discussed"
among Indian viewers (madness-music-genius), and it describes talent "exploited under the guise
of mentorship" (madness-music-genius). Mentorship, in this reading, is not the opposite of the
abuse but its disguise. So the sources do not choose between mentorship and abuse of power:
the fuller the account, the more the first turns out to be the form the second takes.""",
    ),
    essay_check("essay_mentorship_check", "essay_mentorship", 3),
    closing("closing"),
]
