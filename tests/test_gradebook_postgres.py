"""A gradebook several graders share: nbgrader's ``CourseDirectory.db_url`` on a real PostgreSQL
server (tests/postgres.py), through ``filmkit grade``.

The same submissions are graded into an SQLite gradebook and into PostgreSQL: every grade cell's
score is the same. Two graders then grade the same assignment at the same time into one
PostgreSQL gradebook, and two others different assignments: every student's result is whole
(each grade cell once, all from one run), nothing is lost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from filmkit.course import release
from filmkit.course.folder import load_course
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import grade, staging
from tests import postgres
from tests.conftest import course_copy

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


def _grade(course: Path, url: str | None = None) -> pd.DataFrame:
    args = ["--db", url] if url else []
    summary = grade.main(ASSIGNMENT, course=course, force=True, jobs=1, nbgrader_args=args)
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


def _gradebook_scores(url: str) -> pd.DataFrame:
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(url) as gb:
        for student in gb.students:
            for notebook in gb.find_submission(ASSIGNMENT, student.id).notebooks:
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
