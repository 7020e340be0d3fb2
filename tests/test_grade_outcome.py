"""Grading outcomes on disk and the screening of notebooks nbgrader could not read."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from filmkit.grading.outcome import STATUSES, Outcome, outcomes_path, read_outcomes, write_outcomes
from filmkit.grading.screen import read_notebook


def test_outcomes_round_trip_and_replace_atomically(tmp_path: Path) -> None:
    outcomes = {
        s: Outcome(s, "a1", status, f"reason for {status}" if status != "graded" else "", "t")
        for s, status in zip(["ann", "bo", "ci"], STATUSES, strict=False)
    }
    path = write_outcomes(tmp_path, "a1", outcomes)
    assert path == outcomes_path(tmp_path, "a1")
    assert read_outcomes(tmp_path, "a1") == outcomes
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_unknown_status_and_broken_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown status"):
        Outcome("ann", "a1", "fine", "")
    path = outcomes_path(tmp_path, "a1")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=str(path)):
        read_outcomes(tmp_path, "a1")
    assert read_outcomes(tmp_path, "other") == {}


def _v4() -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    return nbformat.writes(nb).encode()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "is empty"),
        (_v4()[: len(_v4()) // 2], "looks truncated"),
        (b"print('hello')", "not valid notebook JSON"),
        ("{}".encode("utf-16"), "not UTF-8"),
        (b'{"cells": []}', "no nbformat version"),
        (json.dumps({"nbformat": 5, "nbformat_minor": 0, "cells": []}).encode(), "nbformat 5"),
        (_v4() + b" " * 2000, "over the"),
    ],
)
def test_unreadable_notebooks_are_named_with_the_reason(data: bytes, says: str) -> None:
    found = read_notebook(data, max_bytes=len(_v4()) + 1000)
    assert isinstance(found, str) and says in found


def test_a_v3_notebook_is_converted() -> None:
    v3 = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("x = 1")])]
    )
    found = read_notebook(nbformat.v3.writes_json(v3).encode())
    assert isinstance(found, dict) and found["nbformat"] == 4
    assert ["".join(c["source"]) for c in found["cells"]] == ["x = 1"]
