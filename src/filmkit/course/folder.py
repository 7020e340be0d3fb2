"""The course folder: where it is, its nbgrader configuration, nbgrader's API and the gradebook.

The course folder is a standard nbgrader course (``assignments/`` in this repository): a committed
``nbgrader_config.py`` and ``source/<assignment>/<notebook>.ipynb``; nbgrader writes
``release/``, ``submitted/``, ``autograded/``, ``feedback/`` and ``gradebook.db`` beside them.
Stock ``nbgrader`` commands run in that folder read the same configuration as filmkit. Where each
of those lives, and the gradebook, are nbgrader's own ``CourseDirectory`` settings
(``c.CourseDirectory.autograded_directory``, ``c.CourseDirectory.db_url``, …), read through
nbgrader's ``CourseDirectory`` class: a course whose gradebook is a PostgreSQL database says so
there once, and every filmkit command and every stock nbgrader command uses it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from filmkit.paths import project_root

CONFIG_FILE: Final = "nbgrader_config.py"
COURSE_ENV: Final = "FILMKIT_COURSE"
STEPS: Final = ("source", "release", "submitted", "autograded", "feedback")


class GradingError(Exception):
    """A step of the grading cycle cannot go on. The message names the file and the fix."""


def ensure_tools_on_path() -> None:
    """Put this interpreter's ``bin/`` on ``PATH``.

    ``nbgrader.api.Gradebook()`` on a new database runs the ``alembic`` command as a subprocess,
    and JupyterLab starts kernels by name: both are found through ``PATH``, which does not hold
    the virtual environment's ``bin/`` when ``.venv/bin/python`` or ``uv run`` is used without
    activating it.
    """
    bin_dir = str(Path(sys.executable).parent)
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])


ensure_tools_on_path()


def default_course_dir() -> Path:
    """``$FILMKIT_COURSE`` if set, else ``assignments/`` of this checkout."""
    override = os.environ.get(COURSE_ENV)
    return Path(override).resolve() if override else project_root() / "assignments"


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder and its loaded configuration."""

    root: Path
    config: Config

    @functools.cached_property
    def coursedir(self) -> Any:
        """nbgrader's ``CourseDirectory`` on this course's configuration."""
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config, root=str(self.root))

    def step_dir(self, step: str) -> Path:
        """The folder of ``step`` (``c.CourseDirectory.<step>_directory``, below the root)."""
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}; the steps are {STEPS}")
        return self.root / str(getattr(self.coursedir, f"{step}_directory"))

    @property
    def db_url(self) -> str:
        """The gradebook (``c.CourseDirectory.db_url``; nbgrader's default: ``gradebook.db``)."""
        return str(self.coursedir.db_url)

    @property
    def course_id(self) -> str:
        return str(self.config.CourseDirectory.get("course_id", "")) or "default_course"

    def assignments(self, step: str = "source") -> list[str]:
        """The assignments that have a folder under ``step`` (``source`` by default), sorted."""
        folder = self.step_dir(step)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and not _ignored(p.name))

    def require(self, assignment: str) -> str:
        """``assignment`` if it has a source folder; else a :class:`GradingError` naming them."""
        known = self.assignments()
        if assignment not in known:
            raise GradingError(
                f"no assignment {assignment!r} in {self.step_dir('source')}: "
                f"the assignments are {', '.join(known) or '(none)'}"
            )
        return assignment

    def notebooks(
        self, assignment: str, step: str = "source", student: str | None = None
    ) -> list[Path]:
        """The notebooks of an assignment at a step (per student for the student steps)."""
        folder = self.step_dir(step)
        if step in ("submitted", "autograded", "feedback"):
            if student is None:
                raise ValueError(f"the {step} step needs a student")
            folder = folder / student
        pattern = "*.html" if step == "feedback" else "*.ipynb"
        return sorted((folder / assignment).glob(pattern))

    def students(self, assignment: str, step: str = "submitted") -> list[str]:
        """Students with a folder for ``assignment`` under ``step``, sorted."""
        folder = self.step_dir(step)
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and not _ignored(p.name) and (p / assignment).is_dir()
        )

    def select_students(
        self, assignment: str, step: str, requested: Sequence[str] | None, *, what: str, hint: str
    ) -> list[str]:
        """``requested`` (default: every student with a folder under ``step``), refusing any
        without one: "no {what} of {assignment} for … in {folder}: {hint}"."""
        found = self.students(assignment, step)
        wanted = list(requested) if requested else found
        missing = [s for s in wanted if s not in found]
        if missing or not wanted:
            raise GradingError(
                f"no {what} of {assignment} for {', '.join(missing) or 'any student'} in "
                f"{self.step_dir(step)}: {hint}"
            )
        return wanted

    def api(self) -> Any:
        """nbgrader's ``NbGraderAPI`` on this course (its methods return ``{'success', ...}``)."""
        from nbgrader.apps import NbGraderAPI

        return NbGraderAPI(config=self.config)

    @contextlib.contextmanager
    def gradebook(self) -> Iterator[Any]:
        """nbgrader's ``Gradebook`` on this course's database."""
        from nbgrader.api import Gradebook

        with nbgrader_warnings(), Gradebook(self.db_url, self.course_id) as gb:
            yield gb


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite:///`` gradebook URL; None for a database server's."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise GradingError(f"the gradebook {url} is not a file: a course needs one that lasts")
    return Path(parsed.database)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"


def load_course(root: Path | None = None) -> Course:
    """The course at ``root`` (default :func:`default_course_dir`), with its configuration.

    ``CourseDirectory.root`` is set to ``root`` whatever the file says, so a copy of the course
    folder is graded where it is.
    """
    root = (root or default_course_dir()).resolve()
    config_path = root / CONFIG_FILE
    if not root.is_dir():
        raise GradingError(
            f"{root} is not a folder: pass --course DIR, the course folder that holds "
            f"{CONFIG_FILE} and source/"
        )
    if not config_path.is_file():
        raise GradingError(
            f"no {CONFIG_FILE} in {root}: pass --course DIR, the course folder that holds "
            f"{CONFIG_FILE} and source/ (this repository's is assignments/)"
        )
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    except Exception as error:  # the file is Python: any error it raises is reported as such
        raise GradingError(
            f"{config_path} does not load: {type(error).__name__}: {error}"
        ) from None
    config.CourseDirectory.root = str(root)
    return Course(root, config)


def check_result(result: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """Raise :class:`GradingError` when an ``NbGraderAPI`` call did not succeed.

    The API never raises: it returns ``{'success': bool, 'log': str, 'error': str}``.
    """
    if not result.get("success"):
        error = str(result.get("error") or "").strip()
        last = error.splitlines()[-1] if error else "no error message"
        log_lines = [
            line
            for line in str(result.get("log") or "").splitlines()
            if "ERROR" in line or "CRITICAL" in line
        ]
        details = "\n".join(log_lines[-5:])
        raise GradingError(f"{what} failed: {last}" + (f"\n{details}" if details else ""))
    return result


@contextlib.contextmanager
def nbgrader_warnings() -> Iterator[None]:
    """Silence the one known warning nbgrader raises while grading.

    ``Gradebook.add_submission`` (nbgrader 0.9.6 with SQLAlchemy 2) makes SQLAlchemy's autoflush
    warn "Object of type <SubmittedAssignment> not in session, add operation along … will not
    proceed", once per new submission. nbgrader adds the objects right after; the warning is
    harmless, and under ``-W error`` it would make autograde fail.
    """
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Object of type <Submitted", category=SAWarning, module="nbgrader"
        )
        yield


__all__ = [
    "CONFIG_FILE",
    "Course",
    "GradingError",
    "check_result",
    "default_course_dir",
    "ensure_tools_on_path",
    "load_course",
    "nbgrader_warnings",
]
