"""``filmkit report``: the instructor's page on one assignment's grading.

A small course is graded once for the module (four specimens of one assignment, stock nbgrader
autograde). Expected values are derived here from the gradebook (``grade.scores``), the specimens
and ``filmkit.evidence.verify``, never copied from the report's output.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from click.testing import CliRunner

from filmkit.cli import main as cli
from filmkit.corpus import Corpus
from filmkit.course import classreport, release
from filmkit.course.feedback_scrub import question_labels
from filmkit.course.folder import Course, GradingError, load_course
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.evidence import verify
from filmkit.figures import STATUS_COLOURS
from filmkit.grading import grade
from filmkit.grading.outcome import Outcome, outcomes_path, write_outcomes
from filmkit.quotations import extract_quotations
from filmkit.sitebuild.plotly_offline import plotly_js
from filmkit.teaching import CONTENT_TERMS, WITHHELD_LABELS, withheld_paragraphs

from .conftest import course_copy

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ASSIGNMENT = "01-genre-shifts"
STUDENTS = ("blank", "fabricated", "full", "partial")
QUOTE_MARKS = "\"'“”‘’ "


@dataclass(frozen=True)
class Graded:
    course: Course
    report: classreport.ClassReport
    html: str


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = course_copy(tmp_path_factory.mktemp("classreport") / "course", ASSIGNMENT)
    release.main([ASSIGNMENT], course=root, validate=False)
    course = load_course(root)
    for specimen in load_specimens(ASSIGNMENT):
        if specimen.student in STUDENTS:
            hand_in(course, specimen)
    grade.main(ASSIGNMENT, course=root)
    report = classreport.main(ASSIGNMENT, course=root)
    return Graded(course, report, report.path.read_text(encoding="utf-8"))


def source_cells(course: Course) -> dict[str, dict[str, Any]]:
    (notebook,) = course.notebooks(ASSIGNMENT)
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in cells if "nbgrader" in c["metadata"]}


# ---------------------------------------------------------------------------------------------
# Scores and the share of points earned, against the gradebook


@pytest.mark.slow
def test_the_page_is_written_where_documented(graded: Graded) -> None:
    assert graded.report.path == graded.course.root / "reports" / f"{ASSIGNMENT}.html"
    assert graded.report.students == len(STUDENTS)


@pytest.mark.slow
def test_score_histogram_shows_each_total_and_the_maximum(graded: Graded) -> None:
    scores = grade.scores(graded.course, ASSIGNMENT)
    totals = scores.groupby("student")["score"].sum()
    points = sum(
        float(c["metadata"]["nbgrader"]["points"])
        for c in source_cells(graded.course).values()
        if c["metadata"]["nbgrader"].get("grade")
    )
    figure = classreport.score_histogram(graded.report.totals)
    (histogram,) = figure.data
    assert sorted(histogram.x) == sorted(totals)
    (line,) = [s for s in figure.layout.shapes if s.type == "line"]
    assert line.x0 == line.x1 == points


@pytest.mark.slow
def test_share_earned_is_the_mean_fraction_of_points_in_notebook_order(graded: Graded) -> None:
    scores = grade.scores(graded.course, ASSIGNMENT)
    order = grade.question_order(graded.course, ASSIGNMENT)
    cells = {(str(n), str(q)) for n, q in zip(scores["notebook"], scores["question"], strict=True)}
    table = graded.report.share_earned
    assert list(zip(table["notebook"], table["question"], strict=True)) == sorted(
        cells, key=order.__getitem__
    )
    specimens = [s for s in load_specimens(ASSIGNMENT) if s.student in STUDENTS]
    for row in table.itertuples():
        cell = scores[(scores["notebook"] == row.notebook) & (scores["question"] == row.question)]
        final = cell[~cell["needs_manual_grade"]]
        assert row.students == len(STUDENTS)
        # a written answer handed in awaits its marker; nbgrader scores a blank one 0 itself
        assert row.awaiting == sum(s.expect[str(row.question)] == "written" for s in specimens)
        if len(final):
            assert row.share == pytest.approx((final["score"] / final["max_score"]).mean())
        else:
            assert math.isnan(row.share)
        written = source_cells(graded.course)[str(row.question)]["cell_type"] == "markdown"
        expected = (
            "awaiting marker" if row.awaiting else "marked by hand" if written else "autograded"
        )
        assert row.state == expected
    assert {"autograded", "awaiting marker"} <= set(table["state"])
    # one notebook: each cell is labelled by its question, as the feedback names it
    (notebook,) = graded.course.notebooks(ASSIGNMENT)
    labels = question_labels(nbformat.read(notebook, as_version=4).cells)
    assert list(table["label"]) == [labels[str(q)] for q in table["question"]]
    assert all(label.startswith("Question ") for label in table["label"])


@pytest.mark.slow
def test_the_chart_shows_the_share_earned_hardest_first(graded: Graded) -> None:
    table = graded.report.share_earned
    figure = classreport.share_earned_chart(table)
    layout = figure.layout
    assert layout.title.text.startswith("Share of points earned per question")
    assert "difficulty" not in layout.title.text.lower()
    assert layout.xaxis.title.text and layout.yaxis.title.text == "question"
    ticks = dict(zip(layout.xaxis.tickvals, layout.xaxis.ticktext, strict=True))
    assert ticks == {v: f"{v}%" for v in (0, 25, 50, 75, 100)}
    assert layout.xaxis.range[0] == 0 and layout.xaxis.range[1] >= 100
    # top to bottom: the lowest share first, the cells awaiting a marker (no share yet) last
    marked = table[table["state"] != "awaiting marker"]
    ranked = list(layout.yaxis.categoryarray)
    assert layout.yaxis.autorange == "reversed"
    assert ranked[: len(marked)] == list(marked.sort_values("share", kind="stable")["label"])
    assert set(ranked[len(marked) :]) == set(
        table.loc[table["state"] == "awaiting marker", "label"]
    )
    for trace in figure.data:
        rows = table[table["state"] == trace.name].set_index("label")
        assert list(trace.y) == list(rows.index)
        if trace.name == "awaiting marker":
            assert all(text.startswith("awaiting marker") for text in trace.text)
            assert list(trace.x) == [0.0] * len(rows)
        else:
            assert list(trace.x) == pytest.approx([100 * f for f in rows["share"]])
            assert all(0 <= x <= 100 for x in trace.x)
    assert "<h2>Share of points earned per question</h2>" in graded.html
    assert "Difficulty" not in graded.html


# ---------------------------------------------------------------------------------------------
# Quotations, against filmkit.evidence.verify


def specimen_quotations(course: Course) -> dict[str, list[tuple[str, str | None]]]:
    """student → every (quotation, source as written) in the specimen's answers."""
    cells = source_cells(course)
    marked = {
        name
        for c in cells.values()
        for name in re.findall(r"mark_evidence\(\s*(\w+)", "".join(c["source"]))
    }
    found: dict[str, list[tuple[str, str | None]]] = {}
    for specimen in load_specimens(ASSIGNMENT):
        if specimen.student not in STUDENTS:
            continue
        pairs: list[tuple[str, str | None]] = []
        for grade_id, answer in specimen.answers.items():
            if cells[grade_id]["cell_type"] == "markdown":
                pairs.extend((q.text, q.source) for q in extract_quotations(answer))
            elif grade_id in marked:
                namespace: dict[str, Any] = {}
                exec(answer, namespace)  # the specimens' evidence answers are literal lists
                pairs.extend((q.strip(QUOTE_MARKS), s) for q, s in namespace[grade_id])
        found[specimen.student] = pairs
    return found


@pytest.mark.slow
def test_wrong_quotations_are_what_verify_says_of_the_specimens(graded: Graded) -> None:
    quotations = specimen_quotations(graded.course)
    wrong: Counter[tuple[str, str, str]] = Counter()
    for pairs in quotations.values():
        verdicts = [verify(quote, source) for quote, source in pairs]
        wrong.update(
            {
                (" ".join(v.quote.split()), v.attributed_to or "", str(v.status))
                for v in verdicts
                if not v.verified
            }
        )
    assert wrong, "the specimens include quotations that are not verified"
    table = graded.report.wrong_quotations
    got = {
        (q, s, st): n
        for q, s, st, n in zip(
            table["quote"], table["source"], table["status"], table["students"], strict=True
        )
    }
    assert got == dict(wrong)
    assert list(table["students"]) == sorted(table["students"], reverse=True)
    assert len(graded.report.quotations) == sum(len(p) for p in quotations.values())

    figure = classreport.wrong_quotation_chart(table)
    shown = table.head(classreport.TOP_QUOTATIONS).set_index("label")
    plotted = {}
    for trace in figure.data:
        assert trace.marker.color == STATUS_COLOURS[trace.name]
        for label, students in zip(trace.y, trace.x, strict=True):
            assert shown.loc[label, "status"] == trace.name
            plotted[label] = students
    assert plotted == shown["students"].to_dict()
    for label, row in shown.iterrows():
        quoted = re.search(r"“(.*)”", str(label))
        assert quoted and len(quoted.group(1)) <= classreport.LABEL_CHARS
        assert row["quote"].startswith(quoted.group(1).removesuffix(" …"))


def test_withheld_passages_are_never_shown(tmp_path: Path, corpus: Corpus) -> None:
    """A student quoting a withheld paragraph (or its vocabulary) is counted, not displayed."""
    root = course_copy(tmp_path / "course", ASSIGNMENT)
    withheld = withheld_paragraphs(corpus)
    paragraphs = corpus.paragraphs
    rows = paragraphs[
        [
            (s, p) in withheld
            for s, p in zip(paragraphs["source"], paragraphs["paragraph"], strict=True)
        ]
    ]
    longest = rows.loc[rows["text"].str.split().str.len().idxmax()]
    passage = " ".join(str(longest["text"]).split()[:12])
    other = next(s for s in corpus.ids if s != longest["source"])
    term = CONTENT_TERMS[WITHHELD_LABELS[0]][0]
    invented = f"the academy was a place where no {term} was ever discussed in the open"
    harmless = "the cellos sang like a choir of purple elephants at dawn"

    source = nbformat.v4.new_notebook()
    source.cells = [
        nbformat.v4.new_code_cell(
            "mark_evidence(my_evidence, points=4, need=2)",
            metadata={"nbgrader": {"grade_id": "test_my_evidence", "grade": True, "points": 4}},
        )
    ]
    nbformat.write(source, root / "source" / ASSIGNMENT / "genre-shifts.ipynb")
    answers = [(passage, other), (invented, "worth-watching"), (harmless, "Glass")]
    student = nbformat.v4.new_notebook()
    student.cells = [
        nbformat.v4.new_code_cell(
            # parsed, never run: running it would write a file
            f"my_evidence = {answers!r}\nopen('ran.txt', 'w').write('ran')",
            metadata={"nbgrader": {"grade_id": "my_evidence", "solution": True}},
        ),
        nbformat.v4.new_markdown_cell(
            f'It says "{passage}" ({other}).',
            metadata={"nbgrader": {"grade_id": "essay", "solution": True, "grade": True}},
        ),
    ]
    folder = root / "autograded" / "s1" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(student, folder / "genre-shifts.ipynb")

    quotations = classreport.student_quotations(load_course(root), ASSIGNMENT, ["s1"], corpus)
    assert not (Path.cwd() / "ran.txt").exists() and not (folder / "ran.txt").exists()
    hidden = {passage: verify(passage, other), invented: verify(invented, "worth-watching")}
    assert all(not v.verified for v in hidden.values())
    table = classreport.wrong_quotations(quotations)
    assert set(table["quote"]) == {passage, invented, harmless}
    assert table.set_index("quote")["withheld"].to_dict() == {
        passage: True,
        invented: True,
        harmless: False,
    }
    assert table.set_index("quote").loc[passage, "students"] == 1  # evidence and essay: once
    figure = classreport.wrong_quotation_chart(table)
    drawn = json.dumps(json.loads(figure.to_json()), ensure_ascii=False)
    assert harmless in drawn
    for words in (" ".join(passage.split()[2:6]), term):
        assert words not in drawn and words not in "".join(table["label"])


# ---------------------------------------------------------------------------------------------
# The page


@pytest.mark.slow
def test_the_page_is_self_contained_with_plotly_js_once(graded: Graded) -> None:
    bundle = plotly_js().read_text(encoding="utf-8")
    page = graded.html
    assert page.count(bundle[:500]) == page.count(bundle[-500:]) == 1
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*https?:", page, re.IGNORECASE)
    assert page.count('class="plotly-graph-div"') == 3
    assert f"Grading report: {ASSIGNMENT}" in page
    assert f"{len(STUDENTS)} students" in page and graded.report.generated_at in page
    assert classreport.CONTENT_NOTE in page


@pytest.mark.slow
def test_the_page_is_light_and_its_figures_are_accessible(graded: Graded) -> None:
    """Under 2 MB as a browser loads it (it references no file: all is inline), plotly.js in the
    site's partial bundle holding every trace type drawn; each figure an image named by its title
    and described by the "Figure: …" sentence after it."""
    from filmkit.sitebuild.plotly_offline import BUNDLE_TRACES
    from filmkit.sitebuild.weight import page_weights

    path = graded.report.path
    (weight,) = page_weights(path.parent, [Path(path.name)])
    assert weight.assets == () and weight.first_load_bytes == path.stat().st_size
    assert weight.first_load_bytes < 2_000_000, f"{weight.first_load_bytes:,} bytes"
    page = graded.html
    assert '<meta name="viewport"' in page
    drawn = {
        str(trace.get("type", "scatter"))
        for call in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page)
        for trace in json.JSONDecoder().raw_decode(page, call.end())[0]
    }
    assert {"histogram", "bar"} <= drawn <= BUNDLE_TRACES
    tags = re.findall(r'<div id="[^"]+" class="plotly-graph-div"[^>]*>', page)
    assert len(tags) == 3
    titles = [
        classreport.score_histogram(graded.report.totals),
        classreport.share_earned_chart(graded.report.share_earned),
        classreport.wrong_quotation_chart(graded.report.wrong_quotations),
    ]
    for tag, figure in zip(tags, titles, strict=True):
        assert 'role="img"' in tag
        label = re.search(r'aria-label="([^"]+)"', tag)
        assert label and label.group(1) == html.escape(figure.layout.title.text), tag
        target = re.search(r'aria-describedby="([^"]+)"', tag)
        assert target, tag
        described = re.search(rf'<p id="{re.escape(target.group(1))}"><em>(.*?)</em></p>', page)
        assert described and described.group(1).startswith("Figure: "), target.group(1)
    histogram = re.search(r'<p id="figure-1-description"><em>(.*?)</em></p>', page)
    assert histogram and f"{len(STUDENTS)} students" in histogram.group(1)


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1366])
def test_the_page_reads_on_a_phone_and_with_a_screen_reader(
    graded: Graded, browser: Browser, width: int
) -> None:
    from tests.browser import LAYOUT_CHECK, serve

    problems: list[str] = []
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    try:
        with serve(graded.report.path.parent) as base:
            page.goto(f"{base}/{graded.report.path.name}", wait_until="load")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')].every("
                "d => d.querySelector('svg.main-svg') && d.dataset.layout)",
                timeout=20_000,
            )
            layout = page.evaluate(LAYOUT_CHECK)
    finally:
        context.close()
    assert layout["scroll"] <= layout["view"], "the page scrolls sideways"
    assert len(layout["figures"]) == 3
    for figure in layout["figures"]:
        assert figure["role"] == "img" and figure["name"], figure
        assert (figure["description"] or "").startswith("Figure: "), figure
        for axis in figure["axes"]:
            assert axis["drawn"] == axis["wanted"] and axis["overlaps"] == 0, figure
    assert not problems, problems


@pytest.mark.slow
def test_statuses_come_from_the_outcomes_and_stand_out(graded: Graded, tmp_path: Path) -> None:
    root = graded.course.root
    path = outcomes_path(root, ASSIGNMENT)
    kept = path.read_bytes() if path.is_file() else None  # what grading recorded, put back after
    recorded = {
        "partial": Outcome("partial", ASSIGNMENT, "repaired", "restored the cell metadata"),
        "late": Outcome("late", ASSIGNMENT, "rejected", "handed in after the deadline"),
    }
    write_outcomes(root, ASSIGNMENT, recorded)
    try:
        report = classreport.main(ASSIGNMENT, course=root, out=tmp_path / "report.html")
        path.write_text("{not json", encoding="utf-8")
        with pytest.raises(GradingError, match=re.escape(str(path))):
            classreport.main(ASSIGNMENT, course=root, out=tmp_path / "broken.html")
    finally:
        if kept is None:
            path.unlink()
        else:
            path.write_bytes(kept)
    table = report.statuses.set_index("student")
    assert set(table.index) == set(STUDENTS) | set(recorded)
    for student, row in table.iterrows():
        wanted = recorded.get(str(student))
        assert row["status"] == (wanted.status if wanted else "graded")
        assert row["reason"] == (wanted.reason if wanted else "")
    assert list(report.statuses["student"])[: len(recorded)] == ["late", "partial"]  # worst first
    page = report.path.read_text(encoding="utf-8")
    flagged = re.findall(r'<tr class="flag"><td>([^<]*)</td>', page)
    assert sorted(flagged) == sorted(recorded) and report.flagged == len(recorded)


@pytest.mark.slow
def test_the_command_prints_the_path_written(graded: Graded, tmp_path: Path) -> None:
    out = tmp_path / "pages" / "report.html"
    args = ["report", ASSIGNMENT, "--course", str(graded.course.root), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out.resolve()}\n" and out.is_file()


@pytest.mark.parametrize(
    ("assignment", "says"),
    [
        ("04-no-such", "no assignment '04-no-such'"),
        (ASSIGNMENT, f"gradebook.db does not exist): run `filmkit grade {ASSIGNMENT}` first"),
    ],
)
def test_unknown_or_ungraded_assignments_are_refused(
    tmp_path: Path, assignment: str, says: str
) -> None:
    root = course_copy(tmp_path / "course", ASSIGNMENT)
    result = CliRunner().invoke(cli, ["report", assignment, "--course", str(root)])
    assert result.exit_code == 2 and says in result.output
    assert result.output.count("\n") == 1
    assert not (root / "gradebook.db").exists(), "no empty gradebook is created"
    assert not (root / "reports").exists()
