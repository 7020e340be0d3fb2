"""The LMS both ways: submissions from an LMS's bulk download, grades in its import format.

**In** (``filmkit collect ASSIGNMENT --zip FILE --lms canvas|moodle``): nbgrader's own
``ZipCollectApp`` unpacks the download into ``submitted/<student>/<assignment>/``; the file names
are read by :class:`LmsFileNames`, nbgrader's ``FileNameCollectorPlugin`` with each LMS's naming
built in and the LMS's user number mapped to the student through the roster:

* Canvas ("Download Submissions"): ``smithjane_12345_67890_genre-shifts.ipynb``, or
  ``smithjane_late_12345_67890_…`` when late, with ``-1``, ``-2``… before the extension when a
  resubmission was renamed: the name, the Canvas user id, the submission id, the file;
* Moodle ("Download all submissions"): ``Jane Smith_12345_assignsubmission_file_genre-shifts.ipynb``,
  or the same name as a folder holding the file: the name, the participant number, the file.

The number is looked up in the gradebook's roster (``Student.lms_user_id``, which ``nbgrader db
student import roster.csv`` fills from a CSV with ``id,first_name,last_name,email,lms_user_id``):
a file whose number is not in the roster is skipped and named, never filed under a guessed
student. Another naming is configured as nbgrader's: ``c.LmsFileNames.named_regexp`` with
``(?P<lms_id>…)`` (or nbgrader's own ``(?P<student_id>…)``) and ``(?P<file_id>…)`` groups.

**Out** (``filmkit export --lms canvas|moodle``): one row per student, one column per
assignment, the student's total:

* Canvas's gradebook import: ``Student`` ("Last, First"), ``ID`` (the Canvas user id: the roster's
  LMS id), ``SIS User ID`` (the nbgrader student id), ``SIS Login ID`` (email), ``Section``, then
  a column per assignment, and a ``Points Possible`` row first;
* Moodle's grader-report import ("Import grades from CSV"): ``First name``, ``Last name``,
  ``Email address``, ``ID number`` (the nbgrader student id), ``LMS id``, then a column per
  assignment; Moodle asks which column identifies the user (Email address or ID number) and
  which grade item each column is.

A student with no submission, one that could not be graded or one still awaiting a marker has an
empty cell (an LMS leaves an empty cell's grade as it was), and is listed as not exported.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
from traitlets import Enum, Unicode

from filmkit.course.exchange import Collected
from filmkit.course.folder import GradingError, load_course

LMS_NAMES: Final = ("canvas", "moodle")
FILE_NAMES: Final = {
    "canvas": r"(?P<name>[^/_]+)_(?:late_)?(?P<lms_id>\d+)_(?P<submission>\d+)_"
    r"(?P<file_id>[^/]+?)(?P<ext>\.[^./]+)$",
    "moodle": r"(?P<name>[^/_]+)_(?P<lms_id>\d+)_assign(?:submission|feedback)_[a-z]+_"
    r"(?:/|(?=[^/]))(?P<file_id>[^/]+?)(?P<ext>\.[^./]+)$",
}


class LmsFileNames(FileNameCollectorPlugin):  # type: ignore[misc]
    """nbgrader's file-name collector for an LMS's bulk download (see the module docstring)."""

    lms = Enum(
        ["", *LMS_NAMES],
        default_value="",
        help="The LMS whose download naming to read (canvas or moodle); '' for named_regexp.",
    ).tag(config=True)
    roster_url = Unicode(
        "",
        help="The gradebook whose students' lms_user_id map an LMS's numbers to student ids "
        "(filmkit collect sets it to the course's CourseDirectory.db_url).",
    ).tag(config=True)

    def pattern(self) -> str:
        return str(self.named_regexp or FILE_NAMES.get(str(self.lms), ""))

    def roster(self) -> dict[str, str]:
        """LMS id → student id, from the gradebook."""
        if "_roster" not in self.__dict__:
            from nbgrader.api import Gradebook

            with Gradebook(str(self.roster_url)) as gb:
                self.__dict__["_roster"] = {
                    str(s.lms_user_id): str(s.id) for s in gb.students if s.lms_user_id
                }
        found: dict[str, str] = self.__dict__["_roster"]
        return found

    @property
    def skipped(self) -> list[str]:
        """The files not collected so far, each with why."""
        found: list[str] = self.__dict__.setdefault("_skipped", [])
        return found

    @property
    def collected(self) -> set[str]:
        """The students whose files were collected so far."""
        found: set[str] = self.__dict__.setdefault("_collected", set())
        return found

    def released(self) -> set[str]:
        """The released notebooks' names (nbgrader's own test of a collected file's name)."""
        if "_released" not in self.__dict__:
            from nbgrader.utils import find_all_notebooks

            coursedir = self.parent.coursedir
            folder = coursedir.format_path(
                coursedir.release_directory, ".", coursedir.assignment_id
            )
            self.__dict__["_released"] = set(find_all_notebooks(folder))
        found: set[str] = self.__dict__["_released"]
        return found

    def collect(self, submitted_file: str) -> dict[str, Any] | None:
        _, ext = os.path.splitext(submitted_file)
        if ext not in self.valid_ext:
            return None
        # the file's own name, and the folder it is in (Moodle's folder per submission)
        tail = "/".join(Path(submitted_file).parts[-2:])
        match = re.search(self.pattern(), tail)
        if match is None:
            self.skipped.append(
                f"{Path(submitted_file).name}: not named as {self.lms or 'configured'}"
            )
            return None
        found = match.groupdict()
        student = found.get("student_id")
        if not student and found.get("lms_id"):
            student = self.roster().get(found["lms_id"])
            if student is None:
                self.skipped.append(
                    f"{Path(submitted_file).name}: LMS id {found['lms_id']} is in no student's "
                    "lms_user_id (nbgrader db student import roster.csv)"
                )
                return None
        if not student:
            return None
        name = found["file_id"] + (found.get("ext") or ext)
        renamed = re.sub(r"-\d+(\.[^.]+)$", r"\1", name)  # Canvas's resubmission: name-1.ipynb
        if name not in self.released() and renamed in self.released():
            name = renamed
        self.collected.add(student)
        info = {"student_id": student, "file_id": name}
        if found.get("timestamp"):
            info["timestamp"] = found["timestamp"]
        return info


def collect_zip(
    assignment: str, archive: Path, *, lms: str, course: Path | None = None
) -> Collected:
    """Collect ``archive`` (an LMS's bulk download) into ``submitted/`` with nbgrader's
    ``ZipCollectApp`` (see the module docstring). Existing submissions of those students are
    replaced, as ``nbgrader zip_collect --force`` does."""
    from nbgrader.apps.zipcollectapp import ZipCollectApp

    if lms not in LMS_NAMES:
        raise GradingError(f"--lms must be one of {', '.join(LMS_NAMES)}, not {lms!r}")
    if not archive.is_file():
        raise GradingError(f"{archive} does not exist: pass the .zip the LMS downloaded")
    loaded = load_course(course)
    loaded.require(assignment)
    if not (loaded.step_dir("release") / assignment).is_dir():
        raise GradingError(f"{assignment} is not released: run `filmkit release {assignment}`")
    config = copy.deepcopy(loaded.config)
    config.CourseDirectory.assignment_id = assignment
    config.ZipCollectApp.collector_plugin = LmsFileNames
    config.ZipCollectApp.force = True
    config.LmsFileNames.lms = lms
    config.LmsFileNames.roster_url = loaded.db_url
    app = ZipCollectApp(config=config)
    app.initialize([])
    structure = app._format_collect_path(app.archive_directory)
    Path(structure).mkdir(parents=True, exist_ok=True)
    for old in Path(structure).iterdir():  # one download per run
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copy2(archive, Path(structure) / archive.name)
    app.start()
    plugin = app.collector_plugin_inst
    return Collected(assignment, tuple(sorted(plugin.collected)), tuple(plugin.skipped))


# --------------------------------------------------------------------------- grades out


@dataclass(frozen=True)
class LmsExport:
    path: Path
    table: pd.DataFrame
    not_exported: tuple[str, ...]  # "student / assignment: why"


def lms_table(
    lms: str, totals: pd.DataFrame, students: Sequence[Any]
) -> tuple[pd.DataFrame, list[str]]:
    """The LMS's import table from ``totals`` (student, assignment, score, max_score, to_mark,
    status: :mod:`filmkit.grading.outcome`'s) and nbgrader's ``Student`` rows; with it, what
    was left empty and why."""
    from filmkit.grading.outcome import UNGRADED

    if lms not in LMS_NAMES:
        raise GradingError(f"--lms must be one of {', '.join(LMS_NAMES)}, not {lms!r}")
    assignments = sorted(set(totals["assignment"]))
    by_key = {(r.student, r.assignment): r for r in totals.itertuples(index=False)}
    not_exported: list[str] = []
    rows = []
    for student in sorted(students, key=lambda s: str(s.id)):
        first, last = str(student.first_name or ""), str(student.last_name or "")
        if lms == "canvas":
            row: dict[str, Any] = {
                "Student": f"{last}, {first}" if last or first else str(student.id),
                "ID": str(student.lms_user_id or ""),
                "SIS User ID": str(student.id),
                "SIS Login ID": str(student.email or ""),
                "Section": "",
            }
        else:
            row = {
                "First name": first,
                "Last name": last,
                "Email address": str(student.email or ""),
                "ID number": str(student.id),
                "LMS id": str(student.lms_user_id or ""),
            }
        for assignment in assignments:
            found = by_key.get((str(student.id), assignment))
            why = (
                "no submission"
                if found is None
                else f"could not be graded ({found.status!s})"
                if found.status in UNGRADED
                else "awaiting a marker"
                if found.to_mark
                else ""
            )
            if why:
                not_exported.append(f"{student.id} / {assignment}: {why}")
            row[assignment] = "" if why or found is None else _number(found.score)
        rows.append(row)
    table = pd.DataFrame(rows)
    if lms == "canvas" and len(table):
        maxima = totals.groupby("assignment")["max_score"].max()
        possible = {c: "" for c in table.columns}
        possible["Student"] = "Points Possible"
        possible.update({a: _number(maxima[a]) for a in assignments})
        table = pd.concat([pd.DataFrame([possible]), table], ignore_index=True)
    return table, not_exported


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"
