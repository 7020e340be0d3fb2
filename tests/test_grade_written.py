"""What crosses back from a notebook's sandbox besides its outputs: the files it wrote (kept in
autograded/ as nbgrader keeps them, as data), and which notebooks the worker may run at all (its
kernel)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import nbformat
import pytest

from filmkit.grading.fastgrade import keep_written, kernel_problem
from filmkit.grading.pool import Limits, safe_relative, written_files
from filmkit.sandbox import executor

IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_sandbox_reports_only_files_the_notebook_created(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "given.csv").write_text("a,b\n")  # brought by the job
    (work / "side-effect.txt").write_text("written")
    (work / "out" / "deep").mkdir(parents=True)
    (work / "out" / "deep" / "fig.png").write_bytes(b"\x89PNG")
    (work / "link").symlink_to("/etc/hostname")  # never followed
    (work / "big.bin").write_bytes(b"x" * 5000)
    job = {"files": {"data/given.csv": b64(b"a,b\n")}, "max_written_bytes": 4096}
    record = executor.written_files(str(work), job)
    assert record["ev"] == "written"
    assert set(record["files"]) == {"side-effect.txt", "out/deep/fig.png"}
    assert base64.b64decode(record["files"]["side-effect.txt"]) == b"written"
    assert record["skipped"] == 1  # big.bin: over the bytes left
    few = executor.written_files(str(work), {**job, "max_written_files": 1})
    assert len(few["files"]) == 1 and few["skipped"] == 2


def test_the_grader_checks_what_the_sandbox_says_it_wrote() -> None:
    assert safe_relative("a/b.csv") == "a/b.csv"
    for bad in ("", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "a\nb", 5, None):
        assert safe_relative(bad) is None, bad
    limits = Limits(max_written_files=2, max_written_bytes=10)
    record = {
        "ev": "written",
        "files": {
            "ok.txt": b64(b"12345"),
            "../escape.txt": b64(b"x"),
            "not-base64.txt": "!!!",
            "second.txt": b64(b"12345"),
            "third.txt": b64(b"1"),  # over the count
        },
        "skipped": 3,
    }
    kept, dropped = written_files(record, limits)
    assert kept == {"ok.txt": b"12345", "second.txt": b"12345"}
    assert dropped == 3 + 3
    assert written_files({"files": "nope", "skipped": -1}, limits) == ({}, 0)
    over = {"files": {"a": b64(b"x" * 11)}}
    assert written_files(over, limits) == ({}, 1)  # bytes counted here, never believed


def test_written_files_land_beside_the_autograded_notebook_as_plain_data(tmp_path: Path) -> None:
    folder = tmp_path / "autograded" / "foo" / "ps1"
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("the instructor's\n")  # what nbgrader copied in stays
    (folder / "timestamp.txt").write_text("2015-02-02 15:58:23 UTC")
    (tmp_path / "outside").mkdir()
    (folder / "sneaky").symlink_to(tmp_path / "outside")
    files = {
        "side-effect.txt": b"kept",
        "plots/fig.svg": b"<svg/>",
        "data.csv": b"the student's\n",
        "timestamp.txt": b"2099-01-01 00:00:00 UTC",
        "p1.ipynb": b"{}",
        "other.ipynb": b"{}",
        "__pycache__/x.pyc": b"",
        "sneaky/escape.txt": b"through a link",
        "data.csv/inside": b"through a file",
    }
    left_out = keep_written(files, folder, IGNORE)
    assert (folder / "side-effect.txt").read_bytes() == b"kept"
    assert (folder / "plots" / "fig.svg").read_bytes() == b"<svg/>"
    assert (folder / "data.csv").read_text() == "the instructor's\n"
    assert (folder / "timestamp.txt").read_text() == "2015-02-02 15:58:23 UTC"
    assert not (folder / "p1.ipynb").exists() and not (folder / "other.ipynb").exists()
    assert not (folder / "__pycache__").exists()
    assert list((tmp_path / "outside").iterdir()) == []
    assert left_out == len(files) - 2
    assert not os.access(folder / "side-effect.txt", os.X_OK)  # data, never made runnable


def nb_with_kernel(name: str | None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    if name is not None:
        nb.metadata.kernelspec = {"display_name": name, "language": name, "name": name}
    return nb


def test_the_worker_runs_only_this_pythons_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernels = tmp_path / "share" / "kernels"
    (kernels / "ir").mkdir(parents=True)
    (kernels / "ir" / "kernel.json").write_text(
        json.dumps({"argv": ["R", "-f", "{connection_file}"], "display_name": "R", "language": "R"})
    )
    (kernels / "otherpy").mkdir()
    (kernels / "otherpy" / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["/opt/other-env/bin/python", "-m", "ipykernel_launcher", "-f", "{c}"],
                "display_name": "Other env",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share"))
    for ours in (None, "python", "python3"):
        assert kernel_problem(nb_with_kernel(ours)) == "", ours
    assert "not installed" in kernel_problem(nb_with_kernel("blarg"))
    assert "not the grading worker's Python" in kernel_problem(nb_with_kernel("ir"))
    assert "not the grading worker's Python" in kernel_problem(nb_with_kernel("otherpy"))
    # c.Execute.kernel_name, as nbgrader's Execute takes it, wins over the notebook's
    assert kernel_problem(nb_with_kernel("ir"), configured="python3") == ""
