"""Terminal tables for the grading commands (rich); the grading modules return data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from rich.markup import escape
from rich.table import Table

from filmkit.course.export import Exported
from filmkit.course.feedback import Feedback
from filmkit.course.release import Released
from filmkit.course.term import TermResult
from filmkit.grading.grade import GradeSummary


def _number(x: object) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return "—"
    return f"{float(x):g}"  # type: ignore[arg-type]


def _here(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def released_table(released: Sequence[Released]) -> Table:
    table = Table(title="Released (student versions)", title_justify="left")
    for column in ("assignment", "notebooks", "files", "secret lines checked", "validated"):
        table.add_column(column)
    for r in released:
        table.add_row(
            r.assignment,
            "\n".join(escape(_here(p)) for p in r.notebooks),
            str(len(r.files)),
            str(r.secrets_checked),
            "yes" if r.validated else "not run (--validate)",
        )
    return table


def grade_table(summary: GradeSummary) -> Table:
    graded, skipped = len(summary.graded), len(summary.skipped)
    title = f"Autograded: {summary.assignment} ({graded} graded"
    title += (
        f", {skipped} already graded and skipped; --force grades them again)" if skipped else ")"
    )
    table = Table(title=title, title_justify="left")
    if summary.sandbox.startswith("dask cluster"):  # where the notebooks ran, when not here
        table.caption, table.caption_justify = f"Notebooks run on the {summary.sandbox}", "left"
    for column in ("student", "score", "max", "status", "reason", "tests below full marks"):
        table.add_column(column, justify="right" if column in ("score", "max") else "left")
    scores = summary.scores
    totals = summary.totals().set_index("student")
    for student in summary.students:
        outcome = summary.outcome(student)
        style = "" if outcome.status == "graded" else "bold yellow"
        if student in totals.index:
            row = totals.loc[student]
            mine = scores[scores["student"] == student]
            failed = ", ".join(mine.loc[mine["failed_tests"], "question"].tolist()) or "—"
            numbers = (_number(row["score"]), _number(row["max_score"]))
        else:
            failed, numbers = "—", ("—", "—")
        table.add_row(
            escape(student),
            *numbers,
            f"[{style}]{outcome.status}[/]" if style else outcome.status,
            escape(outcome.reason) or "—",
            failed,
        )
    return table


def feedback_table(results: Sequence[Feedback]) -> Table:
    table = Table(title="Feedback (hidden tests scrubbed, checked for leaks)", title_justify="left")
    table.add_column("student")
    table.add_column("file")
    table.add_column("awaiting marking (left out of the total)")
    for r in results:
        awaiting = "\n".join(
            f"{escape(u.question)} ({_number(u.points)} point{'' if u.points == 1 else 's'})"
            for u in r.awaiting
        )
        table.add_row(r.student, "\n".join(escape(_here(p)) for p in r.files), awaiting or "—")
    return table


def export_table(exported: Exported) -> Table:
    table = Table(
        title="Grades (autograded points; written answers count once marked)", title_justify="left"
    )
    totals = exported.totals
    assignments = sorted(totals["assignment"].unique())
    table.add_column("student")
    for a in assignments:
        table.add_column(a, justify="right")
    for student, rows in totals.groupby("student", sort=True):
        by = rows.set_index("assignment")
        table.add_row(
            str(student),
            *[
                f"{_number(by.loc[a, 'score'])} / {_number(by.loc[a, 'max_score'])}"
                if a in by.index
                else "—"
                for a in assignments
            ],
        )
    return table


def term_table(result: TermResult) -> Table:
    table = Table(
        title="Scores: students × assignments (autograded points; written answers await a marker)",
        title_justify="left",
    )
    scores = result.score_table()
    maxima = result.max_scores()
    table.add_column("student")
    for column in scores.columns:
        table.add_column(str(column), justify="right")
    table.add_column("to mark by hand", justify="right")
    to_mark = result.totals.groupby("student")["to_mark"].sum()
    for student, row in scores.iterrows():
        table.add_row(
            str(student),
            *[_number(v) for v in row.tolist()],
            str(int(to_mark.get(student, 0))),
        )
    table.add_section()
    table.add_row("(maximum)", *[_number(v) for v in maxima.tolist()], "")
    return table


def outputs_table(outputs: Mapping[str, Path | str]) -> Table:
    table = Table(title="Where everything is", title_justify="left")
    table.add_column("what")
    table.add_column("path")
    for what, path in outputs.items():
        table.add_row(what, escape(str(path)))
    return table
