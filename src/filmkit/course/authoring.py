"""Build the assignments' source notebooks from their Python descriptions.

Each assignment is described by a Python file in ``assignments/authoring/`` (kept out of this
package, which students have installed: the descriptions hold the solutions and hidden tests).
A description defines ``ASSIGNMENT`` (the folder name under ``source/``), ``NOTEBOOK`` (the
notebook's name without ``.ipynb``) and ``CELLS``, a list built with the helpers below, which set
nbgrader's cell metadata as nbgrader's own "Create Assignment" toolbar does.

``python -m filmkit.course.authoring`` writes ``source/<ASSIGNMENT>/<NOTEBOOK>.ipynb`` for every
description; ``--check`` only reports notebooks that differ from their description (the test
suite runs it). The notebooks are written without outputs or execution counts, with stable cell
ids, so a rebuild changes nothing unless a description changed.
"""

from __future__ import annotations

import argparse
import contextlib
import runpy
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nbformat

from filmkit.course.folder import GradingError, default_course_dir

SCHEMA_VERSION: Final = 3  # nbgrader.nbgraderformat.SCHEMA_VERSION
AUTHORING_DIR: Final = "authoring"
KERNELSPEC: Final = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}


@dataclass(frozen=True)
class Cell:
    """One cell of a source notebook. ``role`` is nbgrader's cell type, or ``plain``."""

    role: str  # plain | readonly | answer | tests | essay | task
    cell_type: str  # code | markdown
    source: str
    grade_id: str | None = None
    points: float | None = None
    judged: bool = False  # run by the grader's judge, never in the student's process


JUDGE_KEY: Final = "filmkit"  # cell metadata: {"filmkit": {"judge": true}}


def _text(source: str) -> str:
    return textwrap.dedent(source).strip("\n")


def markdown(source: str) -> Cell:
    """A plain markdown cell (the student may edit it; nbgrader does not track it)."""
    return Cell("plain", "markdown", _text(source))


def code(source: str) -> Cell:
    """A plain code cell."""
    return Cell("plain", "code", _text(source))


def readonly(
    grade_id: str, source: str, cell_type: str = "markdown", *, judged: bool = False
) -> Cell:
    """A read-only cell: nbgrader restores it from the gradebook when grading.

    ``judged``: a code cell whose output a marker relies on (an essay's evidence report). At
    grading time it runs in the judge, on the notebook as handed in, never in the process that
    ran the student's code (whose output the student could forge). Test cells always are."""
    return Cell("readonly", cell_type, _text(source), grade_id, judged=judged)


def answer(grade_id: str, source: str) -> Cell:
    """An autograded answer (code): ``### BEGIN/END SOLUTION`` regions are cleared on release."""
    return Cell("answer", "code", _text(source), grade_id)


def tests(grade_id: str, points: float, source: str) -> Cell:
    """Autograder tests worth ``points``; ``### BEGIN/END HIDDEN TESTS`` regions are hidden."""
    return Cell("tests", "code", _text(source), grade_id, points)


def essay(grade_id: str, points: float, model_answer: str) -> Cell:
    """A manually graded markdown answer; the model answer is the instructor's, never released."""
    body = _text(model_answer)
    return Cell(
        "essay",
        "markdown",
        f"### BEGIN SOLUTION\n{body}\n### END SOLUTION",
        grade_id,
        points,
    )


def task(grade_id: str, points: float, source: str) -> Cell:
    """A manually graded task (markdown, read-only); may hold ``=== BEGIN MARK SCHEME ===``."""
    return Cell("task", "markdown", _text(source), grade_id, points)


_ROLE_FLAGS: Final = {
    # role: (grade, solution, locked, task)
    "readonly": (False, False, True, False),
    "answer": (False, True, False, False),
    "tests": (True, False, True, False),
    "essay": (True, True, False, False),
    "task": (False, False, True, True),
}


def build_notebook(cells: Sequence[Cell]) -> Any:
    """An nbformat v4 notebook of ``cells`` with nbgrader metadata and stable cell ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    seen: set[str] = set()
    for number, cell in enumerate(cells, 1):
        if cell.cell_type == "code":
            nb_cell = nbformat.v4.new_code_cell(cell.source)
        else:
            nb_cell = nbformat.v4.new_markdown_cell(cell.source)
        nb_cell["id"] = cell.grade_id or f"cell-{number:02d}"
        if cell.role != "plain":
            if cell.grade_id is None:
                raise ValueError(f"cell {number} ({cell.role}) needs a grade_id")
            if cell.grade_id in seen:
                raise ValueError(f"grade_id {cell.grade_id!r} is used twice")
            seen.add(cell.grade_id)
            grade, solution, locked, is_task = _ROLE_FLAGS[cell.role]
            meta: dict[str, Any] = {
                "grade": grade,
                "grade_id": cell.grade_id,
                "locked": locked,
                "schema_version": SCHEMA_VERSION,
                "solution": solution,
                "task": is_task,
            }
            if cell.points is not None:
                meta["points"] = cell.points
            nb_cell.metadata["nbgrader"] = meta
            if cell.judged:
                nb_cell.metadata[JUDGE_KEY] = {"judge": True}
        nb.cells.append(nb_cell)
    nbformat.validate(nb)
    return nb


@dataclass(frozen=True)
class Description:
    path: Path
    assignment: str
    notebook: str
    cells: tuple[Cell, ...]


@contextlib.contextmanager
def _on_sys_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))


def load_descriptions(course: Path | None = None) -> list[Description]:
    """Every assignment description in ``<course>/authoring/`` (files not starting with ``_``
    that define ``ASSIGNMENT``), sorted by assignment."""
    folder = (course or default_course_dir()) / AUTHORING_DIR
    if not folder.is_dir():
        raise GradingError(f"no {folder}: the assignment descriptions live there")
    found: list[Description] = []
    with _on_sys_path(folder):
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            namespace = runpy.run_path(str(path))
            if "ASSIGNMENT" not in namespace:
                continue
            cells = tuple(namespace["CELLS"])
            found.append(
                Description(path, str(namespace["ASSIGNMENT"]), str(namespace["NOTEBOOK"]), cells)
            )
    return sorted(found, key=lambda d: d.assignment)


def notebook_path(course: Path, description: Description) -> Path:
    return course / "source" / description.assignment / f"{description.notebook}.ipynb"


def build_sources(course: Path | None = None, *, check: bool = False) -> list[Path]:
    """Write (or with ``check``, only compare) every source notebook; return those that changed."""
    course = course or default_course_dir()
    changed: list[Path] = []
    for description in load_descriptions(course):
        text = nbformat.writes(build_notebook(description.cells)) + "\n"
        path = notebook_path(course, description)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            changed.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return changed


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m filmkit.course.authoring",
        description="Write assignments/source/*/*.ipynb from assignments/authoring/*.py.",
    )
    parser.add_argument("--course", type=Path, default=None, help="the course folder")
    parser.add_argument(
        "--check", action="store_true", help="only report notebooks that are out of date"
    )
    args = parser.parse_args(argv)
    changed = build_sources(args.course, check=args.check)
    verb = "out of date" if args.check else "written"
    for path in changed:
        print(f"{verb}: {path}")
    if not changed:
        print("every source notebook matches its description")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_cli())
