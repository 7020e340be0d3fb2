"""filmkit.lessons: how lessons are found and executed (on small notebooks built here)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from filmkit.lessons import LessonExecutionError, execute_lessons, is_clean, lesson_paths


def notebook(path: Path, *sources: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, path)
    return path


def test_lessons_are_numbered_notebooks_in_order(tmp_path: Path) -> None:
    for name in ("01-genre-shifts.ipynb", "00-orientation.ipynb", "scratch.ipynb", "2-bad.ipynb"):
        notebook(tmp_path / "course" / name, "1")
    assert [p.name for p in lesson_paths(tmp_path)] == [
        "00-orientation.ipynb",
        "01-genre-shifts.ipynb",
    ]


def test_execution_writes_a_copy_and_leaves_the_lesson_clean(tmp_path: Path) -> None:
    lesson = notebook(
        tmp_path / "course" / "00-ok.ipynb",
        "from pathlib import Path\nprint(Path.cwd().name)",
    )
    (executed,) = execute_lessons(tmp_path / "out", paths=[lesson])
    assert is_clean(lesson) and not is_clean(executed.executed)
    result = nbformat.read(executed.executed, as_version=4)
    assert len(result.cells) == 1, "the warnings guard must not stay in the executed copy"
    assert result.cells[0].outputs[0]["text"].strip() == "course", "runs in the lesson's folder"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            "import warnings\nwarnings.warn('old API', DeprecationWarning)",
            "DeprecationWarning: old API",
        ),
        ("raise ValueError('broken cell')", "ValueError: broken cell"),
        ("import sys\nprint('careful', file=sys.stderr)", "wrote to stderr: cell 2: careful"),
    ],
)
def test_a_lesson_that_warns_fails_or_writes_stderr_fails(
    tmp_path: Path, source: str, reason: str
) -> None:
    lesson = notebook(tmp_path / "course" / "00-bad.ipynb", "x = 1", source)
    with pytest.raises(LessonExecutionError, match=r"00-bad\.ipynb") as error:
        execute_lessons(tmp_path / "out", paths=[lesson])
    assert reason in str(error.value)
    assert not (tmp_path / "out" / "00-bad.ipynb").exists()
