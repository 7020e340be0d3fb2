"""What a ``filmkit grade`` run is asked to do: nbgrader autograde's command line and configuration.

``filmkit grade`` takes every option ``nbgrader autograde`` takes, read by nbgrader's own
``AutogradeApp``: its aliases and flags, ``--Class.trait=value`` for any configurable class
(``--ClearMetadataPreprocessor.enabled=True``, ``--Execute.timeout=2``,
``--AutogradeApp.permissions=644``), and the ``nbgrader_config.py`` files it reads (Jupyter's
config folders, the working folder, then the course folder's), each with nbgrader's precedence:
the command line over the files. A command line that works for ``nbgrader autograde`` works
here with the same meaning:

- the course folder is filmkit's ``--course DIR``, or nbgrader's ``--course-dir DIR`` /
  ``c.CourseDirectory.root``; when nothing says, the working folder if it holds
  ``nbgrader_config.py`` (as nbgrader), else ``$FILMKIT_COURSE`` or ``assignments/`` of this
  checkout (:func:`filmkit.course.folder.default_course_dir`);
- the gradebook is ``--db URL`` / ``c.CourseDirectory.db_url`` (default: ``gradebook.db`` in
  the course folder), SQLite or PostgreSQL (results are committed from a staging copy, student by
  student: :mod:`~filmkit.grading.staging`);
- the assignment is the argument, or ``--assignment`` / ``c.CourseDirectory.assignment_id``;
- the students are filmkit's ``--student`` (repeatable; each an id or a glob, as nbgrader's), or
  ``c.CourseDirectory.student_id``; ``c.CourseDirectory.student_id_exclude`` (comma-separated)
  leaves some out;
- ``--notebook NAME`` (a glob, ``c.CourseDirectory.notebook_id``) grades only those notebooks and
  keeps each student's other results; ``--force``/``-f``, ``--no-execute`` (the outputs as handed
  in are scored, as nbgrader's flag does) and ``--Autograde.create_student=False`` are nbgrader's;
- the working folder goes first on ``sys.path``, as nbgrader puts it there (a plugin such as
  ``c.AssignLatePenalties.plugin_class = "late_plugin.Blarg"`` beside the configuration), and the
  course folder last (its plugins import too, and shadow nothing).

One name differs: filmkit's ``--course`` is the course *folder*; nbgrader autograde's
``--course`` (the course id) is ``--CourseDirectory.course_id=ID`` here.
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets.config import Config

from filmkit.course.folder import CONFIG_FILE, Course, GradingError, default_course_dir

USAGE = 2  # the exit status of a command line that cannot be read
FAILED = 1  # nbgrader autograde's exit status when it cannot grade


class AutogradeFailed(GradingError):
    """What makes ``nbgrader autograde`` exit 1 (an assignment it does not know, no submission
    to grade): ``filmkit grade`` exits 1 too."""

    exit_status = FAILED


class UsageError(GradingError):
    """A command line or configuration that cannot be read (exit status 2)."""

    exit_status = USAGE


@dataclass(frozen=True)
class GradedCourse(Course):
    """A :class:`~filmkit.course.folder.Course` whose gradebook is nbgrader's
    ``CourseDirectory.db_url`` (``--db``), not always ``gradebook.db`` in the folder."""

    gradebook_url: str = ""

    @property
    def db_url(self) -> str:
        return self.gradebook_url or super().db_url


@dataclass(frozen=True)
class Settings:
    """One run's course, assignment and choices, as nbgrader's ``CourseDirectory`` reads them."""

    course: GradedCourse
    assignment: str
    students: tuple[str, ...]  # ids or globs (nbgrader's student_id), at least one
    exclude: frozenset[str]  # student_id_exclude
    notebook: str  # the notebooks to grade: a glob of names without .ipynb ("*": all)
    force: bool
    create_student: bool

    @property
    def some_notebooks(self) -> bool:
        """Only some notebooks are graded (``--notebook``): the others' results are kept."""
        return self.notebook != "*"


def read(
    assignment: str | None,
    *,
    course: Path | None = None,
    args: Sequence[str] = (),
    students: Sequence[str] | None = None,
    force: bool = False,
) -> Settings:
    """The settings of a run: ``args`` as ``nbgrader autograde`` reads its command line (the
    assignment may be among them), with filmkit's own ``course``, ``students`` and ``force``."""
    argv = [*args]
    if assignment:
        argv.insert(0, assignment)
    if course is not None:
        argv.append(f"--CourseDirectory.root={Path(course).resolve()}")
    app = _initialized(argv)
    if not _root_configured(app.config) and not (Path.cwd() / CONFIG_FILE).is_file():
        # nbgrader would take the working folder; filmkit's own course is the default
        argv.append(f"--CourseDirectory.root={default_course_dir()}")
        app = _initialized(argv)
    positional = list(app.extra_args)
    configured = str(app.coursedir.assignment_id or "")
    if len(positional) > 1:
        raise UsageError(
            f"only one assignment may be graded at a time; got {', '.join(positional)}"
        )
    if positional and configured:
        raise UsageError(
            f"the assignment is given both as an argument ({positional[0]}) and in the "
            f"configuration or --assignment ({configured}): keep one"
        )
    name = positional[0] if positional else configured
    if not name:
        raise UsageError("name the assignment to grade: filmkit grade ASSIGNMENT")
    coursedir = app.coursedir
    root = Path(coursedir.root).resolve()
    if not root.is_dir():
        raise UsageError(
            f"{root} is not a folder: pass --course DIR, the course folder that holds source/"
        )
    config = copy.deepcopy(app.config)
    config.CourseDirectory.root = str(root)
    _importable(first=str(Path.cwd()), last=str(root))
    asked = tuple(students or ()) or (str(coursedir.student_id or "*"),)
    exclude = frozenset(s for s in str(coursedir.student_id_exclude or "").split(",") if s)
    converter = _converter_config(config)
    return Settings(
        GradedCourse(root, config, str(coursedir.db_url)),
        name,
        asked,
        exclude,
        str(coursedir.notebook_id or "*"),
        bool(force or converter["force"]),
        bool(converter["create_student"]),
    )


def help_all() -> str:
    """nbgrader autograde's ``--help-all``: every option and configurable it takes."""
    import contextlib
    import io

    from nbgrader.apps.autogradeapp import AutogradeApp

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        AutogradeApp().print_help(classes=True)
    return out.getvalue()


def _initialized(argv: Sequence[str]) -> Any:
    from nbgrader.apps.autogradeapp import AutogradeApp

    # raise_config_file_errors: a configuration file that does not load stops the run (nbgrader
    # would log the error and grade with the rest of the configuration)
    app = AutogradeApp(raise_config_file_errors=True, log_level=logging.ERROR)
    try:
        app.initialize(list(argv))
    except SystemExit as stop:  # traitlets prints the reason of a bad option, then exits
        raise UsageError(
            f"nbgrader autograde's options could not be read ({' '.join(argv)}); "
            "see `filmkit grade --help-all`"
        ) from stop
    except Exception as error:  # a configuration file's own error, as Python raised it
        raise UsageError(
            f"the nbgrader configuration does not load: {type(error).__name__}: {error}"
        ) from None
    return app


def _root_configured(config: Config) -> bool:
    return "CourseDirectory" in config and "root" in config.CourseDirectory


def _converter_config(config: Config) -> dict[str, Any]:
    """``force`` and ``create_student`` as nbgrader's Autograde converter would read them (from
    ``BaseConverter``, ``Autograde`` or a command-line flag)."""
    from nbgrader.converters import Autograde

    converter = Autograde(config=config)
    return {"force": converter.force, "create_student": converter.create_student}


def _importable(*, first: str, last: str) -> None:
    """``first`` at the head of ``sys.path`` (the working folder, where nbgrader puts it) and
    ``last`` at its end (the course folder: importable, shadowing nothing), each once (nbgrader
    inserts the working folder every time its app starts; a long-lived process would collect
    copies)."""
    rest = [p for p in dict.fromkeys(sys.path) if p not in (first, last)]
    sys.path[:] = [first, *rest, *([last] if last != first else [])]


__all__ = [
    "FAILED",
    "USAGE",
    "AutogradeFailed",
    "GradedCourse",
    "Settings",
    "UsageError",
    "help_all",
    "read",
]
