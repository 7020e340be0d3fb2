"""`filmkit grade` against stock `nbgrader autograde`: same scores, whole commits, resumable runs.

One course with the three assignments released and every specimen handed in is copied twice: one
copy is graded by stock nbgrader (through its API, a kernel per notebook), the other by
``filmkit.grading.grade.main`` (sandboxed fork-server workers). Every grade cell must score the
same. Then the fast copy is re-graded, force-graded, and killed mid-run and resumed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from filmkit.course import export, release
from filmkit.course.folder import CONFIG_FILE, load_course
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import grade
from filmkit.grading.grade import SCORE_COLUMNS, GradeSummary
from filmkit.grading.outcome import read_outcomes

from .conftest import REPO

pytestmark = pytest.mark.slow

ASSIGNMENTS = ["01-genre-shifts", "02-mentorship-power", "03-critical-reception"]
KEY = ["student", "assignment", "notebook", "question"]


def new_course(root: Path, assignments: list[str]) -> Path:
    root.mkdir(parents=True)
    shutil.copy2(REPO / "assignments" / CONFIG_FILE, root / CONFIG_FILE)
    for assignment in assignments:
        shutil.copytree(REPO / "assignments" / "source" / assignment, root / "source" / assignment)
    release.main(assignments, course=root, validate=False)
    return root


@dataclass(frozen=True)
class Pair:
    fast_root: Path
    stock_root: Path
    fast: dict[str, GradeSummary]
    stock: dict[str, GradeSummary]
    progress: list[tuple[str, int, int]]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    base = tmp_path_factory.mktemp("grade-pair")
    fast_root = new_course(base / "fast", ASSIGNMENTS)
    course = load_course(fast_root)
    for assignment in ASSIGNMENTS:
        for specimen in load_specimens(assignment):
            hand_in(course, specimen)
    stock_root = base / "stock"
    shutil.copytree(fast_root, stock_root)
    events: list[tuple[str, int, int]] = []
    fast = {
        a: grade.main(a, course=fast_root, jobs=2, progress=lambda *e: events.append(e))
        for a in ASSIGNMENTS
    }
    stock = {a: grade.stock_autograde(a, course=stock_root) for a in ASSIGNMENTS}
    return Pair(fast_root, stock_root, fast, stock, events)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_grade_cell_scores_as_stock_nbgrader(pair: Pair, assignment: str) -> None:
    fast, stock = pair.fast[assignment].scores, pair.stock[assignment].scores
    students = {s.student for s in load_specimens(assignment)}
    assert set(stock["student"]) == students and len(stock) > 0
    # every grade cell of every specimen, in both gradebooks
    assert sorted(map(tuple, fast[KEY].values)) == sorted(map(tuple, stock[KEY].values))
    merged = fast.merge(stock, on=KEY, suffixes=("_fast", "_stock"), validate="one_to_one")
    for column in sorted(set(SCORE_COLUMNS) - set(KEY)):
        ours, theirs = merged[f"{column}_fast"], merged[f"{column}_stock"]
        same = (ours == theirs) | (ours.isna() & theirs.isna())
        assert same.all(), merged.loc[~same, [*KEY, f"{column}_fast", f"{column}_stock"]]
    # the specimens differ from each other, so equality is not trivial
    assert merged.groupby("student")["score_stock"].sum().nunique() > 2


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_results_are_where_nbgrader_puts_them(pair: Pair, assignment: str) -> None:
    summary = pair.fast[assignment]
    assert summary.sandbox == "bwrap"
    for student in summary.students:
        graded = pair.fast_root / "autograded" / student / assignment
        assert sorted(p.name for p in graded.glob("*.ipynb")) == sorted(
            p.name for p in (pair.stock_root / "autograded" / student / assignment).glob("*.ipynb")
        )
        assert summary.outcome(student).status == "graded"
    # nothing left of the staging area
    assert not (pair.fast_root / ".filmkit" / "grading" / assignment / "run").exists()


def test_progress_is_reported_per_student(pair: Pair) -> None:
    expected = []
    for assignment in ASSIGNMENTS:
        n = len(pair.fast[assignment].students)
        expected += [(k, n) for k in range(1, n + 1)]
    assert [(done, total) for _, done, total in pair.progress] == expected
    assert {s for s, _, _ in pair.progress} == {
        s for a in ASSIGNMENTS for s in pair.fast[a].students
    }


def test_nbgrader_export_gives_the_same_grades(pair: Pair, tmp_path: Path) -> None:
    ours = export.main(course=pair.fast_root, out=tmp_path / "fast" / "grades.csv")
    theirs = export.main(course=pair.stock_root, out=tmp_path / "stock" / "grades.csv")
    columns = [
        "assignment",
        "student_id",
        "timestamp",
        "raw_score",
        "late_submission_penalty",
        "score",
    ]
    fast = pd.read_csv(ours.grades_csv)[columns].sort_values(columns[:2], ignore_index=True)
    stock = pd.read_csv(theirs.grades_csv)[columns].sort_values(columns[:2], ignore_index=True)
    pd.testing.assert_frame_equal(fast, stock)
    per_question = pd.read_csv(ours.per_question_csv)
    assert set(per_question["status"]) == {"graded"}


def _gradebook_rows(root: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(root / "gradebook.db") as db:
        return sorted(
            db.execute(
                "SELECT id, auto_score, manual_score, needs_manual_grade FROM grade"
            ).fetchall()
        )


def _identity(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def test_a_second_run_changes_nothing_and_force_regrades(pair: Pair) -> None:
    assignment = ASSIGNMENTS[0]
    before_rows = _gradebook_rows(pair.fast_root)
    before_files = _identity(pair.fast_root / "autograded")
    before_outcomes = read_outcomes(pair.fast_root, assignment)
    again = grade.main(assignment, course=pair.fast_root, jobs=2)
    assert again.graded == () and set(again.skipped) == set(again.students)
    assert _gradebook_rows(pair.fast_root) == before_rows
    assert _identity(pair.fast_root / "autograded") == before_files
    assert read_outcomes(pair.fast_root, assignment) == before_outcomes

    forced = grade.main(assignment, course=pair.fast_root, jobs=2, force=True)
    assert set(forced.graded) == set(forced.students)
    pd.testing.assert_frame_equal(forced.scores, pair.fast[assignment].scores)
    assert _gradebook_rows(pair.fast_root) == before_rows


@pytest.fixture
def big_class(tmp_path: Path) -> Iterator[Path]:
    """01-genre-shifts with twelve submissions (the specimens, several times each), graded."""
    assignment = ASSIGNMENTS[0]
    root = new_course(tmp_path / "course", [assignment])
    course = load_course(root)
    specimens = load_specimens(assignment)
    for k in range(12):
        specimen = specimens[k % len(specimens)]
        hand_in(course, replace(specimen, student=f"{specimen.student}-{k:02d}"))
    grade.main(assignment, course=root, jobs=2)
    yield root


def _scores_by_student(root: Path, assignment: str) -> dict[str, tuple[float, ...]]:
    table = grade.scores(load_course(root), assignment)
    return {s: tuple(g["score"]) for s, g in table.groupby("student", sort=True)}


def test_a_killed_run_keeps_whole_results_and_resumes(big_class: Path) -> None:
    assignment = ASSIGNMENTS[0]
    course = load_course(big_class)
    old = _scores_by_student(big_class, assignment)
    old_outcomes = read_outcomes(big_class, assignment)
    # every student hands in a new version: the full solution, submitted later
    full = next(s for s in load_specimens(assignment) if s.student == "full")
    for student in old:
        hand_in(
            course, replace(full, student=student), submitted_at="2026-03-07 09:00:00.000000 UTC"
        )
    command = [sys.executable, "-m", "filmkit.cli", "grade", assignment, "--course", str(big_class)]
    process = subprocess.Popen(
        [*command, "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        outcomes = read_outcomes(big_class, assignment)
        if any(o.graded_at != old_outcomes[s].graded_at for s, o in outcomes.items()):
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    after_kill = _scores_by_student(big_class, assignment)
    new_full = _scores_by_student(big_class, assignment)["full-00"]
    committed = {
        s
        for s, o in read_outcomes(big_class, assignment).items()
        if o.graded_at != old_outcomes[s].graded_at
    }
    assert committed and len(committed) < len(old), "the kill should land mid-run"
    for student, scores in after_kill.items():
        # all old or all new, never a mix; and the folder agrees with the gradebook
        assert scores in (old[student], new_full), student
        assert (scores == new_full) == (student in committed or old[student] == new_full)
        assert (
            course.step_dir("autograded") / student / assignment / "genre-shifts.ipynb"
        ).is_file()

    resumed = grade.main(assignment, course=big_class, jobs=2)
    assert set(resumed.skipped) == committed
    assert set(resumed.graded) == set(old) - committed
    final = _scores_by_student(big_class, assignment)
    assert all(scores == new_full for scores in final.values())
    assert not (big_class / ".filmkit" / "grading" / assignment / "run").exists()
    assert json.loads(
        (big_class / ".filmkit" / "grading" / assignment / "outcomes.json").read_text()
    )


KILLED_AFTER_A_COMMIT = """
import os, sys
from filmkit.grading import grade, staging

committed = staging.Staging.commit


def commit_then_die(self, student, record=None):
    committed(self, student, record)
    os._exit(9)  # as a kill there would: the student committed, their status not yet written


staging.Staging.commit = commit_then_die
grade.main(sys.argv[1], course=sys.argv[2], jobs=1)
"""


def test_a_run_killed_before_writing_a_committed_students_status_has_it_written_next(
    big_class: Path,
) -> None:
    # the status (outcomes.json) is written after the student's commit: a run killed between
    # the two must not leave the old status of a student the next run skips as graded
    assignment = ASSIGNMENTS[0]
    course = load_course(big_class)
    old = read_outcomes(big_class, assignment)
    full = next(s for s in load_specimens(assignment) if s.student == "full")
    for student in old:
        hand_in(
            course, replace(full, student=student), submitted_at="2026-03-07 09:00:00.000000 UTC"
        )
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_A_COMMIT, assignment, str(big_class)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == 9, killed.stderr
    after_kill = read_outcomes(big_class, assignment)
    assert after_kill == old  # the one committed student's new status was never written
    resumed = grade.main(assignment, course=big_class, jobs=2)
    (first,) = set(resumed.skipped)  # committed before the kill, so skipped as graded
    final = read_outcomes(big_class, assignment)
    assert final[first].graded_at != old[first].graded_at
    # the status it has is the one its own run judged: that of every other full solution
    others = {(o.status, o.reason) for s, o in final.items() if s != first}
    assert others == {(final[first].status, final[first].reason)}


def test_a_small_run_uses_the_worker_it_started_before_reading_nbgrader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one student: the worker starts first (grade.start_early) and grades; a different
    # configuration given to nbgrader's options instead gets a worker of its own
    root = new_course(tmp_path / "course", ["01-genre-shifts"])
    full = next(s for s in load_specimens("01-genre-shifts") if s.student == "full")
    hand_in(load_course(root), full)
    seen: list[tuple[bool, bool]] = []
    started = grade.start_early

    def recording(*args: object, **kwargs: object) -> grade.EarlyPool | None:
        early = started(*args, **kwargs)  # type: ignore[arg-type]
        seen.append((early is not None, False))
        if early is not None:
            close = early.pool.close

            def closed() -> None:
                seen.append((True, True))
                close()

            monkeypatch.setattr(early.pool, "close", closed)
        return early

    monkeypatch.setattr(grade, "start_early", recording)
    summary = grade.main("01-genre-shifts", course=root, force=True)
    assert summary.graded == ("full",) and seen[0] == (True, False)
    assert seen[1:] == [(True, True)]  # closed once: by the run that used it, when done
    seen.clear()
    summary = grade.main(
        None, course=root, force=True, nbgrader_args=["01-genre-shifts", "--GradingLimits.pids=48"]
    )
    assert summary.graded == ("full",)
    assert seen == [(True, False), (True, True)]  # started, found not to be the one, closed


def test_a_run_that_may_be_large_starts_no_worker_early(tmp_path: Path) -> None:
    root = new_course(tmp_path / "course", ["01-genre-shifts"])
    for specimen in load_specimens("01-genre-shifts")[:3]:
        hand_in(load_course(root), specimen)
    early = grade.start_early(
        ["01-genre-shifts"], root, sandbox=True, limits=None, cell_timeout=None
    )
    assert early is None
