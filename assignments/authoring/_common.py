"""Text and cells shared by the three assignments (imported by their descriptions)."""

from __future__ import annotations

from filmkit.course.authoring import Cell, readonly

CONTENT_NOTE = """\
> **Content note.** *The Perfection* depicts the sexual abuse of children by their music
> teachers, self-harm (including a suicide attempt) and mutilation. The source texts discuss
> these: some in plain words, some only by allusion. {focus} You analyse *how the texts discuss*
> these things, not the acts themselves: no answer needs graphic detail, and you are never asked
> to describe the abuse or to draw on personal experience. Step away whenever you need to. If a
> part of this assignment is difficult for you for personal reasons, tell your instructor (you
> do not have to say why): an alternative task with the same marks is available. Your
> institution's student support and counselling services are there for you too.
>
> **For instructors.** Give this note in advance, in class and in writing, and offer the
> alternative task without asking for a reason. In discussion, keep to the texts' language and
> to analytical questions (who names what, in which words, to what end); do not ask anyone to
> read abusive passages aloud, to relate personal experience, or to debate whether what the film
> depicts "really" is abuse. Signpost support at the start and the end of the session. The
> concordance windows in this notebook are kept short on purpose."""


def intro(grade_id: str, title: str, focus: str, overview: str) -> Cell:
    """The opening cell: title, content note, what the assignment asks, how it is marked."""
    return readonly(
        grade_id,
        f"# {title}\n\n{CONTENT_NOTE.format(focus=focus)}\n\n{overview}\n\n{HOW_IT_IS_MARKED}",
    )


HOW_IT_IS_MARKED = """\
### How this notebook works and how it is marked

- **Code answers.** Replace `raise NotImplementedError()` with your code and run the cell, then
  run the check cell below it. The check you can see tests the *shape* of your answer and one of
  its values; when your notebook is graded, further tests compare your whole answer with what
  `filmkit` computes from the source texts. A check that passes now is a good sign, not a
  guarantee.
- **What counts as right.** Numbers count whatever holds them (`3`, `3.0`, a NumPy number, a
  table filled cell by cell with `.loc`), but not as text (`"3"`). A value shown rounded under
  your answer counts when it is right to the decimals shown, or finer. Where a question has
  several right answers (a tie), each of them counts. An order (of rows, of columns, of a list's
  items) matters only where the question asks for one, and the check you can see then tests it.
  A tuple will do for a list. The check you can see tells you, before you hand in, of a value
  of the wrong type, a missing or extra column, a wrong index or a broken order the question
  asks for, and how to fix it.
- **Evidence answers** are lists of `("quotation", "source")` pairs. Each quotation is verified
  against the source you attribute it to with `filmkit.evidence`: it must be that source's words,
  in that order. Capitalisation, quotation marks, dashes, spacing and punctuation between words
  may differ; `...` marks a left-out passage and `[square brackets]` a word of your own that
  says whom or what the source means or fits its words to your sentence. A bracket may not add a
  claim (a *not*, a judgement, a *might*), and a left-out passage may not take a *not* out of a
  sentence: such a quotation does not count. The check cell prints a line per quotation, saying
  which one failed and why (for a near miss, the source's own wording), and gives you the points
  that count.
- **Written answers** are marked by hand with the rubric shown with the question. The cell below
  each one checks every quotation you make: **save the notebook (Ctrl+S) before running it**.
  Cite as in lesson 00: quotation marks, then a parenthetical naming the source, e.g.
  “The mistakes make it human” (madness-music-genius).
- Before you hand in: *Kernel → Restart Kernel and Run All Cells*, then the **Validate** button.
  Do not change the read-only cells; they are put back as they were when the notebook is graded.

The sources, by id: `madness-music-genius` (a feature), `play-it-again-lizzie` (a review by Alicia
Glass), `worth-watching` (a review), `perfection-explained` (a plot explainer), `nothing-perfect`
(a review)."""

SETUP = """\
import pandas as pd

from filmkit import analysis
from filmkit.corpus import load_corpus

pd.set_option("display.max_colwidth", 70)
corpus = load_corpus()  # the five source texts, checked against their checksums
corpus.documents[["id", "kind", "author", "title", "words"]]"""


def setup(grade_id: str) -> Cell:
    return readonly(grade_id, SETUP, "code")


def essay_check(grade_id: str, essay_id: str, min_sources: int) -> Cell:
    """The read-only code cell under an essay: checks every quotation of the essay."""
    return readonly(
        grade_id,
        f"""\
# Checks every quotation in your answer above, as last saved: save first (Ctrl+S).
from filmkit.kernel.marking import evidence_report

evidence_report("{essay_id}", min_sources={min_sources})""",
        "code",
        judged=True,
    )


RUBRIC = """\
| criterion | 2 points | 1 point | 0 points |
| --- | --- | --- | --- |
| **Argument** | {argument2} | {argument1} | No answer to the question. |
| **Evidence** | Quotations from at least {sources} different sources, every one verified in the check below and each doing work in the argument. | Quotations from fewer sources, or one that the check does not verify. | No verified quotation. |
| **Analysis** | {analysis2} | {analysis1} | Neither. |"""


def closing(grade_id: str) -> Cell:
    return readonly(
        grade_id,
        """\
### Before you hand in

1. *Kernel → Restart Kernel and Run All Cells*: every check cell should run without an error.
2. Save, then press **Validate** in the notebook's toolbar.
3. Re-read your written answer against its rubric, and look at the evidence check under it:
   fix any quotation that is not verified in the source you cite.""",
    )
