"""The term through nbgrader's exchange: release to it, collect from it, hand feedback back.

The exchange is nbgrader's own (``nbgrader.exchange.default``): a folder every student's server
can write to (``c.Exchange.root``, default ``/usr/local/share/nbgrader/exchange``), with
``c.Exchange.path_includes_course = True`` so each course's assignments sit in a folder of
their own. Students use it through JupyterLab's Assignments tab (or ``nbgrader
fetch_assignment``, ``submit``, ``fetch_feedback``); the instructor through these functions,
which call nbgrader's ``NbGraderAPI`` on the course's configuration:

* :func:`release` after ``filmkit release``: ``release/<assignment>/`` into the exchange's
  outbound folder (replacing an earlier release of it);
* :func:`collect` (``filmkit collect ASSIGNMENT``): the latest submission of each student into
  ``submitted/<student>/<assignment>/`` with the ``timestamp.txt`` nbgrader's submit wrote, which
  ``filmkit grade`` reads for lateness as nbgrader does;
* :func:`release_feedback` (``filmkit feedback ASSIGNMENT --release``): each student's feedback
  into the exchange's feedback folder, where only that student's fetch finds it (nbgrader files
  it under a hash of their own submission).

A course without an exchange folder (one instructor's laptop) skips :func:`release` with a note:
students then get the files of ``release/`` some other way, and hand in into ``submitted/``.
"""

from __future__ import annotations

import copy
import gc
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmkit.course.folder import Course, GradingError, check_result, nbgrader_warnings


def exchange_root(course: Course) -> Path:
    """``c.Exchange.root`` as nbgrader reads it."""
    from nbgrader.exchange.default.exchange import Exchange

    return Path(str(Exchange(config=course.config).root))


def has_exchange(course: Course) -> bool:
    return exchange_root(course).is_dir()


def _api(course: Course, **settings: dict[str, object]) -> object:
    from nbgrader.apps import NbGraderAPI

    config = copy.deepcopy(course.config)
    for section, values in settings.items():
        for name, value in values.items():
            setattr(config[section], name, value)
    return NbGraderAPI(config=config)


def _no_exchange(course: Course) -> GradingError:
    root = exchange_root(course)
    return GradingError(
        f"the exchange folder {root} does not exist: create it writable by every student "
        f"(mkdir -p {root} && chmod 777 {root}, as root), or set c.Exchange.root in "
        f"{course.root / 'nbgrader_config.py'}"
    )


def release(course: Course, assignment: str) -> Path:
    """Put ``release/<assignment>/`` in the exchange (replacing an earlier release of it);
    returns the exchange's folder for it."""
    if not has_exchange(course):
        raise _no_exchange(course)
    api = _api(course, ExchangeReleaseAssignment={"force": True})
    with nbgrader_warnings():
        check_result(
            api.release_assignment(assignment),  # type: ignore[attr-defined]
            f"nbgrader release_assignment of {assignment} to {exchange_root(course)}",
        )
    return exchange_root(course) / course.course_id / "outbound" / assignment


@dataclass(frozen=True)
class Collected:
    """What a collection (from the exchange, or an LMS's download) put in ``submitted/``."""

    assignment: str
    students: tuple[str, ...]  # whose submission is now in submitted/
    skipped: tuple[str, ...] = ()  # files not collected, each with why


def collect(course: Course, assignment: str) -> Collected:
    """Collect every student's latest submission of ``assignment`` from the exchange."""
    if not has_exchange(course):
        raise _no_exchange(course)
    course.require(assignment)
    api = _api(course)
    with nbgrader_warnings():
        check_result(
            api.collect(assignment, update=True),  # type: ignore[attr-defined]
            f"nbgrader collect of {assignment} from {exchange_root(course)}",
        )
    return Collected(assignment, tuple(course.students(assignment)))


def release_feedback(course: Course, assignment: str) -> Path:
    """Hand every generated feedback file of ``assignment`` back through the exchange."""
    if not has_exchange(course):
        raise _no_exchange(course)
    from nbgrader.utils import capture_log, temp_attrs

    api: Any = _api(course)
    # NbGraderAPI.release_feedback (nbgrader 0.9.x) passes its authenticator misspelt, so the
    # exchange step gets none; the same call as the API's other exchange steps make it
    with nbgrader_warnings(), temp_attrs(api.coursedir, assignment_id=assignment, student_id="*"):
        step = api.exchange.ReleaseFeedback(
            coursedir=api.coursedir, authenticator=api.authenticator, parent=api
        )
        with warnings.catch_warnings():
            # and it leaves each student's timestamp.txt open: closed here, by the collector
            warnings.simplefilter("ignore", ResourceWarning)
            result = capture_log(step)
            gc.collect()
        check_result(
            result, f"nbgrader release_feedback of {assignment} to {exchange_root(course)}"
        )
    return exchange_root(course) / course.course_id / "feedback"
