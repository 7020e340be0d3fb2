"""filmkit.tracebacks: the same traceback text as IPython's, without parsing dropped frames.

Each case raises through a different shape of stack (frames IPython renders with context, the
long files it prints raw, recursion it collapses, chained errors, a callback called back from
pandas) and formats it twice with IPython's own ``AutoFormattedTB``: once with stack_data's
``FrameInfo`` and once with :class:`filmkit.tracebacks.LazyFrameInfo`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stack_data
import stack_data.core
from IPython.core import ultratb

from filmkit import tracebacks

# the student's side of each stack: a small module of its own, so its frames are the ones
# IPython renders with their lines around them
STUDENT = """
import pandas as pd


def missing_column():
    frame = pd.DataFrame({"review": ["a", "b"]})
    return frame["reviews"]


def helper(n):
    if n == 0:
        raise ValueError("deep enough")
    return helper(n - 1)


def recursion():
    return helper(40)


def chained():
    try:
        {}["film"]
    except KeyError as error:
        raise RuntimeError("while looking up the film") from error


def callback():
    frame = pd.DataFrame({"words": [1, 2, 3]})
    return frame["words"].apply(lambda n: n / (n - 2))
"""


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("student")
    (folder / "student_cell.py").write_text(textwrap.dedent(STUDENT))
    sys.path.insert(0, str(folder))
    try:
        import student_cell

        yield student_cell
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("student_cell", None)


def _formatted(raiser: Callable[[], object]) -> str:
    formatter = ultratb.AutoFormattedTB(mode="Context", theme_name="nocolor")
    try:
        raiser()
    except Exception as error:
        return "\n".join(formatter.structured_traceback(type(error), error, error.__traceback__))
    raise AssertionError("the case did not raise")


CASES = ["missing_column", "recursion", "chained", "callback"]


@pytest.mark.parametrize("case", CASES)
def test_the_text_is_ipythons_own(case: str, student: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    raiser = getattr(student, case)
    monkeypatch.setattr(stack_data, "FrameInfo", stack_data.core.FrameInfo)
    stock = _formatted(raiser)
    tracebacks.install()
    assert stack_data.FrameInfo is tracebacks.LazyFrameInfo
    lazy = _formatted(raiser)
    assert lazy == stock
    assert "student_cell.py" in lazy  # the student's frames are rendered, with their lines


def test_a_long_file_ipython_prints_raw_is_never_parsed(
    student: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    original = stack_data.core.Source.for_filename.__func__  # type: ignore[attr-defined]

    def recording(cls: type, filename: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(filename)
        return original(cls, filename, *args, **kwargs)

    monkeypatch.setattr(stack_data.core.Source, "for_filename", classmethod(recording))

    def forget_parsed() -> None:  # executing's caches, kept on the class, from earlier tests
        for cache in ("__executing_cache", "__source_cache_with_lines"):
            monkeypatch.setattr(stack_data.core.Source, cache, {}, raising=False)

    frame_py = str(Path(sys.modules["pandas.core.frame"].__file__ or ""))
    long_enough = len(Path(frame_py).read_text().splitlines()) > ultratb.FAST_THRESHOLD
    assert long_enough, "pandas/core/frame.py no longer long enough to be printed raw"

    monkeypatch.setattr(stack_data, "FrameInfo", stack_data.core.FrameInfo)
    forget_parsed()
    stock = _formatted(student.missing_column)
    assert frame_py in parsed  # what the lazy frames save: stack_data parses it, IPython drops it
    parsed.clear()
    forget_parsed()
    tracebacks.install()
    lazy = _formatted(student.missing_column)
    assert lazy == stock
    assert frame_py not in parsed
    assert any(name.endswith("student_cell.py") for name in parsed)
    assert f"File {frame_py}" in lazy  # and it is still in the traceback, printed raw


def test_the_history_keeps_the_traceback_shown_not_a_second_one() -> None:
    # in a process of its own: make_shell makes this process's one IPython shell
    script = textwrap.dedent(
        """
        import json
        from filmkit import capture
        shell = capture.make_shell()
        calls = []
        formatter = shell.InteractiveTB.structured_traceback
        shell.InteractiveTB.structured_traceback = lambda *a, **k: calls.append(1) or formatter(*a, **k)
        shell.run_cell("import pandas as pd\\npd.DataFrame({'a': [1]})['b']", store_history=True)
        shown = capture.SINK.outputs[-1]
        stored = shell.history_manager.exceptions[1]
        print(json.dumps([len(calls), shown["ename"], stored["ename"], shown["traceback"] == stored["traceback"]]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == '[1, "KeyError", "KeyError", true]'


def test_warm_parses_a_module_before_the_fork_so_children_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from filmkit.kernel import marking

    for cache in ("__executing_cache", "__source_cache_with_lines"):
        monkeypatch.setattr(stack_data.core.Source, cache, {}, raising=False)
    tracebacks.install()
    tracebacks.warm(modules=["filmkit.kernel.marking", "not.a.loaded.module"])
    parsed: list[str] = []
    original = stack_data.core.Source.__init__

    def recording(self: Any, filename: str, *args: Any, **kwargs: Any) -> None:
        parsed.append(filename)
        original(self, filename, *args, **kwargs)

    monkeypatch.setattr(stack_data.core.Source, "__init__", recording)
    text = _formatted(lambda: marking.same_value(1, 2, name="answer"))
    assert "AssertionError" in text
    assert f"File {marking.__file__}" in text  # its frame is shown, with its lines
    assert marking.__file__ not in parsed
