"""Specimen submissions: students' answers described as ``grade_id → cell source``.

``tests/fixtures/specimens/<assignment>.py`` defines ``SPECIMENS``, a mapping of student id to::

    {
        "description": "what this specimen shows",
        "answers": {"genre_counts": "genre_counts = ...", ...},  # cells the student changed
        "expect": {"test_genre_counts": "full", ...},  # every grade cell: what it should score
    }

``expect`` says, for every grade cell of the assignment, what the specimen should earn there:
``full`` (the cell's points), ``zero``, ``evidence`` (the partial credit its quotations earn,
computed by the tests from :func:`filmkit.evidence.verify`), ``written`` (an answered written
question, left to the marker) or ``unanswered`` (a written question left blank, which nbgrader
scores 0 itself). :func:`hand_in` builds the submitted notebooks from the released ones, so a
specimen stays valid when the prose of a notebook changes.
"""

from __future__ import annotations

import runpy
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nbformat

from filmkit.course.folder import Course, GradingError
from filmkit.paths import project_root

EXPECTATIONS: Final = ("full", "zero", "evidence", "written", "unanswered")
SUBMITTED_AT: Final = "2026-03-06 17:00:00.000000 UTC"


def specimens_dir() -> Path:
    return project_root() / "tests" / "fixtures" / "specimens"


@dataclass(frozen=True)
class Specimen:
    student: str
    assignment: str
    description: str
    answers: Mapping[str, str]
    expect: Mapping[str, str]


def load_specimens(assignment: str, folder: Path | None = None) -> list[Specimen]:
    """The specimens of ``assignment``, in the order of their file."""
    path = (folder or specimens_dir()) / f"{assignment}.py"
    if not path.is_file():
        raise GradingError(f"no specimens for {assignment}: {path} does not exist")
    described = runpy.run_path(str(path)).get("SPECIMENS")
    if not isinstance(described, dict):
        raise GradingError(f"{path} should define SPECIMENS, a dict of student id to specimen")
    found = []
    for student, spec in described.items():
        expect = dict(spec.get("expect", {}))
        wrong = sorted({v for v in expect.values() if v not in EXPECTATIONS})
        if wrong:
            raise GradingError(f"{path}: {student}'s expect uses {wrong}; use {EXPECTATIONS}")
        found.append(
            Specimen(
                student,
                assignment,
                str(spec.get("description", "")),
                dict(spec.get("answers", {})),
                expect,
            )
        )
    return found


def answer(nb: Any, specimen: Specimen) -> set[str]:
    """Write the specimen's answers into the notebook ``nb`` (a released one, as a student
    would type them); returns the grade ids it answered."""
    used = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in specimen.answers:
            cell.source = specimen.answers[grade_id]
            used.add(grade_id)
    return used


def hand_in(course: Course, specimen: Specimen, *, submitted_at: str = SUBMITTED_AT) -> Path:
    """Write ``submitted/<student>/<assignment>/`` from the release with the specimen's answers."""
    release = course.step_dir("release") / specimen.assignment
    if not release.is_dir():
        raise GradingError(f"{release} does not exist: release {specimen.assignment} first")
    dest = course.step_dir("submitted") / specimen.student / specimen.assignment
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(release, dest)
    unused = set(specimen.answers)
    for path in sorted(dest.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        unused -= answer(nb, specimen)
        nbformat.write(nb, path)
    if unused:
        raise GradingError(
            f"{specimen.student}'s specimen of {specimen.assignment} answers cells that the "
            f"release does not have: {sorted(unused)}"
        )
    (dest / "timestamp.txt").write_text(submitted_at, encoding="utf-8")
    return dest
