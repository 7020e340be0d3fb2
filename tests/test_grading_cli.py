"""The term's commands (filmkit release / grade / feedback / export / lab) on a copy of the course:
what they print, what they write, and how they fail."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from filmkit.cli import main
from filmkit.course.folder import load_course
from filmkit.course.leaks import secrets_of
from filmkit.course.specimens import hand_in, load_specimens

from .conftest import REPO

ASSIGNMENT = "01-genre-shifts"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(REPO / "assignments" / "nbgrader_config.py", root)
    shutil.copytree(REPO / "assignments" / "source", root / "source")
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_release_writes_student_versions(course: Path) -> None:
    result = run("release", "--course", str(course), "--no-validate")
    assert result.exit_code == 0, result.output
    for assignment in load_course(course).assignments():
        assert assignment in result.output
        assert (course / "release" / assignment).is_dir()


def test_release_fails_loudly_when_a_released_file_holds_a_secret(course: Path) -> None:
    (notebook,) = load_course(course).notebooks(ASSIGNMENT)
    hidden = next(s for s in secrets_of(notebook) if s.kind == "hidden test")
    (course / "source" / ASSIGNMENT / "answer-key.md").write_text(
        f"Marker's notes\n{hidden.text}\n"
    )
    result = run("release", ASSIGNMENT, "--course", str(course), "--no-validate")
    assert result.exit_code == 2
    assert "answer-key.md" in result.output and "hidden test" in result.output
    assert hidden.grade_id in result.output
    assert not (course / "release" / ASSIGNMENT).exists(), "the leaky release is deleted"


@pytest.mark.parametrize(
    ("args", "says", "status"),
    [
        # grade exits 1 where nbgrader autograde does (it cannot grade), 2 for a bad command line
        (["grade", ASSIGNMENT], "run `filmkit release 01-genre-shifts` first", 1),
        (["grade", "04-no-such"], "no assignment '04-no-such'", 1),
        (["feedback", ASSIGNMENT], "run `filmkit grade 01-genre-shifts` first", 2),
        (["lab", "--no-browser"], "run `filmkit release` first", 2),
    ],
)
def test_steps_out_of_order_say_what_to_run(
    course: Path, args: list[str], says: str, status: int
) -> None:
    result = run(*args, "--course", str(course))
    assert result.exit_code == status and says in result.output
    assert result.output.count("\n") == 1


def test_grade_takes_nbgrader_autograde_options(course: Path) -> None:
    result = run("grade", "--help")
    assert result.exit_code == 0
    for option in ("--db", "--notebook", "--no-execute", "--Autograde.create_student=False"):
        assert option in result.output
    result = run("grade", "--help-all")
    assert result.exit_code == 0
    for trait in ("--Autograde.create_student", "--CourseDirectory.student_id_exclude"):
        assert trait in result.output  # nbgrader's own list, after filmkit's
    result = run("grade", ASSIGNMENT, "--course", str(course), "--no-such-option")
    assert result.exit_code == 2 and "--help-all" in result.output
    result = run("grade", "--course", str(course))
    assert result.exit_code == 2 and "name the assignment" in result.output


def test_a_folder_without_config_is_named(tmp_path: Path) -> None:
    result = run("release", "--course", str(tmp_path))
    assert result.exit_code == 2
    assert str(tmp_path) in result.output and "nbgrader_config.py" in result.output


@pytest.mark.slow
def test_grade_feedback_export_on_one_submission(course: Path, tmp_path: Path) -> None:
    assert run("release", ASSIGNMENT, "--course", str(course), "--no-validate").exit_code == 0
    result = run("grade", ASSIGNMENT, "--course", str(course))
    assert result.exit_code == 1 and "no submission" in result.output

    loaded = load_course(course)
    full = next(s for s in load_specimens(ASSIGNMENT) if s.student == "full")
    hand_in(loaded, full)
    result = run("grade", ASSIGNMENT, "--course", str(course))
    assert result.exit_code == 0, result.output
    cells = json.loads(loaded.notebooks(ASSIGNMENT)[0].read_text())["cells"]
    points = {
        c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
        for c in cells
        if c["metadata"].get("nbgrader", {}).get("grade")
    }
    auto = sum(p for g, p in points.items() if g.startswith("test_"))
    row = rf"│ full\s+│\s+{auto:g}\s+│\s+{sum(points.values()):g}\s+│\s+graded\s+│\s+—\s+│\s+—\s+│"
    assert re.search(row, result.output), result.output

    result = run("feedback", ASSIGNMENT, "--course", str(course))
    assert result.exit_code == 0, result.output
    assert (course / "feedback" / "full" / ASSIGNMENT / "genre-shifts.html").is_file()

    out = tmp_path / "exports" / "grades.csv"
    result = run("export", "--course", str(course), "--out", str(out))
    assert result.exit_code == 0, result.output
    grades = pd.read_csv(out)
    assert list(grades["student_id"]) == ["full"] and grades["raw_score"].item() == auto
    per_question = pd.read_csv(out.with_name("grades-per-question.csv"))
    assert dict(zip(per_question["question"], per_question["max_score"], strict=True)) == points

    # feedback rendered with stock nbgrader's preprocessors shows hidden tests: refused
    config = course / "nbgrader_config.py"
    config.write_text(
        config.read_text().replace(
            '"filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",', ""
        )
    )
    result = run("feedback", ASSIGNMENT, "--course", str(course))
    assert result.exit_code == 2 and "hidden test" in result.output
    assert not (course / "feedback" / "full" / ASSIGNMENT / "genre-shifts.html").exists()


class _FakeSite:
    """Stands in for filmkit.site in the demo's lesson-site hook."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[Path] = []

    def main(self, *, out: Path) -> object:
        if self.fail:
            raise RuntimeError("a lesson failed")
        self.calls.append(out)
        out.mkdir(parents=True)
        return type("Report", (), {"out": out})()


def test_the_demo_builds_the_lesson_site_through_its_hook(tmp_path: Path) -> None:
    from filmkit.course import term

    site = _FakeSite()
    assert term.build_site(tmp_path, site_module=site) == f"built into {tmp_path / 'site'}"
    assert site.calls == [tmp_path / "site"]
    failing = term.build_site(tmp_path, site_module=_FakeSite(fail=True))
    assert failing.startswith("FAILED: RuntimeError: a lesson failed")
    no_out = type("Site", (), {"main": staticmethod(lambda jobs=2: None)})()
    assert "takes no out=" in term.build_site(tmp_path, site_module=no_out)
    assert "has no main()" in term.build_site(tmp_path, site_module=object())
