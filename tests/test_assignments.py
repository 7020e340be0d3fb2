"""The assignments' source notebooks: built from their descriptions, shaped as the course needs.

(The whole nbgrader cycle on them is in test_grading_cycle.py.)
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from filmkit import analysis
from filmkit.check import check_markdown
from filmkit.course import authoring
from filmkit.course.folder import load_course
from filmkit.course.leaks import find_leaks, secrets_of
from filmkit.course.specimens import EXPECTATIONS, load_specimens

from .conftest import REPO

COURSE = REPO / "assignments"
ASSIGNMENTS = ["01-genre-shifts", "02-mentorship-power", "03-critical-reception"]


def cells_of(assignment: str) -> list[dict[str, Any]]:
    (path,) = load_course(COURSE).notebooks(assignment)
    cells: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return cells


def meta(cell: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = cell.get("metadata", {}).get("nbgrader", {})
    return found


def source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else str(cell["source"])


@pytest.mark.parametrize("vocabulary", [analysis.ROLE_TERMS, analysis.POWER_TERMS])
def test_assignment_vocabularies_are_the_sources_own_words(
    vocabulary: dict[str, tuple[str, ...]],
) -> None:
    for label, spellings in vocabulary.items():
        found = set(analysis.find_terms({s: (s,) for s in spellings})["label"])
        assert found == set(spellings), (label, set(spellings) - found)


def test_the_course_has_the_three_numbered_assignments() -> None:
    assert load_course(COURSE).assignments() == ASSIGNMENTS


def test_committed_notebooks_match_their_descriptions() -> None:
    stale = authoring.build_sources(COURSE, check=True)
    assert stale == [], f"run `python -m filmkit.course.authoring` to rewrite {stale}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebooks_are_stored_without_outputs(assignment: str) -> None:
    for cell in cells_of(assignment):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_opens_with_a_content_note_and_states_its_points(assignment: str) -> None:
    cells = cells_of(assignment)
    intro = source(cells[0])
    assert meta(cells[0]).get("locked") is True
    assert "**Content note.**" in intro and "**For instructors.**" in intro
    for subject in ("sexual abuse", "self-harm", "mutilation"):
        assert subject in intro
    stated = re.search(r"\*\*(\d+) points\*\*: (\d+) marked automatically, (\d+) by hand", intro)
    assert stated, "the overview states the points"
    graded = [meta(c) for c in cells if meta(c).get("grade")]
    auto = sum(m["points"] for m in graded if not m.get("solution"))
    manual = sum(m["points"] for m in graded if m.get("solution"))
    assert (int(stated[1]), int(stated[2]), int(stated[3])) == (auto + manual, auto, manual)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mixes_analysis_evidence_and_written_answers(assignment: str) -> None:
    cells = cells_of(assignment)
    tests = [c for c in cells if meta(c).get("grade") and c["cell_type"] == "code"]
    evidence = [c for c in tests if "mark_evidence(" in source(c)]
    analysis = [c for c in tests if "### BEGIN HIDDEN TESTS" in source(c)]
    essays = [c for c in cells if meta(c).get("grade") and c["cell_type"] == "markdown"]
    assert len(evidence) == 1 and len(analysis) >= 5 and len(essays) == 1
    assert len(analysis) + len(evidence) == len(tests)
    for cell in analysis:
        visible, hidden = source(cell).split("### BEGIN HIDDEN TESTS")
        assert 'print("✓' in visible, "the visible part tells the student it passed"
        # the expected answer is computed through filmkit when the notebook is graded
        assert re.search(r"_fa\.\w+\(|_load_corpus\(\)", hidden), meta(cell)["grade_id"]
    # every answer cell is followed by its test cell, named after it
    ids = [meta(c).get("grade_id") for c in cells]
    for cell in cells:
        m = meta(cell)
        if m.get("solution") and not m.get("grade"):
            assert ids[ids.index(m["grade_id"]) + 1] == f"test_{m['grade_id']}"
    # the written answer is followed by the read-only cell that checks its quotations
    (essay,) = essays
    after = cells[cells.index(essay) + 1]
    assert meta(after).get("locked") and f'evidence_report("{meta(essay)["grade_id"]}"' in source(
        after
    )
    # the rubric is in the question's cell, just above the answer
    assert "| criterion |" in source(cells[cells.index(essay) - 1])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_model_answers_quote_the_sources_accurately(assignment: str) -> None:
    (essay,) = [
        c for c in cells_of(assignment) if c["cell_type"] == "markdown" and meta(c).get("grade")
    ]
    text = source(essay)
    assert text.startswith("### BEGIN SOLUTION") and text.endswith("### END SOLUTION")
    results = check_markdown(text)
    assert len({r.quotation.source for r in results}) >= 3
    for r in results:
        assert r.quotation.source and r.verdict.verified, (r.quotation.text, r.message)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_secrets_cover_solutions_hidden_tests_and_model_answers(assignment: str) -> None:
    (path,) = load_course(COURSE).notebooks(assignment)
    secrets = secrets_of(path)
    kinds = {s.kind for s in secrets}
    assert {"solution", "hidden test", "model answer", "delimiter"} <= kinds
    public = "\n".join(source(c) for c in cells_of(assignment) if not meta(c).get("solution"))
    for s in secrets:
        if s.kind in ("solution", "model answer"):
            assert s.text not in public


def test_find_leaks_sees_code_split_by_the_highlighter(tmp_path: Path) -> None:
    (path,) = load_course(COURSE).notebooks("01-genre-shifts")
    secret = next(s for s in secrets_of(path) if s.kind == "hidden test" and "same_frame" in s.text)
    name, rest = secret.text.split("(", 1)
    page = tmp_path / "feedback.html"
    escaped = html.escape(rest)
    page.write_text(
        f'<html><style>.x {{}}</style><pre><span class="n">{name}</span>'
        f'<span class="p">(</span>{escaped}</pre></html>'
    )
    assert [leak.secret for leak in find_leaks([page], [secret])] == [secret]
    assert find_leaks([page], [secret], allowed=secret.text) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_specimens_cover_every_grade_cell(assignment: str) -> None:
    graded = {meta(c)["grade_id"] for c in cells_of(assignment) if meta(c).get("grade")}
    answerable = {meta(c)["grade_id"] for c in cells_of(assignment) if meta(c).get("solution")}
    specimens = load_specimens(assignment)
    assert [s.student for s in specimens] == ["full", "partial", "blank", "fabricated", "raises"]
    for specimen in specimens:
        assert set(specimen.expect) == graded, specimen.student
        assert set(specimen.answers) <= answerable, specimen.student
        assert set(specimen.expect.values()) <= set(EXPECTATIONS)
    blank = next(s for s in specimens if s.student == "blank")
    assert blank.answers == {} and set(blank.expect.values()) == {"zero", "unanswered"}
