"""The term's whole nbgrader cycle on the specimen submissions, through filmkit and stock nbgrader.

One run of the term in miniature (filmkit.course.term: release → hand in → autograde →
feedback → export) in a temporary copy of assignments/, shared by the tests of this module. The
expected scores are not copied in: a full mark is the gradebook's maximum for the cell, an
evidence answer's partial credit is recomputed here from filmkit.evidence.verify, and the rest
follows from what each specimen says it does (tests/fixtures/specimens/).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner

from filmkit import analysis
from filmkit.cli import main as cli
from filmkit.corpus import Corpus
from filmkit.course import term
from filmkit.course.folder import Course, load_course
from filmkit.course.specimens import Specimen, load_specimens
from filmkit.evidence import verify
from filmkit.kernel import marking
from filmkit.provenance import WORD_PATTERN

from .conftest import REPO

pytestmark = pytest.mark.slow

ASSIGNMENTS = ["01-genre-shifts", "02-mentorship-power", "03-critical-reception"]


@dataclass(frozen=True)
class Term:
    result: term.TermResult
    course: Course
    grades_csv: bytes
    per_question_csv: bytes


@pytest.fixture(scope="module")
def term_run(tmp_path_factory: pytest.TempPathFactory) -> Term:
    """The term in miniature, once, as `filmkit demo` runs it (without the lesson site)."""
    scratch = tmp_path_factory.mktemp("term")
    result = term.main(scratch=scratch, validate=True, site=False)
    return Term(
        result,
        load_course(result.course),
        (scratch / "grades.csv").read_bytes(),
        (scratch / "grades-per-question.csv").read_bytes(),
    )


def test_every_specimen_is_handed_in_graded_and_given_feedback(term_run: Term) -> None:
    course = term_run.course
    assert term_run.result.assignments == tuple(ASSIGNMENTS)
    for assignment in ASSIGNMENTS:
        students = [s.student for s in load_specimens(assignment)]
        for step in ("submitted", "autograded", "feedback"):
            assert course.students(assignment, step) == sorted(students), step
        for student in students:
            (page,) = course.notebooks(assignment, "feedback", student)
            assert page.stat().st_size > 10_000


# ---------------------------------------------------------------------------------------------
# Exact scores, per grade cell, per specimen


def evidence_points(answers: object, **rules: Any) -> float:
    """The partial credit of an evidence answer, recomputed from filmkit.evidence.verify."""
    points, need = float(rules["points"]), int(rules["need"])
    patterns = [analysis.term_pattern(t) for t in rules.get("must_mention", ())]
    cap = rules.get("max_per_source")
    taken: list[tuple[str, int, int]] = []
    per_source: Counter[str] = Counter()
    if not isinstance(answers, list):
        return 0.0
    for item in answers:
        if not (isinstance(item, tuple) and len(item) == 2):
            continue
        quote, source = item[0].strip("\"'“”‘’ "), item[1]
        if len(WORD_PATTERN.findall(quote)) < rules.get("min_words", 4):
            continue
        verdict = verify(quote, source)
        if not verdict.verified:
            continue
        if patterns and not any(p.search(quote) for p in patterns):
            continue
        if len(taken) >= need:
            continue
        match = next(m for m in verdict.matches if m.source == verdict.attributed_to)
        if any(s == match.source and match.start < e and b < match.end for s, b, e in taken):
            continue
        if cap is not None and per_source[match.source] >= cap:
            continue
        taken.append((match.source, match.start, match.end))
        per_source[match.source] += 1
    return round(points * len(taken) / need, 4)


def evidence_rules(test_source: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The keyword arguments the evidence test cell passes to mark_evidence (run with a stub)."""
    seen: dict[str, Any] = {}

    def capture(answers: object, **kwargs: Any) -> float:
        seen.update(kwargs)
        return 0.0

    with monkeypatch.context() as patch:
        patch.setattr(marking, "mark_evidence", capture)
        exec(test_source, {"__name__": "evidence_test", **_answer_placeholders(test_source)})
    return seen


def _answer_placeholders(test_source: str) -> dict[str, object]:
    return {name: [] for name in re.findall(r"mark_evidence\(\s*(\w+)", test_source)}


def specimen_answer(specimen: Specimen, grade_id: str) -> object:
    namespace: dict[str, Any] = {}
    exec(specimen.answers[grade_id], namespace)
    return namespace[grade_id]


def source_cells(course: Course, assignment: str) -> dict[str, dict[str, Any]]:
    (notebook,) = course.notebooks(assignment)
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in cells if "nbgrader" in c["metadata"]}


def expected_scores(
    course: Course, specimen: Specimen, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[float | None, bool]]:
    """grade_id → (auto_score, needs_manual_grade) the gradebook must record."""
    cells = source_cells(course, specimen.assignment)
    expected: dict[str, tuple[float | None, bool]] = {}
    for grade_id, what in specimen.expect.items():
        points = float(cells[grade_id]["metadata"]["nbgrader"]["points"])
        if what == "full":
            expected[grade_id] = (points, False)
        elif what == "zero":
            expected[grade_id] = (0.0, False)
        elif what == "evidence":
            answer_id = grade_id.removeprefix("test_")
            test_source = "".join(cells[grade_id]["source"])
            rules = evidence_rules(test_source, monkeypatch)
            expected[grade_id] = (
                evidence_points(specimen_answer(specimen, answer_id), **rules),
                False,
            )
        elif what == "written":
            expected[grade_id] = (None, True)
        else:  # unanswered: nbgrader gives an unchanged written answer 0 itself
            expected[grade_id] = (0.0, False)
    return expected


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exact_score_of_every_grade_cell_of_every_specimen(
    term_run: Term, assignment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores = term_run.result.per_question
    cells = source_cells(term_run.course, assignment)
    for specimen in load_specimens(assignment):
        mine = scores[
            (scores["assignment"] == assignment) & (scores["student"] == specimen.student)
        ]
        recorded = {
            row.question: (
                None if pd.isna(row.auto_score) else float(row.auto_score),
                row.needs_manual_grade,
            )
            for row in mine.itertuples()
        }
        assert recorded == expected_scores(term_run.course, specimen, monkeypatch), specimen.student
        for row in mine.itertuples():
            assert row.max_score == cells[str(row.question)]["metadata"]["nbgrader"]["points"]
            assert row.score == (row.auto_score if not pd.isna(row.auto_score) else 0.0)


def test_the_specimens_span_the_range_of_marks(term_run: Term) -> None:
    totals = term_run.result.totals.set_index(["student", "assignment"])
    for assignment in ASSIGNMENTS:
        score = {s: totals.loc[(s, assignment), "score"] for s in term_run.result.students}
        maximum = totals.loc[("full", assignment), "max_score"]
        written = sum(
            float(c["metadata"]["nbgrader"]["points"])
            for c in source_cells(term_run.course, assignment).values()
            if c["cell_type"] == "markdown" and c["metadata"]["nbgrader"].get("grade")
        )
        assert score["full"] == maximum - written  # everything but the hand-marked essay
        assert score["blank"] == 0
        assert 0 < score["raises"] < score["partial"] < score["full"]
        assert score["fabricated"] < score["full"]


def test_evidence_partial_credit_is_exercised(
    term_run: Term, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores = term_run.result.per_question
    evidence = scores[scores["question"].str.endswith("_evidence")]
    by = evidence.set_index(["assignment", "student"])["auto_score"]
    for assignment in ASSIGNMENTS:
        full, partial = by[(assignment, "full")], by[(assignment, "partial")]
        assert 0 < partial < full and by[(assignment, "fabricated")] < partial


# ---------------------------------------------------------------------------------------------
# What students and markers see


def cell_outputs(path: Path, grade_id: str) -> str:
    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
        parts.append(output.get("evalue", ""))
    return "\n".join(parts)


def test_evidence_messages_name_the_failing_quotation_and_why(term_run: Term) -> None:
    course = term_run.course
    for assignment in ASSIGNMENTS:
        (notebook,) = course.notebooks(assignment, "autograded", "fabricated")
        test_id = next(
            g
            for g in source_cells(course, assignment)
            if g.startswith("test_") and g.endswith("_evidence")
        )
        report = cell_outputs(notebook, test_id)
        specimen = next(s for s in load_specimens(assignment) if s.student == "fabricated")
        for number, (quote, source) in enumerate(
            specimen_answer(specimen, test_id.removeprefix("test_")), 1
        ):  # type: ignore[arg-type]
            verdict = verify(quote, source)
            if not verdict.verified and len(WORD_PATTERN.findall(quote)) >= 4:
                assert f"{number:2d}. ✗ {verdict.status}: “{quote}”" in report
                assert verdict.message in report
    partial = course.notebooks("01-genre-shifts", "autograded", "partial")[0]
    report = cell_outputs(partial, "test_genre_shift_evidence")
    assert "near-miss" in report and "the source has" in report


def test_essay_evidence_reports_reach_marker_and_student(term_run: Term) -> None:
    course = term_run.course
    for assignment in ASSIGNMENTS:
        essay_id = next(
            g
            for g, c in source_cells(course, assignment).items()
            if c["cell_type"] == "markdown" and c["metadata"]["nbgrader"].get("grade")
        )
        for specimen in load_specimens(assignment):
            (autograded,) = course.notebooks(assignment, "autograded", specimen.student)
            report = cell_outputs(autograded, f"{essay_id}_check")
            if specimen.student == "blank":
                assert "No answer yet" in report
                continue
            expected = marking.essay_check(essay_id, notebook=autograded, min_sources=3).report()
            assert report.strip() == expected.strip()
            (feedback,) = course.notebooks(assignment, "feedback", specimen.student)
            page = visible_text(feedback)
            for line in expected.splitlines()[:3]:
                assert " ".join(line.split()) in " ".join(page.split())
        full = course.notebooks(assignment, "autograded", "full")[0]
        assert "✗" not in cell_outputs(full, f"{essay_id}_check")
        fabricated = course.notebooks(assignment, "autograded", "fabricated")[0]
        assert "not-found" in cell_outputs(fabricated, f"{essay_id}_check")


# ---------------------------------------------------------------------------------------------
# Nothing secret reaches students


def secret_lines(course: Course, assignment: str) -> dict[str, list[str]]:
    """Solution and hidden-test lines of the source notebook, read straight from its JSON."""
    found: dict[str, list[str]] = {"solution": [], "hidden": [], "delimiters": []}
    public: list[str] = []
    for cell in source_cells(course, assignment).values():
        region = None
        for line in "".join(cell["source"]).splitlines():
            if "### BEGIN SOLUTION" in line or "### BEGIN HIDDEN TESTS" in line:
                region = "solution" if "SOLUTION" in line else "hidden"
                found["delimiters"].append(line.strip())
            elif "### END" in line:
                region = None
            elif region:
                found[region].append(line.strip())
            else:
                public.append(line.strip())
    public_text = "\n".join(public)  # a line that also occurs in public text is no secret
    return {
        kind: sorted({x for x in lines if len(x) >= 8 and x not in public_text})
        for kind, lines in found.items()
    }


def visible_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = re.sub(r"<(style|script)\b.*?</\1>", "", raw, flags=re.S)
        return html.unescape(re.sub(r"<[^>]+>", "", raw))
    nb = nbformat.reads(raw, as_version=4)
    texts = ["".join(c.source) for c in nb.cells]
    texts += [json.dumps(c.get("outputs", []), ensure_ascii=False) for c in nb.cells]
    return "\n".join(texts)


def without_blank_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip())


def leaked(text: str, lines: list[str], allowed: str = "") -> list[str]:
    flat = " ".join(text.split())
    mine = " ".join(allowed.split())
    return [x for x in lines if " ".join(x.split()) in flat and " ".join(x.split()) not in mine]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_or_hidden_test_in_releases_or_feedback(
    term_run: Term, assignment: str
) -> None:
    course = term_run.course
    secrets = secret_lines(course, assignment)
    assert secrets["solution"] and secrets["hidden"]
    everything = secrets["solution"] + secrets["hidden"] + secrets["delimiters"]
    (released,) = course.notebooks(assignment, "release")
    assert leaked(visible_text(released), everything) == []
    for student in course.students(assignment, "feedback"):
        (page,) = course.notebooks(assignment, "feedback", student)
        (submitted,) = course.notebooks(assignment, "submitted", student)
        own = visible_text(submitted)
        assert leaked(visible_text(page), secrets["hidden"] + secrets["delimiters"]) == [], student
        assert leaked(visible_text(page), secrets["solution"], allowed=own) == [], student
        # the graded copy the marker sees does hold the hidden tests: the search can find them
        (autograded,) = course.notebooks(assignment, "autograded", student)
        assert leaked(visible_text(autograded), secrets["hidden"])


# ---------------------------------------------------------------------------------------------
# Stock nbgrader on the committed configuration


def stock_config(course_dir: Path) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()


def fresh_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "course"
    copy.mkdir()
    shutil.copy2(REPO / "assignments" / "nbgrader_config.py", copy)
    shutil.copytree(REPO / "assignments" / "source", copy / "source")
    return copy


def comparable(path: Path) -> list[tuple[str, str, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, json.dumps(c.metadata, sort_keys=True)) for c in nb.cells]


def test_stock_generate_assignment_releases_the_same_notebooks(
    term_run: Term, tmp_path: Path
) -> None:
    from nbgrader.apps import NbGraderAPI

    copy = fresh_copy(tmp_path)
    api = NbGraderAPI(config=stock_config(copy))
    assert api.coursedir.root == str(copy)  # the committed config finds its own folder
    for assignment in ASSIGNMENTS:
        assert api.generate_assignment(assignment)["success"]
        (stock,) = sorted((copy / "release" / assignment).glob("*.ipynb"))
        (ours,) = term_run.course.notebooks(assignment, "release")
        assert comparable(stock) == comparable(ours)


def test_stock_autograde_feedback_and_export_agree(term_run: Term, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.plugins import CsvExportPlugin

    copy = tmp_path / "course"
    shutil.copytree(term_run.course.root, copy)
    config = stock_config(copy)
    api = NbGraderAPI(config=config)
    assert api.autograde("01-genre-shifts", "partial")["success"]
    assert api.generate_feedback("01-genre-shifts", "partial")["success"]
    stock_page = copy / "feedback/partial/01-genre-shifts/genre-shifts.html"
    ours = term_run.course.root / "feedback/partial/01-genre-shifts/genre-shifts.html"
    # ipykernel sometimes sends one print as two stream messages (its 0.2 s flush timer), and
    # nbconvert renders each as its own block: compare the text, not how it was chunked
    assert without_blank_lines(visible_text(stock_page)) == without_blank_lines(visible_text(ours))
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        CsvExportPlugin(config=config, to=str(tmp_path / "stock.csv")).export(gb)
    assert (tmp_path / "stock.csv").read_bytes() == term_run.grades_csv


def test_stock_feedback_without_the_scrubber_leaks(term_run: Term, tmp_path: Path) -> None:
    """Why the course configures GenerateFeedback: stock nbgrader shows the hidden tests."""
    from nbgrader.apps import NbGraderAPI

    copy = tmp_path / "course"
    shutil.copytree(term_run.course.root, copy)
    config = stock_config(copy)
    config.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    assert NbGraderAPI(config=config).generate_feedback("01-genre-shifts", "partial")["success"]
    page = visible_text(copy / "feedback/partial/01-genre-shifts/genre-shifts.html")
    assert leaked(page, secret_lines(term_run.course, "01-genre-shifts")["hidden"])


def test_stock_nbgrader_command_line_releases_the_same(term_run: Term, tmp_path: Path) -> None:
    import subprocess
    import sys

    copy = fresh_copy(tmp_path)
    nbgrader = Path(sys.executable).parent / "nbgrader"
    done = subprocess.run(
        [str(nbgrader), "generate_assignment", "02-mentorship-power"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (stock,) = sorted((copy / "release/02-mentorship-power").glob("*.ipynb"))
    (ours,) = term_run.course.notebooks("02-mentorship-power", "release")
    assert comparable(stock) == comparable(ours)


def test_nbgrader_validate_sources_pass_releases_fail(term_run: Term) -> None:
    """nbgrader's Validator (its Python API): every source passes all its tests; no test passes
    on a blank release (`nbgrader validate --invert` succeeds), and uninverted it fails them all."""
    from nbgrader.validator import Validator

    course = term_run.course
    checked = {(v.step, v.notebook) for r in term_run.result.released for v in r.validations}
    for released in term_run.result.released:
        assert [v.step for v in released.validations] == ["source", "release"]
        for v in released.validations:
            assert v.result == {}, (v.step, v.notebook, v.result)
    expected = {
        (step, notebook)
        for a in ASSIGNMENTS
        for step in ("source", "release")
        for notebook in course.notebooks(a, step)
    }
    assert checked == expected
    (released_01,) = course.notebooks("01-genre-shifts", "release")
    result = Validator(config=stock_config(course.root)).validate(str(released_01))
    graded = [
        c
        for c in source_cells(course, "01-genre-shifts").values()
        if c["metadata"]["nbgrader"].get("grade")
    ]
    # every test fails, and the blank written answer counts as failed too
    assert set(result) == {"failed"} and len(result["failed"]) == len(graded)


# ---------------------------------------------------------------------------------------------
# Exports, and the demo run a second time


def test_exports(term_run: Term, corpus: Corpus) -> None:
    grades = pd.read_csv(term_run.result.scratch / "grades.csv")
    per_question = pd.read_csv(term_run.result.scratch / "grades-per-question.csv")
    students = set(term_run.result.students)
    assert set(grades["student_id"]) == students
    assert set(grades["assignment"]) == set(ASSIGNMENTS)
    sums = per_question.groupby(["student", "assignment"])["score"].sum()
    for row in grades.itertuples():
        assert row.raw_score == pytest.approx(sums[(row.student_id, row.assignment)])
    table = term_run.result.score_table()
    assert list(table.index) == list(term_run.result.students)
    assert list(table.columns) == [*ASSIGNMENTS, "total"]


@pytest.fixture
def demo_output(term_run: Term) -> Iterator[str]:
    result = CliRunner().invoke(
        cli, ["demo", "--scratch", str(term_run.result.scratch), "--no-site"]
    )
    assert result.exit_code == 0, result.output
    yield result.output


def test_demo_twice_gives_the_same_result(term_run: Term, demo_output: str, corpus: Corpus) -> None:
    scratch = term_run.result.scratch
    assert (scratch / "grades.csv").read_bytes() == term_run.grades_csv
    assert (scratch / "grades-per-question.csv").read_bytes() == term_run.per_question_csv
    # what it prints: the corpus, the sample essay, the score table and where everything is
    assert all(source in demo_output for source in corpus.ids)
    assert "sample-essay.md" in demo_output
    assert "Scores: students × assignments" in demo_output
    # a command the reader can paste as it is (make demo's environment is not activated)
    assert "uv run filmkit lab --instructor --course" in " ".join(demo_output.split())
    for student in term_run.result.students:
        assert re.search(rf"│ {student}\s+│", demo_output), student
    assert str(scratch / "grades.csv") in demo_output
    assert "Lesson site: not built (--no-site)" in demo_output


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    result = CliRunner().invoke(cli, ["demo", "--scratch", str(tmp_path), "--no-site"])
    assert result.exit_code == 2 and "not a filmkit demo folder" in result.output
    assert (tmp_path / "thesis.docx").read_text() == "precious"
