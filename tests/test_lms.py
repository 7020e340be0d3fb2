"""The LMS both ways (filmkit.course.lms): an LMS's bulk download collected through nbgrader's
zip_collect, and the grades written in Canvas's and Moodle's import formats.

The downloads are built here as each LMS names its files, from the specimens' notebooks; the
roster is nbgrader's (``Student.lms_user_id``). Expected scores come from the gradebook.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from filmkit.course import export, release
from filmkit.course.folder import GradingError, load_course
from filmkit.course.lms import collect_zip
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import grade
from tests.conftest import course_copy

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-genre-shifts"
NOTEBOOK = "genre-shifts.ipynb"
# student id → (first, last, LMS user number)
ROSTER = {
    "full": ("Ada", "Lovelace", "1001"),
    "partial": ("Bo", "Diddley", "1002"),
    "blank": ("Cy", "Young", "1003"),
    "absent": ("Di", "Absent", "1004"),  # in the roster, nothing handed in
}


def _course(root: Path) -> Path:
    course = course_copy(root, ASSIGNMENT)
    release.main([ASSIGNMENT], course=course, validate=False)
    with load_course(course).gradebook() as gb:
        for student, (first, last, number) in ROSTER.items():
            gb.update_or_create_student(
                student,
                first_name=first,
                last_name=last,
                email=f"{student}@example.edu",
                lms_user_id=number,
            )
    return course


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The specimens' handed-in notebooks, by student."""
    scratch = course_copy(tmp_path_factory.mktemp("specimens") / "course", ASSIGNMENT)
    release.main([ASSIGNMENT], course=scratch, validate=False)
    loaded = load_course(scratch)
    found = {}
    for specimen in load_specimens(ASSIGNMENT):
        if specimen.student in ROSTER:
            folder = hand_in(loaded, specimen)
            found[specimen.student] = (folder / NOTEBOOK).read_bytes()
    return found


def _canvas_zip(path: Path, notebooks: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        first, last, number = ROSTER["full"]
        archive.writestr(f"{last}{first}".lower() + f"_{number}_5551_{NOTEBOOK}", notebooks["full"])
        first, last, number = ROSTER["partial"]  # late, and renamed by Canvas on resubmission
        name = f"{last}{first}".lower() + f"_late_{number}_5552_genre-shifts-1.ipynb"
        archive.writestr(name, notebooks["partial"])
        archive.writestr(f"strangerx_9999_5553_{NOTEBOOK}", notebooks["blank"])  # not enrolled
    return path


def _moodle_zip(path: Path, notebooks: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for student in ("full", "blank"):
            first, last, number = ROSTER[student]
            folder = f"{first} {last}_{number}_assignsubmission_file_"
            archive.writestr(f"{folder}/{NOTEBOOK}", notebooks[student])
    return path


def test_a_canvas_download_is_filed_under_the_rosters_students(
    tmp_path: Path, notebooks: dict[str, bytes]
) -> None:
    course = _course(tmp_path / "course")
    collected = collect_zip(
        ASSIGNMENT, _canvas_zip(tmp_path / "canvas.zip", notebooks), lms="canvas", course=course
    )
    assert collected.students == ("full", "partial")
    (skipped,) = collected.skipped
    assert "9999" in skipped and "lms_user_id" in skipped
    submitted = load_course(course).step_dir("submitted")
    for student in collected.students:
        assert (submitted / student / ASSIGNMENT / NOTEBOOK).read_bytes() == notebooks[student]
    assert not (submitted / "strangerx").exists()


def test_a_moodle_download_and_the_grades_in_both_import_formats(
    tmp_path: Path, notebooks: dict[str, bytes]
) -> None:
    course = _course(tmp_path / "course")
    collected = collect_zip(
        ASSIGNMENT, _moodle_zip(tmp_path / "moodle.zip", notebooks), lms="moodle", course=course
    )
    assert collected.students == ("blank", "full") and not collected.skipped
    grade.main(ASSIGNMENT, course=course, jobs=1)
    loaded = load_course(course)
    expected = grade.totals(grade.scores(loaded, ASSIGNMENT)).set_index("student")

    canvas = export.main(course=course, lms="canvas").lms
    assert canvas is not None and canvas.path.name == "grades-canvas.csv"
    table = pd.read_csv(canvas.path, dtype=str, keep_default_na=False)
    assert list(table.columns) == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        ASSIGNMENT,
    ]
    possible, rows = table.iloc[0], table.iloc[1:].set_index("SIS User ID")
    assert possible["Student"] == "Points Possible"
    assert float(possible[ASSIGNMENT]) == expected["max_score"].max()
    for student in ("blank", "full"):
        first, last, number = ROSTER[student]
        row = rows.loc[student]
        assert (row["Student"], row["ID"]) == (f"{last}, {first}", number)
        if expected.loc[student, "to_mark"]:  # an essay not marked yet: no grade goes out
            assert row[ASSIGNMENT] == ""
            assert f"{student} / {ASSIGNMENT}: awaiting a marker" in canvas.not_exported
        else:
            assert float(row[ASSIGNMENT]) == expected.loc[student, "score"]
    assert expected.loc["full", "to_mark"] > 0  # the full specimen writes an essay
    assert rows.loc["absent", ASSIGNMENT] == ""  # no submission: left as the LMS has it
    assert f"absent / {ASSIGNMENT}: no submission" in canvas.not_exported

    # the essay marked as formgrader marks it: its total goes out
    with loaded.gradebook() as gb:
        for notebook in gb.find_submission(ASSIGNMENT, "full").notebooks:
            for g in notebook.grades:
                if g.needs_manual_grade:
                    g.manual_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()
    marked = grade.totals(grade.scores(loaded, ASSIGNMENT)).set_index("student")
    canvas = export.main(course=course, lms="canvas").lms
    assert canvas is not None
    table = pd.read_csv(canvas.path, dtype=str, keep_default_na=False)
    rows = table.iloc[1:].set_index("SIS User ID")
    assert float(rows.loc["full", ASSIGNMENT]) == marked.loc["full", "score"]
    assert marked.loc["full", "score"] > expected.loc["full", "score"]

    moodle = export.main(course=course, lms="moodle").lms
    assert moodle is not None
    table = pd.read_csv(moodle.path, dtype=str, keep_default_na=False).set_index("ID number")
    assert list(table.columns) == ["First name", "Last name", "Email address", "LMS id", ASSIGNMENT]
    assert table.loc["full", "Email address"] == "full@example.edu"
    assert float(table.loc["full", ASSIGNMENT]) == marked.loc["full", "score"]
    assert float(table.loc["blank", ASSIGNMENT]) == marked.loc["blank", "score"]


def test_a_download_for_an_assignment_not_released_is_refused(tmp_path: Path) -> None:
    course = course_copy(tmp_path / "course", ASSIGNMENT)
    archive = tmp_path / "x.zip"
    zipfile.ZipFile(archive, "w").close()
    with pytest.raises(GradingError, match="not released"):
        collect_zip(ASSIGNMENT, archive, lms="canvas", course=course)
