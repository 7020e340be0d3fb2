"""``filmkit report``: one self-contained HTML page for the instructor about an assignment's grading.

The page shows, from the gradebook and the autograded notebooks:

1. the distribution of the students' total scores (written answers not yet marked count 0);
2. the share of each grade cell's points the students earned (0–100 %), the hardest question
   first, each named by its question (``Question 3 · horror_kwic``, as in the feedback);
3. the quotations students most often got wrong, checked as the assignment's own tests check them
   (:func:`~filmkit.kernel.marking.evidence_marks` for evidence answers,
   :func:`~filmkit.kernel.marking.essay_check` for written answers);
4. each student's grading status from :func:`~filmkit.grading.outcome.read_outcomes`.

Students' code is parsed, never run: an evidence answer is read when it assigns a literal list of
(quotation, source) pairs to the variable its test cell marks. Quotations located in the paragraphs
the lessons withhold (:func:`filmkit.teaching.withheld_paragraphs`), or using the words that make
a paragraph withheld, are labelled by a content note instead of their words. plotly.js (the
site's cartesian partial bundle) is embedded once, so the page opens offline.
"""

from __future__ import annotations

import ast
import contextlib
import html
import json
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from filmkit.analysis import term_pattern
from filmkit.corpus import Corpus, load_corpus
from filmkit.course.feedback_scrub import question_labels
from filmkit.course.folder import Course, GradingError, load_course, sqlite_path
from filmkit.evidence import Status, Verdict
from filmkit.figures import OKABE_ITO, STATUS_COLOURS, wrap
from filmkit.grading import grade, outcome
from filmkit.kernel.marking import essay_check, evidence_marks
from filmkit.sitebuild.plotly_mime import figure_html
from filmkit.sitebuild.plotly_offline import PlotlyMissingError, plotly_js
from filmkit.sitebuild.postprocess import description_id
from filmkit.teaching import CONTENT_TERMS, WITHHELD_LABELS, withheld_paragraphs

CONTENT_NOTE: Final = (
    "Content note: these assignments concern The Perfection (2019), a film depicting the sexual "
    "abuse of minors, self-harm and mutilation. Quotations from the passages the lessons withhold "
    "are not shown here."
)
HIDDEN: Final = "(content note: quotation not shown)"
LABEL_CHARS: Final = 80
TOP_QUOTATIONS: Final = 15
STATE_COLOURS: Final = {
    "autograded": OKABE_ITO[3],
    "marked by hand": OKABE_ITO[2],
    "awaiting marker": "#999999",
}
QUOTATION_COLUMNS: Final = [
    "student",
    "notebook",
    "question",
    "quote",
    "source",
    "status",
    "withheld",
]


@dataclass(frozen=True)
class ClassReport:
    path: Path
    assignment: str
    generated_at: str
    totals: pd.DataFrame  # student, score, max_score: figure 1
    share_earned: pd.DataFrame  # one row per grade cell, in notebook order: figure 2
    quotations: pd.DataFrame  # every quotation checked (QUOTATION_COLUMNS)
    wrong_quotations: pd.DataFrame  # the non-verified ones, one row per wording: figure 3
    statuses: pd.DataFrame  # student, status, reason, score, max_score: the table

    @property
    def students(self) -> int:
        return len(self.statuses)

    @property
    def flagged(self) -> int:
        return int((self.statuses["status"] != "graded").sum())


def main(assignment: str, *, course: Path | None = None, out: Path | None = None) -> ClassReport:
    """Write the report on ``assignment`` (default ``<course>/reports/<assignment>.html``)."""
    loaded = load_course(course)
    loaded.require(assignment)
    gradebook = sqlite_path(loaded.db_url)  # None: a database server, which holds the tables
    # Checked first: opening an SQLite gradebook that does not exist would create an empty one.
    exists = gradebook is None or gradebook.is_file()
    scores = grade.scores(loaded, assignment) if exists else pd.DataFrame()
    if scores.empty:
        found = "holds no submission of it" if exists else "does not exist"
        raise GradingError(
            f"nothing of {assignment} has been graded yet ({gradebook or loaded.db_url} "
            f"{found}): run `filmkit grade {assignment}` first"
        )
    try:
        outcomes = outcome.read_outcomes(loaded.root, assignment)
    except ValueError as error:  # its message names the file and the fix
        raise GradingError(str(error)) from None
    totals = grade.totals(scores)[["student", "score", "max_score"]]
    corpus = load_corpus()
    quotations = student_quotations(loaded, assignment, list(totals["student"]), corpus)
    report = ClassReport(
        path=(out or loaded.root / "reports" / f"{assignment}.html").resolve(),
        assignment=assignment,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        totals=totals,
        share_earned=share_earned(
            scores, grade.question_order(loaded, assignment), questions_of(loaded, assignment)
        ),
        quotations=quotations,
        wrong_quotations=wrong_quotations(quotations),
        statuses=statuses(totals, outcomes),
    )
    report.path.parent.mkdir(parents=True, exist_ok=True)
    report.path.write_text(render_html(report), encoding="utf-8")
    return report


# ---------------------------------------------------------------------------------------------
# The frames


def questions_of(course: Course, assignment: str) -> dict[tuple[str, str], str]:
    """(notebook, grade_id) → the question's label in the source notebooks
    (``Question 3 · horror_kwic``; :func:`~filmkit.course.feedback_scrub.question_labels`)."""
    return {
        (notebook.stem, grade_id): label
        for notebook in course.notebooks(assignment)
        for grade_id, label in question_labels(_cells(notebook)).items()
    }


def share_earned(
    scores: pd.DataFrame,
    order: dict[tuple[str, str], int],
    questions: dict[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """Per grade cell (``grade.scores`` rows), in notebook order: ``share``, the mean over the
    students of the fraction of its points each earned (1: everyone earned them all).

    The mean is over the students whose score is final; ``awaiting`` counts those whose answer
    still needs a marker, and any makes the cell's ``state`` "awaiting marker". ``label`` is the
    question's (``questions``, default the grade_id), prefixed by the notebook when there are
    several.
    """
    rows = []
    for (notebook, question), cell in scores.groupby(["notebook", "question"], sort=False):
        marked = cell[~cell["needs_manual_grade"].astype(bool)]
        awaiting = len(cell) - len(marked)
        kind = str(cell["kind"].iloc[0])
        fractions = marked["score"] / marked["max_score"].where(marked["max_score"] > 0)
        rows.append(
            {
                "notebook": notebook,
                "question": question,
                "kind": kind,
                "state": "awaiting marker"
                if awaiting
                else ("autograded" if kind == "autograded" else "marked by hand"),
                "max_score": float(cell["max_score"].iloc[0]),
                "students": len(cell),
                "awaiting": awaiting,
                "share": float(fractions.mean()) if len(marked) else float("nan"),
                "_position": order.get((str(notebook), str(question)), len(order)),
            }
        )
    table = pd.DataFrame(rows).sort_values("_position", kind="stable").drop(columns="_position")
    names = questions or {}
    several = table["notebook"].nunique() > 1
    labels = [
        names.get((str(n), str(q)), str(q))
        for n, q in zip(table["notebook"], table["question"], strict=True)
    ]
    table.insert(
        2,
        "label",
        [
            f"{n}: {label}" if several else label
            for n, label in zip(table["notebook"], labels, strict=True)
        ],
    )
    return table.reset_index(drop=True)


def evidence_names(notebook: Path) -> set[str]:
    """The variables a (source) notebook's test cells pass to ``mark_evidence``."""
    names: set[str] = set()
    for cell in _cells(notebook):
        if cell.get("cell_type") != "code":
            continue
        for node in ast.walk(_parse(_source(cell))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "mark_evidence"
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                names.add(node.args[0].id)
    return names


def literal_assignments(code: str, names: set[str]) -> dict[str, object]:
    """name → the literal value ``code`` last assigns to it at top level (parsed, never run)."""
    found: dict[str, object] = {}
    for node in _parse(code).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                found.pop(target.id, None)  # a later computed value replaces an earlier literal
                with contextlib.suppress(ValueError, TypeError, SyntaxError, RecursionError):
                    found[target.id] = ast.literal_eval(value)
    return found


def notebook_verdicts(notebook: Path, evidence: set[str]) -> list[tuple[str, Verdict]]:
    """(grade_id, verdict) of every quotation in the answer cells of one student's notebook."""
    found: list[tuple[str, Verdict]] = []
    for cell in _cells(notebook):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = str(meta.get("grade_id", ""))
        if not meta.get("solution") or not grade_id:
            continue
        if cell.get("cell_type") == "markdown":
            checked = essay_check(grade_id, notebook=notebook).results
            found.extend((grade_id, r.verdict) for r in checked)
            continue
        for answers in literal_assignments(_source(cell), evidence).values():
            count = len(answers) if isinstance(answers, (list, tuple)) else 1
            # need = every item, so none is cut off; min_words=1 checks short quotations too
            marks = evidence_marks(answers, points=1, need=max(count, 1), min_words=1)
            found.extend((grade_id, line.verdict) for line in marks.lines if line.verdict)
    return found


def student_quotations(
    course: Course, assignment: str, students: list[str], corpus: Corpus
) -> pd.DataFrame:
    """Every quotation in the students' autograded notebooks, with its verdict (QUOTATION_COLUMNS)."""
    evidence = {nb.stem: evidence_names(nb) for nb in course.notebooks(assignment)}
    withheld = withheld_paragraphs(corpus)
    patterns = [term_pattern(t) for label in WITHHELD_LABELS for t in CONTENT_TERMS[label]]
    rows = []
    for student in students:
        for notebook in course.notebooks(assignment, "autograded", student):
            for question, verdict in notebook_verdicts(
                notebook, evidence.get(notebook.stem, set())
            ):
                located = {(m.source, m.paragraph) for m in verdict.matches}
                if verdict.closest is not None:
                    located.add((verdict.closest.source, verdict.closest.paragraph))
                rows.append(
                    {
                        "student": student,
                        "notebook": notebook.stem,
                        "question": question,
                        "quote": " ".join(verdict.quote.split()),
                        "source": verdict.attributed_to or "",
                        "status": str(verdict.status),
                        # the lessons' rule: a withheld paragraph's words are never shown, nor
                        # are words that would make a paragraph withheld
                        "withheld": bool(located & withheld)
                        or any(p.search(verdict.quote) for p in patterns),
                    }
                )
    return pd.DataFrame(rows, columns=QUOTATION_COLUMNS)


def wrong_quotations(quotations: pd.DataFrame) -> pd.DataFrame:
    """The non-verified quotations, one row per wording, source and verdict, most students first:
    ``quote, source, status, students, names, withheld, label``."""
    wrong = quotations[quotations["status"] != str(Status.VERIFIED)]
    table = (
        wrong.groupby(["quote", "source", "status"], as_index=False)
        .agg(
            students=("student", "nunique"),
            names=("student", lambda s: ", ".join(sorted(set(s)))),
            withheld=("withheld", "any"),
        )
        .sort_values(["students", "status", "quote"], ascending=[False, True, True])
        .reset_index(drop=True)
    )
    # Numbered, so labels stay distinct when several are hidden behind the content note.
    table["label"] = [
        f"{n}. " + (HIDDEN if hidden else f"“{_shorten(quote)}”") + f" ({source or 'no citation'})"
        for n, (quote, source, hidden) in enumerate(
            zip(table["quote"], table["source"], table["withheld"], strict=True), 1
        )
    ]
    return table


def statuses(totals: pd.DataFrame, outcomes: dict[str, outcome.Outcome]) -> pd.DataFrame:
    """Per student: ``student, status, reason, score, max_score``, the worst statuses first."""
    score = totals.set_index("student")
    rows = [
        {
            "student": student,
            "status": outcomes[student].status if student in outcomes else "graded",
            "reason": outcomes[student].reason if student in outcomes else "",
            "score": score["score"].get(student, float("nan")),
            "max_score": score["max_score"].get(student, float("nan")),
        }
        for student in sorted(set(score.index) | set(outcomes))
    ]
    table = pd.DataFrame(rows, columns=["student", "status", "reason", "score", "max_score"])
    severity = table["status"].map(outcome.STATUSES.index)
    return table.assign(_s=-severity).sort_values(["_s", "student"]).drop(columns="_s")


# ---------------------------------------------------------------------------------------------
# The figures


def score_histogram(totals: pd.DataFrame) -> go.Figure:
    """Students per total score, in bins of one point, with the maximum marked."""
    maximum = float(totals["max_score"].max())
    fig = go.Figure(
        go.Histogram(
            x=totals["score"],
            xbins={"start": -0.5, "end": maximum + 0.5, "size": 1},
            marker_color=OKABE_ITO[3],
            hovertemplate="score %{x} · students: %{y}<extra></extra>",
        )
    )
    fig.add_vline(x=maximum, line_dash="dash", annotation_text=f"maximum {maximum:g}")
    fig.update_layout(
        title="Total scores (written answers not yet marked count 0)",
        xaxis={"title": "total score", "range": [-0.5, maximum + 1]},
        yaxis={"title": "students", "dtick": 1},
        bargap=0.1,
        template="plotly_white",
    )
    return fig


def share_earned_chart(table: pd.DataFrame) -> go.Figure:
    """One horizontal bar per grade cell: the share of its points earned, in percent, the
    hardest (lowest share) at the top; cells awaiting a marker at the bottom, not drawn."""
    waiting = table["state"] == "awaiting marker"
    drawn = table[~waiting].sort_values("share", kind="stable", na_position="last")
    ranked = [*drawn["label"], *table.loc[waiting, "label"]]
    fig = go.Figure()
    for state, colour in STATE_COLOURS.items():
        rows = table[table["state"] == state]
        if rows.empty:
            continue
        pending = state == "awaiting marker"
        fig.add_bar(
            y=rows["label"],
            # not drawn while a marker is awaited: a mean of the marked few would mislead
            x=[0.0] * len(rows) if pending else 100 * rows["share"],
            orientation="h",
            name=state,
            marker_color=colour,
            text=[
                f"awaiting marker ({a} of {n})" if pending else f"{f:.0%}"
                for a, n, f in zip(rows["awaiting"], rows["students"], rows["share"], strict=True)
            ],
            textposition="outside",
            hovertext=[
                f"{q} ({k}, {m:g} point{'' if m == 1 else 's'}): {_count(s, 'student')}, "
                f"{a} awaiting a marker"
                for q, k, m, s, a in zip(
                    rows["label"],
                    rows["kind"],
                    rows["max_score"],
                    rows["students"],
                    rows["awaiting"],
                    strict=True,
                )
            ],
            hoverinfo="text",
        )
    fig.update_layout(
        title="Share of points earned per question (hardest at the top)",
        xaxis={
            "title": "points earned, as a share of the question's points (mean over students)",
            "range": [0, 125],
            "tickmode": "array",
            "tickvals": [0, 25, 50, 75, 100],
            "ticktext": ["0%", "25%", "50%", "75%", "100%"],
        },
        yaxis={
            "title": "question",
            "categoryorder": "array",
            "categoryarray": ranked,
            "autorange": "reversed",
        },
        legend_title="marked",
        template="plotly_white",
        height=200 + 28 * len(table),
    )
    return fig


def wrong_quotation_chart(table: pd.DataFrame, top: int = TOP_QUOTATIONS) -> go.Figure:
    """The ``top`` commonest non-verified quotations: students per quotation, coloured by verdict."""
    shown = table.head(top)
    fig = go.Figure()
    for status in ("near-miss", "misattributed", "not-found"):
        rows = shown[shown["status"] == status]
        if rows.empty:
            continue
        fig.add_bar(
            y=rows["label"],
            x=rows["students"],
            orientation="h",
            name=status,
            marker_color=STATUS_COLOURS[status],
            hovertext=[
                wrap(f"{label} — {status}; {_count(n, 'student')}: {names}", 70)
                for label, n, names in zip(
                    rows["label"], rows["students"], rows["names"], strict=True
                )
            ],
            hoverinfo="text",
        )
    fig.update_layout(
        title=f"Quotations most often not verified (the {len(shown)} commonest of {len(table)})",
        xaxis={"title": "students", "dtick": 1},
        yaxis={
            "categoryorder": "array",
            "categoryarray": list(shown["label"]),
            "autorange": "reversed",
        },
        legend_title="verdict",
        template="plotly_white",
        height=200 + 28 * len(shown),
    )
    return fig


# ---------------------------------------------------------------------------------------------
# The page

_STYLE: Final = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }
.note { border-left: 4px solid #E69F00; padding: .5rem 1rem; background: #fff8e6; }
table { border-collapse: collapse; } td, th { padding: .3rem .8rem; border-bottom: 1px solid #ddd; }
tr.flag { background: #fde2d8; font-weight: bold; }
"""


def render_html(report: ClassReport) -> str:
    """The page: header, the figures (plotly.js inlined once, in the head), the status table.

    plotly.js is the site's partial bundle (:func:`filmkit.sitebuild.plotly_offline.plotly_js`);
    each figure is ``role="img"``, named by its title and ``aria-describedby`` the "Figure: …"
    sentence that follows it (:func:`filmkit.sitebuild.plotly_mime.figure_html`)."""
    sections: list[tuple[str, go.Figure | str, str]] = [
        ("Score distribution", score_histogram(report.totals), _score_description(report)),
        (
            "Share of points earned per question",
            share_earned_chart(report.share_earned),
            _share_description(report.share_earned),
        ),
        (
            "Quotations students got wrong",
            wrong_quotation_chart(report.wrong_quotations)
            if len(report.wrong_quotations)
            else f"<p>{_all_verified(len(report.quotations))}</p>",
            _wrong_description(report.wrong_quotations),
        ),
    ]
    body = []
    for number, (heading, content, description) in enumerate(sections, 1):
        if isinstance(content, go.Figure):
            div_id = f"figure-{number}"
            described = description_id(div_id)
            content = figure_html(
                json.loads(content.to_json()), config={"displaylogo": False}, div_id=div_id
            ).replace(' role="img"', f' role="img" aria-describedby="{described}"', 1)
            content += f'\n<p id="{described}"><em>{html.escape(description)}</em></p>'
        body.append(f"<h2>{heading}</h2>\n{content}")
    body.append(f"<h2>Grading status</h2>\n{_status_table(report.statuses)}")
    try:
        plotly = plotly_js().read_text(encoding="utf-8").replace("</script", "<\\/script")
    except PlotlyMissingError as error:  # names `make setup`
        raise GradingError(str(error)) from None
    title = f"Grading report: {html.escape(report.assignment)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>{_STYLE}</style><script>{plotly}</script></head>
<body>
<h1>{title}</h1>
<p class="note">{html.escape(CONTENT_NOTE)}</p>
<p>{_count(report.students, "student")} ({report.flagged} with a status other than graded);
{_count(len(report.quotations), "quotation")} checked; generated {report.generated_at}.</p>
{"".join(body)}
</body></html>
"""


def _score_description(report: ClassReport) -> str:
    scores = report.totals["score"]
    maximum = float(report.totals["max_score"].max())
    return (
        f"Figure: a histogram of the total scores of {_count(len(scores), 'student')}, out of "
        f"{maximum:g}; the lowest is {float(scores.min()):g}, the median {float(scores.median()):g}"
        f" and the highest {float(scores.max()):g}."
    )


def _share_description(table: pd.DataFrame) -> str:
    drawn = table[table["state"] != "awaiting marker"].sort_values("share", kind="stable")
    waiting = len(table) - len(drawn)
    text = f"Figure: one bar per question ({len(table)}), the share of its points students earned"
    if len(drawn):
        hardest, easiest = drawn.iloc[0], drawn.iloc[-1]
        text += (
            f"; hardest {hardest['label']} ({float(hardest['share']):.0%}), easiest "
            f"{easiest['label']} ({float(easiest['share']):.0%})"
        )
    if waiting:
        text += f"; {waiting} awaiting a marker, not drawn"
    return text + "."


def _wrong_description(table: pd.DataFrame) -> str:
    shown = table.head(TOP_QUOTATIONS)
    verdicts = ", ".join(
        f"{n} {status}" for status, n in shown["status"].value_counts().sort_index().items()
    )
    return (
        f"Figure: one bar per quotation not verified, the {len(shown)} commonest of "
        f"{len(table)}, by how many students wrote it ({verdicts}); the hover names them."
    )


def _status_table(table: pd.DataFrame) -> str:
    rows = [
        f'<tr class="{"ok" if r.status == "graded" else "flag"}"><td>{html.escape(str(r.student))}'
        f"</td><td>{html.escape(str(r.status))}</td><td>{_points(r.score, r.max_score)}</td>"
        f"<td>{html.escape(str(r.reason))}</td></tr>"
        for r in table.itertuples()
    ]
    header = "<tr><th>student</th><th>status</th><th>score</th><th>reason</th></tr>"
    return f"<table>\n{header}\n" + "\n".join(rows) + "\n</table>"


# ---------------------------------------------------------------------------------------------
# Helpers


def _points(score: Any, maximum: Any) -> str:
    return "—" if pd.isna(score) else f"{float(score):g} of {float(maximum):g}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _all_verified(n: int) -> str:
    if n == 0:
        return "No quotations were found."
    return (
        "The one quotation found was verified."
        if n == 1
        else f"All {n} quotations found were verified."
    )


def _shorten(text: str) -> str:
    return textwrap.shorten(text, LABEL_CHARS, placeholder=" …")


def _cells(notebook: Path) -> list[dict[str, Any]]:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return []  # an unreadable notebook has no quotations; its status says why
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _parse(code: str) -> ast.Module:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):  # IPython magics, or a student's half-written code
        return ast.Module(body=[], type_ignores=[])


__all__ = [
    "ClassReport",
    "main",
    "questions_of",
    "render_html",
    "score_histogram",
    "share_earned",
    "share_earned_chart",
    "statuses",
    "student_quotations",
    "wrong_quotation_chart",
    "wrong_quotations",
]
