"""The filmkit command: help everywhere, the documented outputs and exit statuses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import click
import nbformat
import pytest
from click.testing import CliRunner

from filmkit.check import check_path
from filmkit.cli import main
from filmkit.corpus import Corpus
from filmkit.evidence import Status

from .conftest import REPO


def all_commands(group: click.Group) -> list[tuple[str, click.Command]]:
    return sorted(group.commands.items())


def test_every_command_has_help_text() -> None:
    assert main.help
    for name, command in all_commands(main):
        assert command.help and len(command.help) > 30, name
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{name} {param.opts}"


def test_corpus_lists_every_source(corpus: Corpus) -> None:
    result = CliRunner().invoke(main, ["corpus"])
    assert result.exit_code == 0
    for row in corpus.documents.itertuples():
        assert str(row.id) in result.output and str(row.words) in result.output


def test_quote_json_verified(corpus: Corpus) -> None:
    passage = "The mistakes make it human"
    result = CliRunner().invoke(
        main, ["quote", passage, "--source", "madness-music-genius", "--json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["status"] == "verified" and data["closest"] is None
    (match,) = data["matches"]
    text = corpus.text(match["source"])
    assert text[match["start"] : match["end"]] == match["text"] == passage


def test_quote_json_near_miss_exits_1(corpus: Corpus) -> None:
    result = CliRunner().invoke(
        main,
        ["quote", "Anton (Steven Weber) is demanding", "--source", "nothing-perfect", "--json"],
    )
    data = json.loads(result.output)
    assert result.exit_code == 1 and data["status"] in {"near-miss", "misattributed"}


def test_quote_unknown_source_exits_2_with_one_line() -> None:
    result = CliRunner().invoke(main, ["quote", "anything", "--source", "Roger Ebert"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Roger Ebert" in result.output


def write_notebook(path: Path, *markdown: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell('x = "not a quotation"')]
    notebook.cells += [nbformat.v4.new_markdown_cell(m) for m in markdown]
    nbformat.write(notebook, path)
    return path


def test_check_notebook_reports_cells_and_exit_status(tmp_path: Path) -> None:
    good = write_notebook(
        tmp_path / "good.ipynb", "“The mistakes make it human” (madness-music-genius)"
    )
    result = CliRunner().invoke(main, ["check", str(good), "--json"])
    assert result.exit_code == 0
    (row,) = json.loads(result.output)
    assert row["where"] == "cell 2, line 1" and row["status"] == "verified"

    bad = write_notebook(tmp_path / "bad.ipynb", "Fine.", '"Anton was kind" (perfection-explained)')
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 1 and "not-found" in result.output


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.ipynb", b'{"cells": [', "not a notebook"),
        ("latin1.md", "Charlotte\u2019s \u201cr\u00f4le\u201d".encode("cp1252"), "not UTF-8"),
        ("missing.md", None, "no such file"),
        # any text file read as markdown took 10 s on uv.lock and found 19 410 "quotations"
        ("uv.lock", b'version = 1\n[[package]]\nname = "a"\n', "not an essay or notes"),
    ],
)
def test_check_unreadable_input_exits_2(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert reason in result.output and name in result.output and result.output.count("\n") == 1


def test_sample_essay_shows_every_status() -> None:
    results = check_path(REPO / "course" / "sample-essay.md")
    assert {r.verdict.status for r in results} == set(Status)


# `filmkit demo` now runs a whole term in miniature: tests/test_grading_cycle.py runs it (twice,
# checking it gives the same result) and checks what it prints.


def test_installed_command_smoke() -> None:
    """The console script installed in the environment runs, outside click's test runner."""
    executable = shutil.which("filmkit")
    assert executable, "the filmkit console script is not installed in this environment"
    result = subprocess.run(
        [executable, "quote", "The mistakes make it human", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "verified"


def test_export_with_nothing_graded_says_so_and_writes_nothing(tmp_path: Path) -> None:
    from filmkit.course import release

    from .conftest import course_copy

    course = course_copy(tmp_path / "course", "01-genre-shifts")
    release.main(["01-genre-shifts"], course=course, validate=False)
    result = CliRunner().invoke(main, ["export", "--course", str(course)])
    assert result.exit_code == 2
    assert "nothing has been graded" in result.output and "filmkit grade" in result.output
    assert not list(course.glob("grades*.csv"))


def test_publish_hub_url_is_documented_and_a_bad_one_exits_1_before_any_lesson_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from filmkit import site

    help_text = CliRunner().invoke(main, ["publish", "--help"]).output
    assert "--hub-url URL" in help_text and "https://hub.example.edu" in help_text

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the lessons ran before the hub address was checked")

    monkeypatch.setattr(site, "execute_lessons", never)
    result = CliRunner().invoke(
        main, ["publish", "--out", str(tmp_path / "site"), "--hub-url", "hub.example.edu"]
    )
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        "filmkit publish: --hub-url 'hub.example.edu' has no https://: "
        "write --hub-url https://hub.example.edu"
    )
    assert not (tmp_path / "site").exists()
