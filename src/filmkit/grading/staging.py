"""Grading into a staging area, then committing each student's result whole.

nbgrader writes scores as it goes (several commits per notebook) and, with ``--force``, deletes
the previous ``autograded/`` folder before it starts. ``filmkit grade`` instead points nbgrader
at a staging area, ``.filmkit/grading/<assignment>/run/``: a copy of the gradebook, the screened
submissions and an ``autograded/`` folder. When nbgrader has finished a student:

1. that student's rows (student, submitted assignment and notebooks, grades, comments) are copied
   from the staging gradebook into ``gradebook.db`` in ONE SQLite transaction: all the new scores
   or none of them, never a mix with the old;
2. the student's name goes in the run's journal;
3. the new ``autograded/<student>/<assignment>/`` replaces the old one (old folder renamed away,
   new one renamed in, old one removed).

A run killed between 1 and 3 is finished by the next run (:func:`recover`) from the journal.

The gradebook is nbgrader's ``CourseDirectory.db_url`` (``--db``), an SQLite file, wherever it
is. When only some notebooks are graded (``--notebook``), each student's staged folder starts as
a copy of their current ``autograded/`` folder, so nbgrader replaces those notebooks there and
the commit keeps the others, as nbgrader does in place. A student nbgrader failed on commits
nothing to the gradebook; their ``autograded/`` folder stays as it was, or, when they had none,
becomes what nbgrader's own failure handling left (:meth:`Staging.keep_failed`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# The gradebook tables that hold one student's result, with the rows of that result.
_STUDENT_ROWS: Final = (
    ("student", "id = :student"),
    (
        "submitted_assignment",
        "student_id = :student AND assignment_id IN "
        "(SELECT id FROM {db}.assignment WHERE name = :assignment)",
    ),
    ("submitted_notebook", "assignment_id IN ({submissions})"),
    ("grade", "notebook_id IN ({notebooks})"),
    ("comment", "notebook_id IN ({notebooks})"),
)


@dataclass(frozen=True)
class Staging:
    """The staging area of one grading run of ``assignment`` in ``course_root``."""

    course_root: Path
    assignment: str
    gradebook_file: Path | None = None  # default: gradebook.db in the course folder

    @property
    def root(self) -> Path:
        return self.course_root / ".filmkit" / "grading" / self.assignment / "run"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def journal(self) -> Path:
        return self.root / "committed.txt"

    def submitted(self, student: str = "") -> Path:
        base = self.root / "submitted"
        return base / student / self.assignment if student else base

    def autograded(self, student: str = "") -> Path:
        base = self.root / "autograded"
        return base / student / self.assignment if student else base

    def final_autograded(self, student: str) -> Path:
        return self.course_root / "autograded" / student / self.assignment

    @property
    def real_gradebook(self) -> Path:
        return self.gradebook_file or self.course_root / "gradebook.db"

    def start(self) -> None:
        """A fresh staging area with a consistent copy of the gradebook (after :func:`recover`
        has finished whatever a killed run left)."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        with (
            closing(sqlite3.connect(self.real_gradebook)) as source,
            closing(sqlite3.connect(self.gradebook)) as copy,
        ):
            source.backup(copy)

    def commit(self, student: str) -> None:
        """Make ``student``'s staged result the real one (see the module docstring)."""
        merge_student(self.gradebook, self.real_gradebook, self.assignment, student)
        with open(self.journal, "a", encoding="utf-8") as journal:
            journal.write(student + "\n")
            journal.flush()
            os.fsync(journal.fileno())
        self._swap_folder(student)

    def seed(self, student: str) -> None:
        """Start ``student``'s staged folder as a copy of their current result (``--notebook``:
        the notebooks not graded again stay in it)."""
        final, staged = self.final_autograded(student), self.autograded(student)
        if final.is_dir() and not staged.exists():
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(final, staged, symlinks=True)
            for folder, _, _ in os.walk(staged):  # nbgrader may rewrite files in it
                os.chmod(folder, os.stat(folder).st_mode | 0o700)

    def keep_failed(self, student: str) -> None:
        """A student nbgrader failed on: no gradebook rows; the ``autograded/`` folder is left
        alone when there is one, else it becomes what nbgrader left in the staging area."""
        if not self.final_autograded(student).exists():
            self._swap_folder(student)

    def _swap_folder(self, student: str) -> None:
        staged, final = self.autograded(student), self.final_autograded(student)
        if not staged.is_dir():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        old = self.root / "replaced" / student
        if final.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            if old.exists():
                shutil.rmtree(old)
            final.rename(old)
        staged.rename(final)
        if old.exists():
            shutil.rmtree(old)

    def finish(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def recover(staging: Staging) -> list[str]:
    """Finish the folder swaps of a run killed after committing some gradebook rows."""
    if not staging.journal.is_file():
        return []
    finished = []
    for student in staging.journal.read_text(encoding="utf-8").split("\n"):
        if student and staging.autograded(student).is_dir():
            staging._swap_folder(student)
            finished.append(student)
    old = staging.root / "replaced"
    for student_dir in old.glob("*") if old.is_dir() else []:
        final = staging.final_autograded(student_dir.name)
        if not final.exists():  # killed mid-swap: the old result is all there is
            final.parent.mkdir(parents=True, exist_ok=True)
            student_dir.rename(final)
    return finished


@contextmanager
def _attached(target: Path, staged: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(target, isolation_level=None, timeout=60)
    try:
        connection.execute("PRAGMA foreign_keys = OFF")  # REPLACE must not cascade
        connection.execute("ATTACH DATABASE ? AS staged", (str(staged),))
        yield connection
    finally:
        connection.close()


def merge_student(staged: Path, target: Path, assignment: str, student: str) -> int:
    """Copy ``student``'s result for ``assignment`` from ``staged`` into ``target`` in one
    transaction. nbgrader's row ids are UUIDs, so the same rows keep the same ids."""
    params = {"student": student, "assignment": assignment}
    copied = 0
    with _attached(target, staged) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            submissions = (
                "SELECT id FROM staged.submitted_assignment WHERE student_id = :student AND "
                "assignment_id IN (SELECT id FROM staged.assignment WHERE name = :assignment)"
            )
            notebooks = (
                f"SELECT id FROM staged.submitted_notebook WHERE assignment_id IN ({submissions})"
            )
            for table, where in _STUDENT_ROWS:
                condition = where.format(db="staged", submissions=submissions, notebooks=notebooks)
                cursor = db.execute(
                    f"INSERT OR REPLACE INTO main.{table} "
                    f"SELECT * FROM staged.{table} WHERE {condition}",
                    params,
                )
                copied += cursor.rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return copied
