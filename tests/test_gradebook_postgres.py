"""A gradebook several graders share: nbgrader's ``CourseDirectory.db_url`` on a real PostgreSQL
server (tests/postgres.py), through ``filmkit grade``.

The same submissions are graded into an SQLite gradebook and into PostgreSQL: every grade cell's
score is the same, and a regrade replaces every result rather than adding to it. Two graders (two
``filmkit grade`` processes, each with its own copy of the course folder) then grade the same
assignment at the same time into one PostgreSQL gradebook: every student's result is whole (each
grade cell once), nothing is lost. Two others grade two different assignments of the same class
at the same time, made to commit their first result together (the test holds the ``grade`` table
until both are in that commit, the same student's): the gradebook holds, for each assignment,
exactly the scores grading it alone into SQLite gives. A run is then killed (SIGKILL to its
process group) inside the gradebook transaction of a student in the middle of the class (it waits
there on a row the test holds locked) and resumed: after the kill each student's result is all
old or all new, in the gradebook, in ``outcomes.json`` and in ``autograded/`` alike; the resumed
run skips exactly the students committed before the kill and grades the others, and the final
scores and statuses are those of an uninterrupted run. And a whole term runs on a course whose
``nbgrader_config.py`` names a PostgreSQL gradebook.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from filmkit.course import release
from filmkit.course.folder import load_course
from filmkit.course.specimens import SUBMITTED_AT, hand_in, load_specimens
from filmkit.grading import grade, staging
from filmkit.grading.outcome import read_outcomes
from tests import postgres
from tests.conftest import REPO, course_copy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres.missing() is not None, reason=str(postgres.missing())),
]

ASSIGNMENT = "01-genre-shifts"
COMPARED = ["student", "notebook", "question", "auto_score", "score", "max_score"]


@pytest.fixture(scope="module")
def server() -> Iterator[postgres.Server]:
    with postgres.running() as running:
        yield running


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with 01-genre-shifts released and every specimen handed in (SQLite gradebook)."""
    root = course_copy(tmp_path_factory.mktemp("pg") / "course", ASSIGNMENT)
    release.main([ASSIGNMENT], course=root, validate=False)
    loaded = load_course(root)
    for specimen in load_specimens(ASSIGNMENT):
        hand_in(loaded, specimen)
    return root


def _copy(course: Path, where: Path) -> Path:
    shutil.copytree(course, where)
    return where


def _on_postgres(course: Path, server: postgres.Server) -> str:
    """A new PostgreSQL database holding ``course``'s gradebook; its URL."""
    url = server.create_database()
    staging.copy_gradebook(f"sqlite:///{course / 'gradebook.db'}", url)
    return url


def _grade(course: Path, url: str | None = None, *, assignment: str = ASSIGNMENT) -> pd.DataFrame:
    args = ["--db", url] if url else []
    summary = grade.main(assignment, course=course, force=True, jobs=1, nbgrader_args=args)
    assert not summary.failed
    return summary.scores[COMPARED].sort_values(COMPARED[:3]).reset_index(drop=True)


def test_a_postgresql_gradebook_gets_the_scores_an_sqlite_one_does(
    course: Path, server: postgres.Server, tmp_path: Path
) -> None:
    on_sqlite = _grade(_copy(course, tmp_path / "sqlite"))
    shared = _copy(course, tmp_path / "postgres")
    url = _on_postgres(shared, server)
    (shared / "gradebook.db").unlink()  # nothing may fall back to the folder's SQLite file
    on_postgres = _grade(shared, url)
    assert len(on_sqlite) == len(load_specimens(ASSIGNMENT)) * on_sqlite["question"].nunique()
    pd.testing.assert_frame_equal(on_postgres, on_sqlite)
    # and a second run (a regrade) replaces every result rather than adding to it
    again = _grade(shared, url)
    pd.testing.assert_frame_equal(again, on_sqlite)


def _gradebook_scores(url: str, assignment: str = ASSIGNMENT) -> pd.DataFrame:
    """Every grade cell of every submission of ``assignment`` in the gradebook at ``url``."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(url) as gb:
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for g in notebook.grades:
                    rows.append(
                        dict(
                            student=student.id,
                            notebook=notebook.name,
                            question=g.name,
                            auto_score=g.auto_score,
                            score=g.score,
                            max_score=g.max_score,
                        )
                    )
    return pd.DataFrame(rows)[COMPARED].sort_values(COMPARED[:3]).reset_index(drop=True)


def test_two_graders_at_once_leave_every_result_whole(
    course: Path, server: postgres.Server, tmp_path: Path
) -> None:
    # two graders: two processes, each with its own copy of the course folder, one gradebook
    base = _copy(course, tmp_path / "base")
    url = _on_postgres(base, server)
    graders = [_copy(base, tmp_path / f"grader-{n}") for n in (1, 2)]
    command = [str(Path(sys.executable).parent / "filmkit"), "grade", ASSIGNMENT, "--force"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    running = [
        subprocess.Popen(
            [*command, "--jobs", "1", "--course", str(folder), "--db", url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for folder in graders
    ]
    outputs = [process.communicate(timeout=600)[0] for process in running]
    assert [p.returncode for p in running] == [0, 0], outputs
    expected = _grade(_copy(course, tmp_path / "alone"))
    # every grade cell of every student exactly once, each with the score grading gives it
    pd.testing.assert_frame_equal(_gradebook_scores(url), expected)


def test_a_term_on_a_course_whose_gradebook_is_postgresql(
    server: postgres.Server, tmp_path: Path
) -> None:
    # the course says so once, in nbgrader_config.py, and every command follows it
    from filmkit.course import classreport, export, feedback

    url = server.create_database()
    root = course_copy(tmp_path / "course", ASSIGNMENT)
    with (root / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
        config.write('c.CourseDirectory.autograded_directory = "graded"\n')
    release.main([ASSIGNMENT], course=root, validate=False)
    loaded = load_course(root)
    assert loaded.db_url == url and loaded.step_dir("autograded") == root / "graded"
    specimens = [s for s in load_specimens(ASSIGNMENT) if s.student in ("full", "partial")]
    for specimen in specimens:
        hand_in(loaded, specimen)
    summary = grade.main(ASSIGNMENT, course=root, jobs=1)
    assert not summary.failed and set(summary.students) == {"full", "partial"}
    for specimen in specimens:
        assert list((root / "graded" / specimen.student / ASSIGNMENT).glob("*.ipynb"))
    assert not (root / "autograded").exists()
    made = feedback.main(ASSIGNMENT, course=root)
    assert {f.student for f in made} == {"full", "partial"}
    exported = export.main(course=root)
    assert set(pd.read_csv(exported.grades_csv)["student_id"]) == {"full", "partial"}
    report = classreport.main(ASSIGNMENT, course=root)
    assert report.path.is_file()
    assert not (root / "gradebook.db").exists()  # nothing fell back to an SQLite file
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        assert {s.id for s in gb.students} == {"full", "partial"}


# --------------------------------------------------------------------------- at the same time

TWO = ["01-genre-shifts", "02-mentorship-power"]


def _filmkit(*args: str) -> subprocess.Popen[str]:
    """``filmkit …`` in a process (and process group) of its own, its output kept."""
    here = Path(sys.executable).parent
    return subprocess.Popen(
        [str(here / "filmkit"), *args],
        env=dict(os.environ, PATH=f"{here}{os.pathsep}{os.environ['PATH']}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@contextlib.contextmanager
def _session(server: postgres.Server, url: str, *, autocommit: bool) -> Iterator[Any]:
    """A psycopg connection to the database of ``url`` (closed at the end)."""
    import psycopg

    database = url.rsplit("/", 1)[1]
    dsn = f"host=127.0.0.1 port={server.port} user={postgres.SUPERUSER} dbname={database}"
    with psycopg.connect(dsn, autocommit=autocommit) as connection:
        yield connection


def _lock_waiters(
    server: postgres.Server, url: str, count: int, running: list[subprocess.Popen[str]]
) -> list[int]:
    """Wait until ``count`` other sessions of ``url``'s database wait for a lock (the graders,
    mid-commit); their server process ids."""
    deadline = time.monotonic() + 180
    with _session(server, url, autocommit=True) as watch:
        while True:
            waiting = [
                pid
                for (pid,) in watch.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ]
            if len(waiting) >= count:
                return waiting
            ended = [p for p in running if p.poll() is not None]
            assert not ended, [p.communicate()[0] for p in ended]
            assert time.monotonic() < deadline, "the graders never reached their commits"
            time.sleep(0.05)


def _gone(server: postgres.Server, url: str, pids: list[int]) -> None:
    """Wait until the server processes ``pids`` have ended (a killed client's session rolls
    back its transaction when its server process notices the client is gone)."""
    deadline = time.monotonic() + 60
    with _session(server, url, autocommit=True) as watch:
        while watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, f"server processes {pids} still there"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def two_assignments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with 01-genre-shifts and 02-mentorship-power released and every specimen of
    each handed in (the same students in both; SQLite gradebook)."""
    root = course_copy(tmp_path_factory.mktemp("pg-two") / "course", TWO[0])
    shutil.copytree(REPO / "assignments" / "source" / TWO[1], root / "source" / TWO[1])
    release.main(TWO, course=root, validate=False)
    loaded = load_course(root)
    for assignment in TWO:
        for specimen in load_specimens(assignment):
            hand_in(loaded, specimen)
    return root


def test_two_graders_of_different_assignments_at_once_leave_each_whole(
    two_assignments: Path, server: postgres.Server, tmp_path: Path
) -> None:
    # each assignment graded alone, into SQLite: what the shared gradebook must hold
    alone = {a: _grade(_copy(two_assignments, tmp_path / f"alone-{a}"), assignment=a) for a in TWO}
    assert set(alone[TWO[0]]["student"]) == set(alone[TWO[1]]["student"])  # one class
    base = _copy(two_assignments, tmp_path / "base")
    url = _on_postgres(base, server)
    (base / "gradebook.db").unlink()
    with _session(server, url, autocommit=False) as hold:
        # no grade row can be written until both graders are in their first commit: they
        # commit at the same time, the same student (the first, in each assignment) first
        hold.execute("LOCK TABLE grade IN SHARE MODE")
        running = [
            _filmkit(
                "grade", a, "--jobs", "1", "--course", str(_copy(base, tmp_path / a)), "--db", url
            )
            for a in TWO
        ]
        try:
            _lock_waiters(server, url, 2, running)
            hold.rollback()
            outputs = [process.communicate(timeout=300)[0] for process in running]
        finally:
            for process in running:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.communicate()
    assert [p.returncode for p in running] == [0, 0], outputs
    for assignment in TWO:
        # every grade cell of every student once, scored as grading the assignment alone does
        pd.testing.assert_frame_equal(_gradebook_scores(url, assignment), alone[assignment])
        statuses = {
            s: o.status for s, o in read_outcomes(tmp_path / assignment, assignment).items()
        }
        assert statuses == {
            s: o.status
            for s, o in read_outcomes(tmp_path / f"alone-{assignment}", assignment).items()
        }


# --------------------------------------------------------------------------- killed and resumed

LATER = "2026-03-07 09:00:00.000000 UTC"


def _by_student(table: pd.DataFrame) -> dict[str, list[tuple[Any, ...]]]:
    """student → (notebook, question, auto_score, score, max_score) of each grade cell (a
    missing auto_score as None: NaN equals nothing)."""
    return {
        s: [
            tuple(None if pd.isna(v) else v for v in row)
            for row in rows[COMPARED[1:]].itertuples(index=False)
        ]
        for s, rows in table.groupby("student", sort=True)
    }


def _autograded_at(root: Path, student: str) -> str:
    return (root / "autograded" / student / ASSIGNMENT / "timestamp.txt").read_text().strip()


def test_a_run_killed_mid_commit_keeps_whole_results_and_resumes(
    server: postgres.Server, tmp_path: Path
) -> None:
    root = course_copy(tmp_path / "course", ASSIGNMENT)
    release.main([ASSIGNMENT], course=root, validate=False)
    loaded = load_course(root)
    # six students, the specimens' answers (one twice): most of them score differently later
    specimens = load_specimens(ASSIGNMENT)
    students = [f"{specimens[k % len(specimens)].student}-{k}" for k in range(6)]
    for k, student in enumerate(students):
        hand_in(loaded, replace(specimens[k % len(specimens)], student=student))
    url = _on_postgres(root, server)
    (root / "gradebook.db").unlink()
    db = ["--db", url]
    grade.main(ASSIGNMENT, course=root, jobs=2, nbgrader_args=db)
    old = _by_student(_gradebook_scores(url, ASSIGNMENT))
    old_outcomes = read_outcomes(root, ASSIGNMENT)
    assert set(old) == set(old_outcomes) == set(students)
    # every student hands in a new version: the full solution, submitted later
    full = next(s for s in specimens if s.student == "full")
    for student in students:
        hand_in(loaded, replace(full, student=student), submitted_at=LATER)

    # the same run, uninterrupted, on a copy of the course and of its gradebook
    clean_root = _copy(root, tmp_path / "clean")
    clean_url = server.create_database()
    staging.copy_gradebook(url, clean_url)
    clean_run = grade.main(ASSIGNMENT, course=clean_root, jobs=1, nbgrader_args=["--db", clean_url])
    clean = _by_student(_gradebook_scores(clean_url, ASSIGNMENT))
    assert set(clean_run.graded) == set(students) and set(clean) == set(students)

    # the run is killed inside the gradebook transaction of a student in the middle, whose
    # new result differs from the old: it waits there on a row this test holds locked
    target = next(s for s in sorted(students)[len(students) // 2 :] if old[s] != clean[s])
    with _session(server, url, autocommit=False) as hold:
        hold.execute(
            "SELECT 1 FROM submitted_assignment s JOIN assignment a ON a.id = s.assignment_id "
            "WHERE s.student_id = %s AND a.name = %s FOR UPDATE OF s",
            (target, ASSIGNMENT),
        )
        process = _filmkit("grade", ASSIGNMENT, "--jobs", "1", "--course", str(root), *db)
        try:
            waiting = _lock_waiters(server, url, 1, [process])
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        hold.rollback()
    _gone(server, url, waiting)

    after_kill = _by_student(_gradebook_scores(url, ASSIGNMENT))
    outcomes = read_outcomes(root, ASSIGNMENT)
    committed = {s for s, o in outcomes.items() if o.graded_at != old_outcomes[s].graded_at}
    # students are graded in order: those before the target were committed, no other
    assert committed == {s for s in students if s < target}, (target, committed)
    assert any(old[s] != clean[s] for s in committed)
    assert set(after_kill) == set(students)
    for student, scores in after_kill.items():
        # all old or all new, never a mix; and the course folder (its outcomes and its
        # autograded/ folder) agrees with the gradebook
        new = student in committed
        assert scores == (clean[student] if new else old[student]), student
        assert _autograded_at(root, student) == (LATER if new else SUBMITTED_AT), student

    resumed = grade.main(ASSIGNMENT, course=root, jobs=1, nbgrader_args=db)
    assert set(resumed.skipped) == committed
    assert set(resumed.graded) == set(students) - committed
    assert _by_student(_gradebook_scores(url, ASSIGNMENT)) == clean
    final = read_outcomes(root, ASSIGNMENT)
    assert {s: o.status for s, o in final.items()} == {
        s: o.status for s, o in read_outcomes(clean_root, ASSIGNMENT).items()
    }
    assert all(o.graded_at != old_outcomes[s].graded_at for s, o in final.items())
    assert all(_autograded_at(root, s) == LATER for s in students)
    assert not (root / ".filmkit" / "grading" / ASSIGNMENT / "run").exists()
