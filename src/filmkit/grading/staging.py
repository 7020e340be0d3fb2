"""Grading into a staging area, then committing each student's result whole.

nbgrader writes scores as it goes (several commits per notebook) and, with ``--force``, deletes
the previous ``autograded/`` folder before it starts. ``filmkit grade`` instead points nbgrader
at a staging area, ``.filmkit/grading/<assignment>/run/``: a copy of the gradebook, the screened
submissions and an ``autograded/`` folder. When nbgrader has finished a student:

1. that student's rows (student, submitted assignment and notebooks, grades, comments) are copied
   from the staging gradebook into the course's gradebook in ONE transaction: all the new scores
   or none of them, never a mix with the old;
2. the student's name goes in the run's journal, with the record of how it went (the caller's:
   ``filmkit grade`` writes the student's :class:`~filmkit.grading.outcome.Outcome` there);
3. the new ``autograded/<student>/<assignment>/`` replaces the old one (old folder renamed away,
   new one renamed in, old one removed).

A run killed after 1 and before 2 leaves the new gradebook rows with the old folder, which the
next run grades again (the submission is newer than the folder's timestamp). A run killed after
2 is finished by the next run (:func:`recover`) from the journal: the folder swapped if it was
not, and every journalled record handed back, so the caller records them even when it was killed
before it could (the student is then skipped as graded, and its status must be the new one).

The gradebook is nbgrader's ``CourseDirectory.db_url`` (``--db``): an SQLite file wherever it
is, or any database nbgrader's SQLAlchemy models run on (PostgreSQL, which several graders share).
The staging gradebook is always an SQLite file of the run's own: a copy made with SQLite's backup
API, or, from another database, table by table in nbgrader's own models. An SQLite gradebook
takes a student's rows with ``INSERT OR REPLACE`` from the attached staging file; any other in
one SQLAlchemy transaction that first takes a lock on that student (``pg_advisory_xact_lock``
on PostgreSQL), deletes the student's previous result and inserts the new one: two graders
grading the same assignment at once each commit every student whole, the later commit of a
student replacing the earlier, never a mix of the two. The lock is the student's, whatever the
assignment: the ``student`` row is shared by all of them, and two graders of different
assignments committing a new student at once would otherwise both insert it (the second
failing). When only some notebooks are graded (``--notebook``), each student's staged folder
starts as a copy of their current ``autograded/`` folder, so nbgrader replaces those notebooks
there and the commit keeps the others, as nbgrader does in place. A student nbgrader failed on
commits nothing to the gradebook; their ``autograded/`` folder stays as it was, or, when they had
none, becomes what nbgrader's own failure handling left (:meth:`Staging.keep_failed`).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from filmkit.course.folder import sqlite_path

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
    gradebook_url: str = ""  # nbgrader's CourseDirectory.db_url; default: gradebook.db here
    autograded_dir: Path | None = None  # CourseDirectory.autograded_directory; default: here

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
        base = self.autograded_dir or self.course_root / "autograded"
        return base / student / self.assignment

    @property
    def real_gradebook(self) -> str:
        """The course's gradebook, as an SQLAlchemy URL."""
        return self.gradebook_url or f"sqlite:///{self.course_root / 'gradebook.db'}"

    def start(self) -> None:
        """A fresh staging area with a consistent copy of the gradebook (after :func:`recover`
        has finished whatever a killed run left)."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        sqlite_file = sqlite_path(self.real_gradebook)
        if sqlite_file is None:
            copy_gradebook(self.real_gradebook, f"sqlite:///{self.gradebook}")
            return
        with (
            closing(sqlite3.connect(sqlite_file)) as source,
            closing(sqlite3.connect(self.gradebook)) as copy,
        ):
            source.backup(copy)

    def commit(self, student: str, record: Mapping[str, Any] | None = None) -> None:
        """Make ``student``'s staged result the real one (see the module docstring); ``record``
        (JSON data) is journalled with it, for :func:`recover` to hand back."""
        sqlite_file = sqlite_path(self.real_gradebook)
        if sqlite_file is None:
            merge_student_into(self.gradebook, self.real_gradebook, self.assignment, student)
        else:
            merge_student(self.gradebook, sqlite_file, self.assignment, student)
        line = json.dumps({"student": student, "record": record}, sort_keys=True)
        with open(self.journal, "a", encoding="utf-8") as journal:
            journal.write(line + "\n")
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


def journalled(staging: Staging) -> dict[str, Mapping[str, Any] | None]:
    """student → record of every commit in the run's journal (a line cut short by a kill, the
    last, is not a commit: the journal is written after the gradebook, so it is left out)."""
    found: dict[str, Mapping[str, Any] | None] = {}
    if not staging.journal.is_file():
        return found
    for line in staging.journal.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("student"), str):
            found[entry["student"]] = entry.get("record")
    return found


def recover(staging: Staging) -> dict[str, Mapping[str, Any] | None]:
    """Finish what a run killed after committing some students left: each journalled student's
    folder swapped in if it was not yet. Returns every journalled student's record."""
    committed = journalled(staging)
    for student in committed:
        if staging.autograded(student).is_dir():
            staging._swap_folder(student)
    old = staging.root / "replaced"
    for student_dir in old.glob("*") if old.is_dir() else []:
        final = staging.final_autograded(student_dir.name)
        if not final.exists():  # killed mid-swap: the old result is all there is
            final.parent.mkdir(parents=True, exist_ok=True)
            student_dir.rename(final)
    return committed


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


# --------------------------------------------------------------------------- other databases


def _tables() -> list[Any]:
    """nbgrader's gradebook tables, parents before children."""
    from nbgrader.api import Base

    return list(Base.metadata.sorted_tables)


def copy_gradebook(url: str, target_url: str) -> int:
    """Copy the gradebook at ``url`` into the empty database at ``target_url``: every table of
    nbgrader's models and its schema version (``alembic_version``), read in one transaction.
    Returns the rows copied. (Also how a course moves its SQLite gradebook to PostgreSQL.)"""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    source = create_engine(url)
    copy = create_engine(target_url)
    copied = 0
    try:
        with source.connect() as read, copy.begin() as write:
            if source.dialect.name == "postgresql":  # one snapshot of every table
                read.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            Base.metadata.create_all(write)
            for table in _tables():
                rows = [dict(r) for r in read.execute(table.select()).mappings()]
                if rows:
                    write.execute(table.insert(), rows)
                    copied += len(rows)
            if inspect(read).has_table("alembic_version"):
                versions = read.execute(text("SELECT version_num FROM alembic_version")).all()
                write.execute(
                    text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
                )
                for (version,) in versions:
                    write.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
    finally:
        source.dispose()
        copy.dispose()
    return copied


def _student_rows(connection: Any, assignment: str, student: str) -> dict[str, list[Any]]:
    """``student``'s result for ``assignment`` in ``connection``'s gradebook: the rows of each
    table of :data:`_STUDENT_ROWS`, by table name."""
    from sqlalchemy import select

    tables = {t.name: t for t in _tables()}
    assignment_t, submitted = tables["assignment"], tables["submitted_assignment"]
    notebook_t = tables["submitted_notebook"]
    submissions = select(submitted.c.id).where(
        submitted.c.student_id == student,
        submitted.c.assignment_id.in_(
            select(assignment_t.c.id).where(assignment_t.c.name == assignment)
        ),
    )
    notebooks = select(notebook_t.c.id).where(notebook_t.c.assignment_id.in_(submissions))
    conditions = {
        "student": tables["student"].c.id == student,
        "submitted_assignment": submitted.c.id.in_(submissions),
        "submitted_notebook": notebook_t.c.assignment_id.in_(submissions),
        "grade": tables["grade"].c.notebook_id.in_(notebooks),
        "comment": tables["comment"].c.notebook_id.in_(notebooks),
    }
    return {
        name: [dict(r) for r in connection.execute(tables[name].select().where(where)).mappings()]
        for name, where in conditions.items()
    }


def merge_student_into(staged: Path, url: str, assignment: str, student: str) -> int:
    """Replace ``student``'s result for ``assignment`` in the gradebook at ``url`` (not SQLite)
    by the staged one, in one transaction (see the module docstring). Returns the rows written."""
    from sqlalchemy import create_engine, text

    tables = {t.name: t for t in _tables()}
    source, target = create_engine(f"sqlite:///{staged}"), create_engine(url)
    try:
        with source.connect() as read:
            new = _student_rows(read, assignment, student)
        with target.begin() as write:
            if target.dialect.name == "postgresql":
                key = f"filmkit grade: {student}"  # not the assignment's: see the docstring
                write.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
            old = _student_rows(write, assignment, student)
            for name in ("comment", "grade", "submitted_notebook", "submitted_assignment"):
                ids = [row["id"] for row in old[name]]
                if ids:
                    write.execute(tables[name].delete().where(tables[name].c.id.in_(ids)))
            written = 0
            if new["student"] and not old["student"]:  # a student nbgrader created: added;
                write.execute(tables["student"].insert(), new["student"])  # else left as it is
                written += len(new["student"])
            for name in ("submitted_assignment", "submitted_notebook", "grade", "comment"):
                if new[name]:
                    write.execute(tables[name].insert(), new[name])
                    written += len(new[name])
    finally:
        source.dispose()
        target.dispose()
    return written
