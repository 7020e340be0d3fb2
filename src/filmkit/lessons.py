"""The lessons: numbered notebooks in ``course/``, executed top to bottom as CI and the site do.

A lesson is ``course/NN-short-name.ipynb`` (two digits, lowercase, hyphens), stored without
outputs. :func:`execute_lessons` runs each in a fresh kernel with nbclient, in its own folder
(``resources={"metadata": {"path": ...}}``), with Python warnings turned into errors, and writes
the executed copy elsewhere: the stored notebooks are never modified.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from filmkit.paths import project_root

LESSON_NAME = re.compile(r"^(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")
DEFAULT_TIMEOUT = 300  # seconds per cell
# Run before the lesson's first cell and removed from the executed copy: a lesson that triggers a
# warning (a deprecated pandas call, a plotly misuse) fails here instead of in front of a class.
# ipykernel's own shutdown handler warns about itself; that is the kernel's, not the lesson's.
_WARNINGS_AS_ERRORS = (
    "import warnings as _w\n"
    "_w.simplefilter('error')\n"
    "_w.filterwarnings('ignore', category=PendingDeprecationWarning, module=r'ipykernel\\.')\n"
    "del _w"
)
_INJECTED = "filmkit-injected"


class LessonExecutionError(RuntimeError):
    """A lesson failed to run top to bottom."""


@dataclass(frozen=True)
class ExecutedLesson:
    source: Path
    executed: Path
    seconds: float


def course_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "course"


def lesson_paths(root: Path | None = None) -> list[Path]:
    """The lesson notebooks, in order."""
    return sorted(p for p in course_dir(root).glob("*.ipynb") if LESSON_NAME.match(p.name))


def execute_lesson(path: Path, out_dir: Path, *, timeout: int = DEFAULT_TIMEOUT) -> ExecutedLesson:
    """Execute one lesson in a fresh kernel; write the executed copy to ``out_dir/<name>``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    started = time.perf_counter()
    notebook = nbformat.read(path, as_version=4)
    guard = nbformat.v4.new_code_cell(_WARNINGS_AS_ERRORS, metadata={"tags": [_INJECTED]})
    notebook.cells.insert(0, guard)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
        # ipykernel >= 7.4 otherwise prints a notice about unencrypted local TCP on every start
        config=Config({"KernelManager": {"transport_encryption": "auto"}}),
    )
    try:
        client.execute()
    except CellExecutionError as error:
        raise LessonExecutionError(f"{path.name} failed: {_first_line(str(error))}") from error
    finally:
        notebook.cells = [c for c in notebook.cells if _INJECTED not in c.metadata.get("tags", [])]
    problems = list(_stderr_outputs(notebook))
    if problems:
        raise LessonExecutionError(f"{path.name} wrote to stderr: {problems[0]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / path.name
    nbformat.write(notebook, executed)
    return ExecutedLesson(path, executed, time.perf_counter() - started)


def execute_lessons(
    out_dir: Path,
    *,
    paths: Sequence[Path] | None = None,
    root: Path | None = None,
    jobs: int = 2,
    timeout: int = DEFAULT_TIMEOUT,
) -> list[ExecutedLesson]:
    """Execute every lesson (or ``paths``), ``jobs`` at a time, each in its own process."""
    lessons = list(paths) if paths is not None else lesson_paths(root)
    if jobs <= 1 or len(lessons) <= 1:
        return [execute_lesson(p, out_dir, timeout=timeout) for p in lessons]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute_lesson, p, out_dir, timeout=timeout) for p in lessons]
        return [f.result() for f in futures]


def _stderr_outputs(notebook: Any) -> list[str]:
    found: list[str] = []
    for index, cell in enumerate(notebook.cells, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(f"cell {index}: {_first_line(str(output.get('text', '')))}")
    return found


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_line(text: str) -> str:
    lines = [line for line in _ANSI.sub("", text).strip().splitlines() if line.strip()]
    # nbclient's message ends with the exception line, the most telling one
    return lines[-1][:300] if lines else text[:300]


def is_clean(path: Path) -> bool:
    """A stored notebook has no outputs and no execution counts."""
    notebook = nbformat.read(path, as_version=4)
    return all(
        not cell.get("outputs") and cell.get("execution_count") is None
        for cell in notebook.cells
        if cell.cell_type == "code"
    )
