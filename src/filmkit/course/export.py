"""``filmkit export``: the grades CSV (nbgrader's own export) and a per-question CSV.

``grades.csv`` is what ``nbgrader export`` writes (one row per student and assignment); the
per-question CSV beside it (``<name>-per-question.csv``) has one row per student, assignment and
grade cell: auto and manual scores, the maximum, whether it still needs a marker, and the
student's grading status with its one-line reason (:mod:`filmkit.grading.outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from filmkit.course.folder import GradingError, load_course
from filmkit.grading.grade import SCORE_COLUMNS, scores, totals
from filmkit.grading.outcome import read_outcomes

if TYPE_CHECKING:
    from filmkit.course.lms import LmsExport

PER_QUESTION_COLUMNS = [*SCORE_COLUMNS, "status", "reason"]


@dataclass(frozen=True)
class Exported:
    grades_csv: Path
    per_question_csv: Path
    per_question: pd.DataFrame  # PER_QUESTION_COLUMNS
    totals: pd.DataFrame  # student, assignment, score, max_score, to_mark, failed
    lms: LmsExport | None = None  # with --lms: the LMS's import file


def per_question_path(grades_csv: Path) -> Path:
    return grades_csv.with_name(f"{grades_csv.stem}-per-question.csv")


def main(
    *, course: Path | None = None, out: Path | None = None, lms: str | None = None
) -> Exported:
    """Export every assignment's grades; ``out`` defaults to ``<course>/grades.csv``; ``lms``
    (canvas or moodle) also writes ``<name>-<lms>.csv`` in that LMS's import format
    (:mod:`filmkit.course.lms`)."""
    from nbgrader.plugins import CsvExportPlugin

    loaded = load_course(course)
    grades_csv = (out or loaded.root / "grades.csv").resolve()
    with loaded.gradebook() as gb:
        assignments = sorted(a.name for a in gb.assignments)
    frames = [with_status(scores(loaded, a), loaded.root, a) for a in assignments]
    frames = [f for f in frames if len(f)]
    if not frames:  # files of headers only would look like a class that scored nothing
        raise GradingError(
            f"nothing has been graded in {loaded.db_url} yet, so there is nothing to export: "
            "run `filmkit grade ASSIGNMENT` first"
        )
    per_question = pd.concat(frames, ignore_index=True)
    grades_csv.parent.mkdir(parents=True, exist_ok=True)
    with loaded.gradebook() as gb:
        CsvExportPlugin(config=loaded.config, to=str(grades_csv)).export(gb)
    per_question_csv = per_question_path(grades_csv)
    per_question.to_csv(per_question_csv, index=False)
    summed = totals(per_question)
    lms_export = None
    if lms is not None:
        from filmkit.course.lms import LmsExport, lms_table

        status = per_question.groupby(["student", "assignment"], sort=False)["status"].first()
        with_state = summed.merge(status.reset_index(), on=["student", "assignment"], how="left")
        with loaded.gradebook() as gb:
            table, not_exported = lms_table(lms, with_state, list(gb.students))
        path = grades_csv.with_name(f"{grades_csv.stem}-{lms}.csv")
        table.to_csv(path, index=False)
        lms_export = LmsExport(path, table, tuple(not_exported))
    return Exported(grades_csv, per_question_csv, per_question, summed, lms_export)


def with_status(table: pd.DataFrame, course_root: Path, assignment: str) -> pd.DataFrame:
    """``table`` (SCORE_COLUMNS of one assignment) with each student's status and reason."""
    outcomes = read_outcomes(course_root, assignment)
    found = [outcomes.get(s) for s in table["student"]]
    table = table.assign(
        status=[o.status if o else "graded" for o in found],
        reason=[o.reason if o else "" for o in found],
    )
    # a submission that could not be graded has no scores, but its row says why
    unscored = [o for s, o in sorted(outcomes.items()) if s not in set(table["student"])]
    if not unscored:
        return table
    rows = pd.DataFrame(
        [
            {"student": o.student, "assignment": assignment, "status": o.status, "reason": o.reason}
            for o in unscored
        ],
        columns=PER_QUESTION_COLUMNS,
    )
    return pd.concat([table, rows], ignore_index=True) if len(table) else rows
