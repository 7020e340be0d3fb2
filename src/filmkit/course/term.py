"""One term in miniature (``filmkit demo``): release, hand in, autograde, feedback, export.

In a scratch folder (default ``_demo/`` in the checkout): a copy of the course folder
(``nbgrader_config.py`` and ``source/``), released with the leak check and nbgrader's validator;
the specimen submissions of ``tests/fixtures/specimens/`` handed in as students; every
submission autograded; feedback generated (and checked for hidden tests); grades exported; and
the lesson site built when ``filmkit.site`` exists. Each run starts the scratch folder afresh, so
running it twice gives the same result.
"""

from __future__ import annotations

import importlib
import inspect
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pandas as pd

from filmkit.course import export, feedback, release
from filmkit.course.folder import (
    CONFIG_FILE,
    GradingError,
    default_course_dir,
    load_course,
    sqlite_path,
)
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import grade
from filmkit.paths import project_root

MARKER: Final = ".filmkit-demo"
MADE_HERE: Final = ("course", "site", "grades.csv", "grades-per-question.csv", "_student")


def default_scratch() -> Path:
    return project_root() / "_demo"


@dataclass(frozen=True)
class TermResult:
    scratch: Path
    course: Path
    assignments: tuple[str, ...]
    students: tuple[str, ...]
    totals: pd.DataFrame  # student, assignment, score, max_score, to_mark, failed
    per_question: pd.DataFrame  # filmkit.grading.grade.SCORE_COLUMNS
    outputs: dict[str, Path | str]  # a path, or the URL of a gradebook on a database server
    site: str
    released: tuple[release.Released, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    def score_table(self) -> pd.DataFrame:
        """Students × assignments: the autograded score (written answers await a marker)."""
        table = self.totals.pivot(index="student", columns="assignment", values="score")
        table = table.reindex(index=list(self.students), columns=list(self.assignments))
        table["total"] = table.sum(axis=1)
        return table

    def max_scores(self) -> pd.Series:
        maxima = self.totals.groupby("assignment")["max_score"].max()
        maxima = maxima.reindex(list(self.assignments))
        maxima["total"] = maxima.sum()
        return maxima


def prepare_scratch(scratch: Path) -> Path:
    """Make ``scratch`` ready for a new term; refuses a non-empty folder that is not a demo's."""
    scratch = scratch.resolve()
    if scratch.exists() and any(scratch.iterdir()) and not (scratch / MARKER).exists():
        raise GradingError(
            f"{scratch} is not empty and is not a filmkit demo folder (it has no {MARKER}): "
            "pass --scratch with a new or empty folder"
        )
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / MARKER).write_text(
        "made by filmkit demo: the whole folder is rewritten on each run\n"
    )
    for name in MADE_HERE:
        path = scratch / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return scratch


def main(
    *,
    scratch: Path | None = None,
    course: Path | None = None,
    specimens: Path | None = None,
    validate: bool = True,
    site: bool = True,
    progress: Callable[[str], None] | None = None,
) -> TermResult:
    """Run the term in ``scratch`` from the course at ``course`` (default: ``assignments/``).

    ``validate`` runs nbgrader's validator on the sources and releases; ``site`` builds the
    lesson site too (when ``filmkit.site`` exists); ``progress`` is told about each step.
    """
    say = progress or (lambda message: None)
    seconds: dict[str, float] = {}
    origin = load_course(course)
    scratch = prepare_scratch(scratch or default_scratch())
    root = scratch / "course"
    root.mkdir()
    shutil.copy2(origin.root / CONFIG_FILE, root / CONFIG_FILE)
    shutil.copytree(origin.step_dir("source"), root / "source")
    term = load_course(root)
    assignments = tuple(term.assignments())

    started = time.perf_counter()
    say(f"Releasing {len(assignments)} assignments" + (" and validating them" if validate else ""))
    released = tuple(release.main(course=root, validate=validate))
    seconds["release"] = time.perf_counter() - started

    students: list[str] = []
    for assignment in assignments:
        for specimen in load_specimens(assignment, specimens):
            hand_in(term, specimen)
            if specimen.student not in students:
                students.append(specimen.student)

    started = time.perf_counter()
    for assignment in assignments:
        handed_in = term.students(assignment)
        say(f"Autograding {assignment}: {len(handed_in)} submissions")
        grade.main(assignment, course=root, message=say)
    seconds["autograde"] = time.perf_counter() - started

    started = time.perf_counter()
    say("Generating feedback")
    for assignment in assignments:
        feedback.main(assignment, course=root)
    seconds["feedback"] = time.perf_counter() - started

    exported = export.main(course=root, out=scratch / "grades.csv")
    if site:
        say("Building the lesson site")
    site_status = build_site(scratch) if site else "not built (--no-site)"
    outputs = {
        "course folder (a copy of assignments/)": root,
        "released notebooks": term.step_dir("release"),
        "submissions (the specimens)": term.step_dir("submitted"),
        "autograded notebooks (what formgrader shows)": term.step_dir("autograded"),
        "feedback HTML": term.step_dir("feedback"),
        "gradebook": sqlite_path(term.db_url) or term.db_url,
        "grades CSV (nbgrader export)": exported.grades_csv,
        "per-question CSV": exported.per_question_csv,
    }
    if (scratch / "site").exists():
        outputs["lesson site"] = scratch / "site"
    return TermResult(
        scratch=scratch,
        course=root,
        assignments=assignments,
        students=tuple(students),
        totals=exported.totals,
        per_question=exported.per_question,
        outputs=outputs,
        site=site_status,
        released=released,
        seconds=seconds,
    )


def build_site(scratch: Path, *, site_module: object | None = None) -> str:
    """Build the lesson site into ``<scratch>/site`` when ``filmkit.site`` exists.

    ---- LESSON SITE HOOK -------------------------------------------------------------------
    The lesson site belongs to ``filmkit.site`` (another engineer's). The demo calls
    ``filmkit.site.main(out=<scratch>/site)`` once that module exists; until then, or if its
    ``main`` takes other arguments, the demo says so and goes on.
    -----------------------------------------------------------------------------------------
    """
    site = site_module
    if site is None:
        try:
            site = importlib.import_module("filmkit.site")
        except ModuleNotFoundError:
            return "not built: filmkit.site does not exist yet"
    build = getattr(site, "main", None)
    if not callable(build):
        return "not built: filmkit.site has no main()"
    try:
        parameters = inspect.signature(build).parameters
    except (TypeError, ValueError):
        parameters = {}  # type: ignore[assignment]
    if "out" not in parameters:
        return "not built: filmkit.site.main takes no out= argument yet"
    try:
        result = build(out=scratch / "site")
    except Exception as error:  # the site's own errors; the term's results stand without it
        return f"FAILED: {type(error).__name__}: {error}"
    return f"built into {getattr(result, 'out', scratch / 'site')}"


__all__ = ["TermResult", "build_site", "default_course_dir", "default_scratch", "main"]
