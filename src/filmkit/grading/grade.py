"""``filmkit grade``: autograde every submission of an assignment, and read the scores back.

Submissions are nbgrader's: ``submitted/<student>/<assignment>/<notebook>.ipynb`` (with an
optional ``timestamp.txt``). Each is autograded with nbgrader's stock ``autograde`` (a kernel per
notebook; read-only cells and tests restored from the gradebook, hidden tests included), and the
scores are read from the gradebook, one row per grade cell.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from filmkit.grading.course import (
    Course,
    GradingError,
    check_result,
    load_course,
    nbgrader_warnings,
)

SCORE_COLUMNS = [
    "student",
    "assignment",
    "notebook",
    "question",
    "kind",
    "auto_score",
    "manual_score",
    "extra_credit",
    "score",
    "max_score",
    "needs_manual_grade",
    "failed_tests",
]


@dataclass(frozen=True)
class GradeSummary:
    assignment: str
    students: tuple[str, ...]
    scores: pd.DataFrame  # one row per student and grade cell: SCORE_COLUMNS

    def totals(self) -> pd.DataFrame:
        """One row per student: score, max_score, the questions awaiting a marker, failures."""
        return totals(self.scores)


def main(
    assignment: str,
    *,
    course: Path | None = None,
    students: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> GradeSummary:
    """Autograde the submissions of ``assignment`` (all under ``submitted/``, or ``students``).

    ``progress`` is told about each submission as its autograding starts.
    """
    loaded = load_course(course)
    loaded.require(assignment)
    if not (loaded.step_dir("release") / assignment).is_dir():
        raise GradingError(
            f"{assignment} has not been released (no {loaded.step_dir('release') / assignment}): "
            f"run `filmkit release {assignment}` first"
        )
    wanted = loaded.select_students(
        assignment,
        "submitted",
        students,
        what="submission",
        hint=f"each goes in submitted/<student>/{assignment}/",
    )
    api = loaded.api()
    for number, student in enumerate(wanted, 1):
        if progress is not None:
            progress(f"autograding {student}'s {assignment} ({number} of {len(wanted)})")
        with nbgrader_warnings():
            check_result(
                api.autograde(assignment, student, force=True, create=True),
                f"nbgrader autograde of {student}'s {assignment} "
                f"(submitted/{student}/{assignment})",
            )
    return GradeSummary(assignment, tuple(wanted), scores(loaded, assignment, wanted))


def question_order(course: Course, assignment: str) -> dict[tuple[str, str], int]:
    """(notebook, grade_id) → position in the source notebooks, to list questions in order."""
    order: dict[tuple[str, str], int] = {}
    for notebook in course.notebooks(assignment):
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                order[(notebook.stem, grade_id)] = len(order)
    return order


def scores(course: Course, assignment: str, students: Sequence[str] | None = None) -> pd.DataFrame:
    """The gradebook's score of every grade cell of every submission (SCORE_COLUMNS)."""
    from nbgrader.api import MissingEntry

    order = question_order(course, assignment)
    rows = []
    with course.gradebook() as gb:
        wanted = list(students) if students else sorted(s.id for s in gb.students)
        for student in wanted:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for g in notebook.grades:
                    kind = (
                        "task"
                        if type(g.cell).__name__ == "TaskCell"
                        else ("written" if g.cell.cell_type == "markdown" else "autograded")
                    )
                    rows.append(
                        {
                            "student": student,
                            "assignment": assignment,
                            "notebook": notebook.name,
                            "question": g.name,
                            "kind": kind,
                            "auto_score": g.auto_score,
                            "manual_score": g.manual_score,
                            "extra_credit": g.extra_credit,
                            "score": float(g.score),
                            "max_score": float(g.max_score),
                            "needs_manual_grade": bool(g.needs_manual_grade),
                            "failed_tests": bool(g.failed_tests),
                        }
                    )
    table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    position = [
        order.get((n, q), len(order))
        for n, q in zip(table["notebook"], table["question"], strict=True)
    ]
    table = table.assign(_position=position).sort_values(["student", "_position"], kind="stable")
    return table.drop(columns="_position").reset_index(drop=True)


def totals(scores: pd.DataFrame) -> pd.DataFrame:
    """Per student (and assignment): score, max_score, questions to mark by hand, tests failed."""
    grouped = scores.groupby(["student", "assignment"], sort=False)
    table = grouped.agg(
        score=("score", "sum"),
        max_score=("max_score", "sum"),
        to_mark=("needs_manual_grade", "sum"),
        failed=("failed_tests", "sum"),
    )
    table["to_mark"] = table["to_mark"].astype(int)
    table["failed"] = table["failed"].astype(int)
    return table.reset_index()
