"""nbgrader's sanitize pass takes the prefetch's sanitized notebook only when nothing changed.

``ReuseSanitized`` stands in for the sanitize preprocessors before the trailing
``CheckCellMetadata``: a notebook the prefetch sanitized is taken as it is when the submitted
file's bytes and the resources the sanitizers read are the same; otherwise the sanitizers run
again, as in stock nbgrader. The whole path is also covered by the score-equality tests of
``test_grade_fast.py``; these pin the decision itself."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)

from filmkit.grading.fastgrade import ReuseSanitized, Sanitized, _split_checks, file_digest


class Recorder:
    """A sanitizer that marks the notebook it ran on."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.calls += 1
        nb.metadata["sanitized_here"] = True
        return nb, resources


class Driver:
    def __init__(self) -> None:
        self.sanitized: dict[tuple[str, str], Sanitized] = {}
        self.recorder = Recorder()

    def sanitizers(self) -> list[Any]:
        return [self.recorder]


@pytest.fixture
def submitted(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    nb = new_notebook(cells=[new_code_cell("answer = 42")])
    path = tmp_path / "essay.ipynb"
    nbformat.write(nb, path)
    resources = {
        "metadata": {"path": str(tmp_path)},
        "unique_key": "essay",
        "nbgrader": {"student": "ada", "notebook": "essay", "assignment": "01"},
    }
    return path, resources


def run(driver: Driver, path: Path, resources: dict[str, Any]) -> Any:
    ReuseSanitized.driver = driver  # type: ignore[assignment]
    try:
        nb = nbformat.read(path, as_version=4)
        out, _ = ReuseSanitized().preprocess(nb, copy.deepcopy(resources))
        return out
    finally:
        ReuseSanitized.driver = None


def prefetched(driver: Driver, path: Path, resources: dict[str, Any]) -> Any:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["from_prefetch"] = True
    driver.sanitized[("ada", "essay")] = Sanitized(
        file_digest(path), copy.deepcopy(resources["nbgrader"]), nb
    )
    return nb


def test_an_unchanged_file_takes_the_prefetched_notebook(
    submitted: tuple[Path, dict[str, Any]],
) -> None:
    path, resources = submitted
    driver = Driver()
    kept = prefetched(driver, path, resources)
    assert run(driver, path, resources) is kept
    assert driver.recorder.calls == 0
    assert driver.sanitized == {}  # taken once: a second pass would sanitize afresh


def test_a_file_changed_after_the_prefetch_is_sanitized_again(
    submitted: tuple[Path, dict[str, Any]],
) -> None:
    path, resources = submitted
    driver = Driver()
    prefetched(driver, path, resources)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "answer = 41"
    nbformat.write(nb, path)
    out = run(driver, path, resources)
    assert driver.recorder.calls == 1
    assert out.metadata.get("sanitized_here") and "from_prefetch" not in out.metadata
    assert out.cells[0].source == "answer = 41"


def test_other_resources_mean_a_fresh_sanitize(submitted: tuple[Path, dict[str, Any]]) -> None:
    path, resources = submitted
    driver = Driver()
    prefetched(driver, path, resources)
    other = copy.deepcopy(resources)
    other["nbgrader"]["assignment"] = "02"
    assert run(driver, path, other).metadata.get("sanitized_here")
    assert driver.recorder.calls == 1


def test_without_a_prefetch_the_sanitizers_run(submitted: tuple[Path, dict[str, Any]]) -> None:
    path, resources = submitted
    driver = Driver()
    assert run(driver, path, resources).metadata.get("sanitized_here")


def test_only_trailing_metadata_checks_stay_in_nbgrader_pass() -> None:
    stock = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
    assert _split_checks(stock) == (stock[:-1], [CheckCellMetadata])
    # a check in the middle, or a preprocessor named by a string: nothing is reused
    middle = [ClearOutput, CheckCellMetadata, OverwriteCells, CheckCellMetadata]
    assert _split_checks(middle) == ([], middle)
    named = ["nbgrader.preprocessors.ClearOutput", CheckCellMetadata]
    assert _split_checks(named) == ([], named)
