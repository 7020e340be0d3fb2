"""``filmkit grade``: autograde an assignment's submissions, fast, contained and whole.

Submissions are nbgrader's: ``submitted/<student>/<assignment>/<notebook>.ipynb`` (with an
optional ``timestamp.txt``). Results go where ``nbgrader autograde`` puts them
(``gradebook.db`` and ``autograded/``), written by nbgrader's own code, so ``nbgrader export``,
formgrader and feedback work as usual; the scores are stock nbgrader's (only where cells run
differs, :mod:`filmkit.grading.fastgrade`).

A run: verify the source texts; finish what a killed run left (:mod:`~filmkit.grading.staging`);
skip students already graded unless ``force``; read each submission and repair or set aside what
would stop nbgrader (:mod:`~filmkit.grading.screen`); grade the rest in a staging area on
``jobs`` sandboxed workers (:mod:`filmkit.sandbox`), committing each student's result
whole as soon as it is complete; record each student's status and reason
(:mod:`~filmkit.grading.outcome`); verify the source texts again.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from filmkit.course.folder import (
    Course,
    GradingError,
    check_result,
    load_course,
    nbgrader_warnings,
)
from filmkit.grading.cgroups import CgroupError
from filmkit.grading.limits import GradingLimits
from filmkit.grading.outcome import STATUSES, Outcome, read_outcomes, write_outcomes
from filmkit.grading.pool import Limits
from filmkit.grading.screen import Screened, released_notebooks, screen
from filmkit.grading.staging import Staging, recover

if TYPE_CHECKING:
    from filmkit.grading.fastgrade import NotebookRun

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

# Errors in a cell's outputs that mean a limit stopped it, not a wrong answer.
LIMIT_ERRORS = {
    "CellTimeoutError": "ran past the time limit",
    "MemoryError": "ran out of its memory limit",
    "OutputLimitExceeded": "printed past the output limit",
}
ENDED_ERRORS = {"DeadKernelError", "NotExecuted"}


@dataclass(frozen=True)
class GradeSummary:
    assignment: str
    students: tuple[str, ...]  # every student asked about
    scores: pd.DataFrame  # one row per student and grade cell: SCORE_COLUMNS
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    graded: tuple[str, ...] = ()  # graded by this run
    skipped: tuple[str, ...] = ()  # already graded, left alone (no --force)
    sandbox: str = ""  # "bwrap", or the warning given when grading unsandboxed
    seconds: float = 0.0
    runs: tuple[RunStats, ...] = ()  # how each notebook ran (graded by this run)

    def totals(self) -> pd.DataFrame:
        """One row per student: score, max_score, the questions awaiting a marker, failures."""
        table = totals(self.scores)
        status = [self.outcome(s) for s in table["student"]]
        return table.assign(status=[o.status for o in status], reason=[o.reason for o in status])

    def outcome(self, student: str) -> Outcome:
        return self.outcomes.get(student) or Outcome(student, self.assignment, "graded", "")


@dataclass(frozen=True)
class RunStats:
    """One notebook's run: its status, wall time in its worker, and the judge's share of it."""

    student: str
    notebook: str
    status: str
    wall_s: float
    judge_s: float


GradeProgress = Callable[[str, int, int], None]  # (student just finished, done, total)


def main(
    assignment: str,
    *,
    course: Path | None = None,
    students: Sequence[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    sandbox: bool = True,
    limits: Limits | None = None,
    cell_timeout: float | None = None,
    progress: GradeProgress | None = None,
    message: Callable[[str], None] | None = None,
) -> GradeSummary:
    """Autograde the submissions of ``assignment`` (all under ``submitted/``, or ``students``).

    Students already graded (in the gradebook and ``autograded/``, with no newer submission)
    are left alone unless ``force``. ``jobs`` defaults to the number of CPUs. The limits are the
    course's ``c.GradingLimits`` (:mod:`filmkit.grading.limits`), with ``cell_timeout`` (the
    command's ``--cell-timeout``) or a whole ``limits`` in their place. ``progress`` is
    called as each student's result is committed; ``message`` with anything worth saying
    (recovered runs, an unsandboxed run).
    """
    import time

    from filmkit.corpus import load_corpus

    started = time.perf_counter()
    say = message or (lambda _text: None)
    loaded = load_course(course)
    loaded.require(assignment)
    release_dir = loaded.step_dir("release") / assignment
    if not release_dir.is_dir():
        raise GradingError(
            f"{assignment} has not been released (no {release_dir}): "
            f"run `filmkit release {assignment}` first"
        )
    load_corpus()  # the answer key: refuse to grade against altered texts
    wanted = loaded.select_students(
        assignment,
        "submitted",
        students,
        what="submission",
        hint=f"each goes in submitted/<student>/{assignment}/",
    )
    staging = Staging(loaded.root, assignment)
    finished = recover(staging)
    if finished:
        say(f"finished committing {len(finished)} result(s) of an interrupted run")
    outcomes = read_outcomes(loaded.root, assignment)
    done = set() if force else already_graded(loaded, assignment, wanted)
    to_grade = [s for s in wanted if s not in done]
    released = released_notebooks(release_dir)
    screened = {
        s: screen(s, loaded.step_dir("submitted") / s / assignment, released) for s in to_grade
    }
    gradeable, no_notebook = [], []
    for student, found in screened.items():
        if found.status == "rejected":
            kept = outcomes.get(student)
            outcomes[student] = Outcome(
                student, assignment, "rejected", found.reason, kept.graded_at if kept else ""
            )
        elif found.has_notebook:
            gradeable.append(student)
        else:
            # nothing nbgrader would find (it globs notebooks): score 0 as nbgrader does a
            # missing notebook, recorded here in one commit
            no_notebook.append(student)
            record_no_notebook(loaded, assignment, student, found.files.get("timestamp.txt"))
            outcomes[student] = Outcome(student, assignment, found.status, found.reason, _now())
    mode = ""
    runs: tuple[RunStats, ...] = ()
    if gradeable:
        mode, runs = _grade_staged(
            loaded,
            assignment,
            staging,
            {s: screened[s] for s in gradeable},
            outcomes,
            jobs=jobs or os.cpu_count() or 1,
            sandbox=sandbox,
            limits=limits,
            cell_timeout=cell_timeout,
            progress=progress,
            say=say,
        )
    write_outcomes(loaded.root, assignment, outcomes)
    try:
        load_corpus()
    except Exception as error:
        raise GradingError(
            f"the source texts changed while {assignment} was being graded ({error}); "
            f"restore them (git checkout source_texts) and run `filmkit grade {assignment} "
            "--force`: the grades of this run were marked against altered texts"
        ) from error
    return GradeSummary(
        assignment,
        tuple(wanted),
        scores(loaded, assignment, wanted),
        {s: o for s, o in outcomes.items() if s in wanted},
        tuple(s for s in wanted if s in set(gradeable) | set(no_notebook)),
        tuple(sorted(done)),
        mode,
        round(time.perf_counter() - started, 2),
        runs,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_no_notebook(
    course: Course, assignment: str, student: str, timestamp: bytes | None
) -> None:
    """A submission without a readable notebook: every grade cell 0, in one gradebook commit,
    and an ``autograded/`` folder holding its timestamp (so a re-run skips it as graded)."""
    from nbgrader.api import MissingEntry
    from nbgrader.utils import parse_utc

    try:
        stamp = parse_utc(timestamp.decode("utf-8", "replace").strip()) if timestamp else None
    except ValueError:
        stamp = None
    with course.gradebook() as gb, nbgrader_warnings():
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        submission = gb.update_or_create_submission(
            assignment, student, **({"timestamp": stamp} if stamp else {})
        )
        for notebook in submission.notebooks:
            for grade_row in notebook.grades:
                grade_row.auto_score = 0
                grade_row.needs_manual_grade = False
        gb.db.commit()
    folder = course.step_dir("autograded") / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    if timestamp:
        (folder / "timestamp.txt").write_bytes(timestamp)


def already_graded(course: Course, assignment: str, students: Sequence[str]) -> set[str]:
    """Students with a result for ``assignment`` in the gradebook and ``autograded/``, and no
    newer submission since (nbgrader's own rule for skipping a submission)."""
    from nbgrader.api import MissingEntry

    found = set()
    with course.gradebook() as gb:
        for student in students:
            try:
                gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            graded = course.step_dir("autograded") / student / assignment
            submitted = course.step_dir("submitted") / student / assignment
            if not graded.is_dir():
                continue
            if _timestamp(submitted) > _timestamp(graded):
                continue
            found.add(student)
    return found


def _timestamp(folder: Path) -> str:
    try:
        return (folder / "timestamp.txt").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _grade_staged(
    course: Course,
    assignment: str,
    staging: Staging,
    screened: Mapping[str, Screened],
    outcomes: dict[str, Outcome],
    *,
    jobs: int,
    sandbox: bool,
    limits: Limits | None,
    cell_timeout: float | None,
    progress: GradeProgress | None,
    say: Callable[[str], None],
) -> tuple[str, tuple[RunStats, ...]]:
    """Grade the screened submissions in the staging area; commit each student whole."""
    import nbformat
    from nbgrader.coursedir import CourseDirectory

    from filmkit.grading.fastgrade import FastAutograde, judged_cells
    from filmkit.grading.pool import WorkerPool, cells_for_job, files_from_dir

    staging.start()
    for student, found in screened.items():
        folder = staging.submitted(student)
        for name, data in found.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    config = copy.deepcopy(course.config)
    relative = staging.root.relative_to(course.root)
    config.CourseDirectory.submitted_directory = str(relative / "submitted")
    config.CourseDirectory.autograded_directory = str(relative / "autograded")
    config.CourseDirectory.db_url = f"sqlite:///{staging.gradebook}"
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = "*"
    config.Autograde.force = True
    config.Autograde.create_student = True
    grading = GradingLimits(
        config=course.config, **({"cell_timeout": cell_timeout} if cell_timeout else {})
    )
    limits = limits or grading.to_limits()
    try:
        support = grading.cgroup_support()
    except CgroupError as error:
        raise GradingError(
            f"{error}: grade as root, or set c.GradingLimits.cgroups = 'auto'"
        ) from None
    memory_warning = grading.warning(support)
    if memory_warning:
        say(memory_warning)
    release_dir = course.step_dir("release") / assignment
    released = sorted(release_dir.glob("*.ipynb"))
    warmup = None
    if released:  # the released version shows what gets imported, and holds no secret
        nb = nbformat.read(released[0], as_version=4)
        warmup = (cells_for_job(nb, judged_cells(nb)), files_from_dir(release_dir))
    log_dir = staging.root.parent / "logs"
    errors = _ErrorLog()
    committed: list[str] = []
    pool = WorkerPool(
        jobs=min(jobs, len(screened)),
        limits=limits,
        log_dir=log_dir,
        sandbox=sandbox,
        warmup=warmup,
        cgroups=support,
    )
    if pool.warning:
        say(pool.warning)
    app = FastAutograde(coursedir=CourseDirectory(config=config), config=config)
    app.log.addHandler(errors)

    def on_student(student: str) -> None:
        staging.commit(student)
        committed.append(student)
        found = screened[student]
        runs = [r for r in app.runs if r.student == student]
        outcomes[student] = judge(student, assignment, found.status, found.notes, runs)
        write_outcomes(course.root, assignment, outcomes)
        if progress is not None:
            progress(student, len(committed), len(screened))

    from nbgrader.converters.base import NbGraderException

    try:
        with pool, nbgrader_warnings():
            app.grade(pool, on_student=on_student, scratch_db={config.CourseDirectory.db_url})
    except NbGraderException:
        pass  # each failed student is reported below; the others are committed
    finally:
        app.log.removeHandler(errors)
    for student in screened:
        if student not in committed:
            kept = outcomes.get(student)
            why = errors.about(student) or "nbgrader could not grade it"
            outcomes[student] = Outcome(
                student,
                assignment,
                "failed",
                f"{why} (previous result kept; log: {log_dir})",
                kept.graded_at if kept else "",
            )
    staging.finish()
    stats = tuple(
        RunStats(
            r.student,
            r.notebook,
            r.result.status,
            r.result.wall_s,
            float(r.result.info.get("judge_s") or 0.0),
        )
        for r in app.runs
    )
    return (pool.mode if not pool.warning else pool.warning), stats


class _ErrorLog(logging.Handler):
    """Keeps nbgrader's error messages, to give each failed student a one-line reason."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def about(self, student: str) -> str:
        for text in reversed(self.messages):
            if student in text:
                return text.strip().splitlines()[0][:300]
        return ""


def judge(
    student: str,
    assignment: str,
    screened_status: str,
    notes: Sequence[str],
    runs: Sequence[NotebookRun],
) -> Outcome:
    """The status and one-line reason of a committed student."""
    status = screened_status
    reasons = list(notes)

    def worse(new: str) -> None:
        nonlocal status
        if STATUSES.index(new) > STATUSES.index(status):
            status = new

    for run in runs:
        result = run.result
        running = result.info.get("running")  # the cell a stopped run was in, when known
        for index in sorted(result.cells):
            errors = [o for o in result.cells[index]["outputs"] if o["output_type"] == "error"]
            names = {str(e.get("ename")) for e in errors}
            where = run.grade_ids.get(index, f"cell {index + 1}")
            limited = [LIMIT_ERRORS[n] for n in sorted(names) if n in LIMIT_ERRORS]
            if limited:
                worse("limit")
                reasons.append(f"{run.notebook}: {where} {limited[0]}")
            stopped_here = index == running if isinstance(running, int) else names & ENDED_ERRORS
            if result.status != "ok" and stopped_here:
                worse("killed")
                ending = (
                    "hit a limit"
                    if result.status in ("timeout", "output_limit", "memory_limit")
                    else "ended"
                )
                reasons.append(
                    f"{run.notebook}: the run {ending} ({result.status}) at {where}; "
                    "every cell from there on scored 0"
                )
                break
    return Outcome(
        student,
        assignment,
        status,
        "; ".join(dict.fromkeys(reasons)),
        _now(),
    )


def stock_autograde(
    assignment: str, *, course: Path | None = None, students: Sequence[str] | None = None
) -> GradeSummary:
    """Stock ``nbgrader autograde`` through its API, one student at a time (a kernel per
    notebook): what ``filmkit grade`` must score the same as, and is measured against."""
    loaded = load_course(course)
    loaded.require(assignment)
    wanted = loaded.select_students(
        assignment,
        "submitted",
        students,
        what="submission",
        hint=f"submitted/<student>/{assignment}/",
    )
    api = loaded.api()
    for student in wanted:
        with nbgrader_warnings():
            check_result(
                api.autograde(assignment, student, force=True, create=True),
                f"nbgrader autograde of {student}'s {assignment}",
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
