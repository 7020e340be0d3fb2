"""What `filmkit grade` is asked to do, read as `nbgrader autograde` reads it
(filmkit.grading.settings), and the rules it then applies before grading: which students, which
results stand (timestamps in any time zone), which timestamps are refused."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from filmkit.course.folder import sqlite_path
from filmkit.grading import settings
from filmkit.grading.grade import already_graded, select_students, submission_time
from filmkit.grading.screen import screen, timestamp_problem
from filmkit.grading.settings import AutogradeFailed, UsageError


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for student in ("alice", "bob", "carol"):
        (root / "submitted" / student / "ps1").mkdir(parents=True)
        (root / "submitted" / student / "ps1" / "p1.ipynb").write_text("{}")
    (root / "source" / "ps1").mkdir(parents=True)
    return root


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder, like nbgrader's tests' own, and sys.path as it was."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.jupyter configuration
    saved = list(sys.path)
    yield cwd
    sys.path[:] = saved


def test_the_course_is_found_as_nbgrader_finds_it(course: Path, elsewhere: Path) -> None:
    (elsewhere / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    asked = settings.read(None, args=["ps1"])
    assert asked.course.root == course and asked.assignment == "ps1"
    assert asked.course.db_url == f"sqlite:///{course / 'gradebook.db'}"
    assert sqlite_path(asked.course.db_url) == course / "gradebook.db"
    # nbgrader puts the working folder on sys.path (a plugin beside the configuration), and
    # filmkit the course folder at the end (a plugin in it imports, and shadows nothing)
    assert sys.path[0] == str(elsewhere) and sys.path[-1] == str(course)
    assert sys.path.count(str(elsewhere)) == 1
    # filmkit's --course wins over the configuration
    other = elsewhere.parent / "other"
    other.mkdir()
    assert settings.read("ps1", course=other).course.root == other
    # nbgrader's own --course-dir too
    assert settings.read(None, args=["ps1", f"--course-dir={other}"]).course.root == other


def test_without_a_configuration_the_working_folder_or_filmkits_course(
    course: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILMKIT_COURSE", str(course))
    assert settings.read("ps1").course.root == course  # no nbgrader_config.py here
    (elsewhere / "nbgrader_config.py").write_text("c = get_config()\n")
    assert settings.read("ps1").course.root == elsewhere  # nbgrader's rule: the working folder


def test_nbgrader_options_and_configuration_on_the_command_line(
    course: Path, elsewhere: Path
) -> None:
    db = elsewhere / "elsewhere.db"
    asked = settings.read(
        None,
        course=course,
        args=[
            "ps1",
            "--db",
            f"sqlite:///{db}",
            "--notebook",
            "p*",
            "-f",
            "--Autograde.create_student=False",
            "--CourseDirectory.student_id_exclude=bob,carol",
            "--ClearMetadataPreprocessor.enabled=True",
            "--AutogradeApp.permissions=644",
            "--no-execute",
        ],
    )
    assert sqlite_path(asked.course.db_url) == db
    assert asked.notebook == "p*" and asked.some_notebooks
    assert asked.force and not asked.create_student
    assert asked.exclude == {"bob", "carol"}
    config = asked.course.config
    assert config.ClearMetadataPreprocessor.enabled.get_value(None) == "True"
    assert config.Execute.enabled is False and config.ClearOutput.enabled is False
    assert "AutogradeApp" not in config and "permissions" in config.Autograde  # as nbgrader
    assert select_students(asked.course, asked) == ["alice"]
    # the force of nbgrader's configuration counts too
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.BaseConverter.force = True\n")
    assert settings.read("ps1", course=course).force


def test_students_are_ids_or_globs(course: Path, elsewhere: Path) -> None:
    def chosen(*students: str) -> list[str]:
        return select_students(course_of(), settings.read("ps1", course=course, students=students))

    def course_of() -> settings.GradedCourse:
        return settings.read("ps1", course=course).course

    assert chosen() == ["alice", "bob", "carol"]
    assert chosen("bob") == ["bob"]
    assert chosen("[ab]*") == ["alice", "bob"]
    (course / "submitted" / "x[1]" / "ps1").mkdir(parents=True)  # an id is itself, not a glob
    assert chosen("x[1]") == ["x[1]"]
    with pytest.raises(AutogradeFailed, match="for dave"):
        chosen("bob", "dave")
    configured = settings.read(None, course=course, args=["ps1", "--student", "c*"])
    assert select_students(configured.course, configured) == ["carol"]


def test_a_command_line_that_cannot_be_read(course: Path, elsewhere: Path) -> None:
    with pytest.raises(UsageError, match="name the assignment"):
        settings.read(None, course=course)
    with pytest.raises(UsageError, match="only one assignment"):
        settings.read(None, course=course, args=["ps1", "ps2"])
    with pytest.raises(UsageError, match="both"):
        settings.read("ps1", course=course, args=["--assignment", "ps2"])
    (elsewhere / "nbgrader_config.py").write_text("c = get_config()\nraise RuntimeError('x')\n")
    with pytest.raises(UsageError, match="does not load: RuntimeError"):
        settings.read("ps1", course=course)
    assert UsageError.exit_status == 2 and AutogradeFailed.exit_status == 1


def test_a_resubmission_is_newer_by_its_time_not_its_text(tmp_path: Path) -> None:
    submitted, graded = tmp_path / "submitted", tmp_path / "graded"
    submitted.mkdir()
    graded.mkdir()
    (graded / "timestamp.txt").write_text("2015-02-03 01:00:00 UTC")
    # 17:30 in Los Angeles is 01:30 UTC the next day: later, though its text sorts earlier
    (submitted / "timestamp.txt").write_text("2015-02-02 17:30:00 America/Los_Angeles")
    new, old = submission_time(submitted), submission_time(graded)
    assert new is not None and old is not None and new > old
    (submitted / "timestamp.txt").write_text("")
    assert submission_time(submitted) is None  # empty: no timestamp, as for nbgrader
    (submitted / "timestamp.txt").write_text("not a time")
    assert submission_time(submitted) is None


def test_already_graded_follows_nbgrader_with_timestamps(course: Path, elsewhere: Path) -> None:
    from nbgrader.api import Gradebook

    asked = settings.read("ps1", course=course)
    with Gradebook(asked.course.db_url) as gb:
        gb.add_assignment("ps1")
        gb.add_notebook("p1", "ps1")
        for student in ("alice", "bob", "carol"):
            gb.add_student(student)
            gb.add_submission("ps1", student)
    for student in ("alice", "bob"):
        graded = course / "autograded" / student / "ps1"
        graded.mkdir(parents=True)
        (graded / "p1.ipynb").write_text("{}")
        (graded / "timestamp.txt").write_text("2015-02-03 01:00:00 UTC")
    (course / "submitted" / "alice" / "ps1" / "timestamp.txt").write_text(
        "2015-02-02 16:00:00 America/Los_Angeles"  # 00:00 UTC: older
    )
    (course / "submitted" / "bob" / "ps1" / "timestamp.txt").write_text(
        "2015-02-02 17:30:00 America/Los_Angeles"  # 01:30 UTC: newer
    )
    students = ["alice", "bob", "carol"]
    assert already_graded(asked.course, "ps1", students) == {"alice"}  # carol: no folder
    (course / "autograded" / "alice" / "ps1" / "p1.ipynb").unlink()
    assert already_graded(asked.course, "ps1", students) == {"alice"}  # the folder stands
    assert already_graded(asked.course, "ps1", students, notebook="p1") == set()
    os.remove(course / "submitted" / "alice" / "ps1" / "p1.ipynb")
    assert already_graded(asked.course, "ps1", students, notebook="p1") == {"alice"}


def test_a_timestamp_nbgrader_cannot_read_is_refused_an_empty_one_is_none(
    tmp_path: Path,
) -> None:
    assert timestamp_problem(b"") == "" and timestamp_problem(b"  \n") == ""
    assert timestamp_problem(b"2015-02-02 14:58:23.948203 America/Los_Angeles") == ""
    assert "not a time" in timestamp_problem(b"But I want to be a timestamp string :(")
    folder = tmp_path / "bar" / "ps1"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("But I want to be a timestamp string :(")
    found = screen("bar", folder, {})
    assert found.status == "rejected" and "timestamp.txt holds" in found.reason


def test_a_small_run_preloads_what_the_notebooks_import() -> None:
    """The preload of a run without warm-up comes from the notebooks' import statements, read
    (never run): magics and a cell that does not parse are passed over."""
    from filmkit.grading.pool import DEFAULT_PRELOAD, imported_names, preload_for

    sources = [
        "%matplotlib inline\nimport pandas as pd, numpy\nfrom filmkit import analysis",
        "from filmkit.kernel.marking import frame\n!ls\n",
        "def broken(:\n    import plotly.express",
        "text = 'import plotly.express'",
    ]
    names = imported_names(sources)
    assert {"pandas", "numpy", "filmkit", "filmkit.analysis", "filmkit.kernel.marking"} <= names
    assert not any(n.startswith("plotly") for n in names)
    chosen = preload_for(sources)
    assert set(chosen) == {
        m for m in DEFAULT_PRELOAD if any(n == m or n.startswith(m + ".") for n in names)
    }
    assert "pandas" in chosen and "filmkit.analysis" in chosen and "plotly.express" not in chosen
