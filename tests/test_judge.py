"""The judge: which names a test reads, and tests run on data in a process that never ran
student code (filmkit.judge, routed by filmkit.grading.pool), with cells built in code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from filmkit.grading.pool import Limits, NotebookJob, RunResult, WorkerPool, cells_for_job
from filmkit.judge.names import free_names


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ("assert answer == 3", {"answer"}),
        ("_x = answer + 1\nassert _x > 0", {"answer"}),  # _x is the cell's own
        ("assert _x > 0\n_x = 1", {"_x"}),  # read before it is bound: the namespace's
        ("ok = [s for s in ids if s in wanted]", {"ids", "wanted"}),  # s is the comprehension's
        ("def check(v):\n    return v == expected\ncheck(answer)", {"answer", "expected"}),
        ("import re\nassert re.match('a', text)", {"text"}),
        ("assert len(list(answer)) == 2", {"answer"}),  # builtins are the judge's own
        # magics are transformed first; what a magic's own text reads is not seen
        ("%time total = 1\nprint(values)", {"get_ipython", "values"}),
        ("for k in keys:\n    print(k, table[k])", {"keys", "table"}),
        ("total += 1", {"total"}),
        ("this is not python (", set()),
    ],
)
def test_free_names(source: str, reads: set[str]) -> None:
    assert set(free_names(source)) == reads


def _test_cell(grade_id: str, source: str, points: float = 1) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": grade_id,
        "points": points,
        "schema_version": 3,
    }
    return cell


def _run(pool: WorkerPool, *cells: nbformat.NotebookNode) -> RunResult:
    nb = new_notebook(cells=list(cells))
    return pool.submit(NotebookJob(cells_for_job(nb), {})).result()


def _errors(result: RunResult, index: int) -> list[str]:
    outputs = result.cells[index]["outputs"]
    return [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]


def _text(result: RunResult, index: int) -> str:
    parts = []
    for output in result.cells[index]["outputs"]:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    limits = Limits(cell_timeout=10, grace=1, nb_timeout=60)
    with WorkerPool(jobs=1, limits=limits, log_dir=tmp_path_factory.mktemp("logs")) as made:
        yield made


@pytest.mark.slow
def test_a_test_runs_in_the_judge_on_the_students_data(pool: WorkerPool) -> None:
    result = _run(
        pool,
        new_code_cell("import pandas as pd\nframe = pd.DataFrame({'a': [1, 2]}, index=['x', 'y'])"),
        _test_cell(
            "t",
            "import os\nprint(type(frame).__name__, frame['a'].dtype, list(frame.index), os.getpid())\n"
            "### BEGIN HIDDEN TESTS\nassert frame.loc['y', 'a'] == 2\n### END HIDDEN TESTS",
        ),
    )
    assert result.status == "ok"
    assert result.judged == frozenset({1})
    assert _errors(result, 1) == []
    assert _text(result, 1).startswith("DataFrame int64 ['x', 'y']")


@pytest.mark.slow
def test_a_students_tampering_never_reaches_the_test(pool: WorkerPool) -> None:
    # the student replaces the answer key and pandas' comparison in their own process
    tamper = (
        "import filmkit.analysis, pandas as pd\n"
        "filmkit.analysis.term_counts = lambda *a, **k: 'forged'\n"
        "pd.DataFrame.equals = lambda self, other: True\n"
        "answer = 'forged'"
    )
    test = (
        "import filmkit.analysis, pandas as pd\n"
        "assert filmkit.analysis.term_counts is not None\n"
        "assert answer == filmkit.analysis.term_counts(['horror']).to_string(), 'wrong'"
    )
    result = _run(pool, new_code_cell(tamper), _test_cell("t", test))
    assert result.status == "ok"
    assert _errors(result, 1) == ["AssertionError: wrong"]


@pytest.mark.slow
def test_functions_are_called_in_the_sandbox_and_only_data_returns(pool: WorkerPool) -> None:
    student = (
        "def squares(n):\n"
        "    if n < 1:\n"
        "        raise ValueError('n must be positive')\n"
        "    print('called with', n)\n"
        "    return [i * i for i in range(1, n + 1)]\n"
        "def sneaky():\n"
        "    return object()"
    )
    result = _run(
        pool,
        new_code_cell(student),
        _test_cell("squares", "assert squares(3) == [1, 4, 9]\nprint('ok')"),
        _test_cell(
            "raises",
            "try:\n    squares(0)\nexcept ValueError as e:\n    print('raised', e)\nelse:\n    raise AssertionError('no error')",
        ),
        _test_cell("sneaky", "sneaky()"),
    )
    assert result.status == "ok"
    assert _errors(result, 1) == []
    assert "called with 3" in _text(result, 1) and "ok" in _text(result, 1)
    assert _text(result, 2) == "raised n must be positive\n"
    assert any("sneaky" in e and "not data" in e for e in _errors(result, 3))


@pytest.mark.slow
def test_the_students_functions_see_what_the_test_did_to_their_names(pool: WorkerPool) -> None:
    # as in a kernel, where test and student share one namespace: nbgrader's own example
    # deletes squares to check that sum_of_squares calls it
    student = (
        "limit = 2\n"
        "def squares(n):\n"
        "    return [i * i for i in range(1, n + 1)]\n"
        "def cubes(n):\n"
        "    return [i ** 3 for i in range(1, n + 1)]\n"
        "def total(n):\n"
        "    return sum(squares(n))\n"
        "def capped():\n"
        "    return squares(limit)"
    )
    deleted = (
        "kept = squares\ndel squares\ntry:\n    total(2)\nexcept NameError as e:\n"
        "    print('NameError', e)\nfinally:\n    squares = kept\nprint(total(2))"
    )
    result = _run(
        pool,
        new_code_cell(student),
        _test_cell("deleted", deleted),
        _test_cell("rebound", "squares = cubes\nprint(total(2))"),
        _test_cell("data", "limit = 3\nprint(capped())"),
        _test_cell("own", "squares = lambda n: [0]\ntotal(2)"),
        _test_cell("after", "print(total(2), capped())"),
    )
    assert result.status == "ok"
    assert _text(result, 1) == "NameError name 'squares' is not defined\n5\n"
    assert _text(result, 2) == "9\n"  # 1 + 8: total called the cubes the test put there
    assert _text(result, 3) == "[1, 4, 9]\n"
    (error,) = _errors(result, 4)
    assert error.startswith("TypeError: squares is bound in the test to the instructor's own code")
    # each call saw the test's changes only while it ran: the student's names are unchanged
    assert _text(result, 5) == "5 [1, 4]\n"


@pytest.mark.slow
def test_a_value_that_is_not_data_fails_with_a_message_naming_it(pool: WorkerPool) -> None:
    result = _run(
        pool,
        new_code_cell(
            "class Anything:\n    def __eq__(self, other):\n        return True\nanswer = Anything()"
        ),
        _test_cell("t", "assert answer == 42"),
    )
    (error,) = _errors(result, 1)
    assert error.startswith("TypeError: ") and "answer" in error and "DataFrame" in error


@pytest.mark.slow
def test_the_released_test_still_defines_its_names_for_later_cells(pool: WorkerPool) -> None:
    result = _run(
        pool,
        new_code_cell("x = 1"),
        _test_cell(
            "t",
            "import re\nassert x == 1\n### BEGIN HIDDEN TESTS\nimport json\n### END HIDDEN TESTS",
        ),
        new_code_cell("print(re.escape('a.b'))\nprint('json' in dir())"),
    )
    assert _text(result, 2) == "a\\.b\nFalse\n"  # the hidden test's import never ran there


def test_cells_for_job_keeps_hidden_tests_out_of_the_sandbox(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[
            _test_cell(
                "t",
                "assert a\n### BEGIN HIDDEN TESTS\nassert secret_check(a)\n### END HIDDEN TESTS",
            )
        ]
    )
    (cell,) = cells_for_job(nb)
    assert cell["judge"] is True
    assert cell["fetch"] == ["a", "secret_check"]
    assert "secret_check" not in cell["sandbox_source"] and "HIDDEN" not in cell["sandbox_source"]
    assert "secret_check" in cell["source"]  # the judge's


def test_what_a_students_kernel_imports_loads_nothing_of_the_grader() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, filmkit.kernel.marking as m\n"
        "m.evidence_marks([('the movie does a complete one-eighty', 'Glass')], points=1, need=1)\n"
        "print(sorted(n for n in sys.modules if n.startswith(('filmkit.grading', 'filmkit.judge',"
        " 'filmkit.sandbox', 'filmkit.course', 'nbgrader'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
