"""``filmkit feedback``: what students' feedback says, and what the command warns about.

The unit tests build notebooks in code (nbgrader's own test style) and run them in a real kernel,
so the tracebacks are IPython's, ANSI colours and all. The others grade the specimens of one
assignment once for the module and derive what each page must say from the gradebook, the
autograded notebooks and what the released (visible) tests do with each specimen, run in a
kernel as a student's Validate would: no expected message is pasted in.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from filmkit.cli import main as cli
from filmkit.course import feedback, release
from filmkit.course.feedback_scrub import (
    FEEDBACK_PREPROCESSORS,
    FEEDBACK_TEMPLATE,
    ClearHiddenTestsAndTracebacks,
    QuestionsAndMarking,
    classify,
    failing_line,
    question_labels,
    questions,
)
from filmkit.course.folder import Course, load_course
from filmkit.course.leaks import secrets_of
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import grade

from .conftest import REPO, course_copy

ASSIGNMENT = "01-genre-shifts"
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def meta(grade_id: str, **flags: Any) -> dict[str, Any]:
    base = {"grade": False, "solution": False, "locked": False, "task": False}
    return {"nbgrader": {**base, **flags, "grade_id": grade_id, "schema_version": 3}}


def question(grade_id: str, text: str) -> Any:
    return new_markdown_cell(text, metadata=meta(grade_id, locked=True))


def answer(grade_id: str, source: str) -> Any:
    return new_code_cell(source, metadata=meta(grade_id, solution=True))


def grade_cell(grade_id: str, visible: str, hidden: str = "", points: int = 1) -> Any:
    source = visible + (f"\n{HIDDEN[0]}\n{hidden}\n{HIDDEN[1]}" if hidden else "")
    return new_code_cell(source, metadata=meta(grade_id, grade=True, locked=True, points=points))


def run(nb: Any, folder: Path) -> Any:
    """Execute ``nb`` in a fresh python3 kernel, errors kept as outputs (as autograde does)."""
    from nbclient import NotebookClient
    from traitlets.config import Config

    NotebookClient(
        nb,
        kernel_name="python3",
        allow_errors=True,
        timeout=120,
        resources={"metadata": {"path": str(folder)}},
        config=Config({"KernelManager": {"transport_encryption": "auto"}}),
    ).execute()
    return nb


def errors(cell: Any) -> list[Any]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def flat(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Which question a cell belongs to


def test_questions_come_from_the_nearest_read_only_question_above() -> None:
    cells = [
        grade_cell("test_before", "assert True"),  # before any question: its own grade id
        question("q1", "**Question 1 (2 points).** Make `first`."),
        answer("first", "first = 1"),
        grade_cell("test_first", "assert first"),
        grade_cell("test_first_again", "assert first"),  # a second test cell of the same question
        # a cell students can edit (no nbgrader metadata) cannot start a question
        new_markdown_cell("**Question 9 (99 points).** my own notes"),
        question("part_b", "## Part B\n\nSome context.\n\n**Question 2 (1 point).** Say why."),
        new_markdown_cell(
            "**Question 7.** Written in an answer", metadata=meta("why", solution=True, grade=True)
        ),
        question("q3", "> **Question 3a (1 point).** Make `third`."),
        grade_cell(
            "test_third", "assert third"
        ),  # no answer cell in this question: name from its id
        new_markdown_cell("__Question 4__ (1 point)", metadata=meta("q4", locked=True)),
        answer("fourth", "fourth = 4"),
    ]
    labels = question_labels(cells)
    assert labels == {
        "test_before": "before",
        "first": "Question 1 · first",
        "test_first": "Question 1 · first",
        "test_first_again": "Question 1 · first",
        "why": "Question 2 · why",
        "test_third": "Question 3a · third",
        "fourth": "Question 4 · fourth",
    }
    assert questions(cells)["test_third"].answer is None
    assert questions(cells)["test_first"].answer == "first"


def test_every_question_of_the_course_is_named_once_with_its_number() -> None:
    """The course's own notebooks: every grade cell carries the number of its question; the
    numbers rise through the notebook and cover every question written in it."""
    for notebook in sorted((REPO / "assignments" / "source").glob("*/*.ipynb")):
        nb = nbformat.read(notebook, as_version=4)
        written = [
            int(n)
            for c in nb.cells
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("locked")
            for n in re.findall(r"^\W*Question (\d+)", c.source, re.M)
        ]
        labels = question_labels(nb.cells)
        graded = [
            str(c.metadata["nbgrader"]["grade_id"])
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        ]
        assert all(labels[g].startswith("Question ") for g in graded), notebook.name
        numbers = [int(labels[g].split()[1]) for g in graded]
        assert numbers == sorted(numbers) and sorted(set(numbers)) == written, notebook.name
        for g in graded:
            assert labels[g].endswith(" · " + g.removeprefix("test_")), (notebook.name, g)


# ---------------------------------------------------------------------------------------------
# Which part failed, from IPython's own tracebacks


@dataclass(frozen=True)
class Built:
    raw: Any  # as the kernel left it (what autograded/ holds)
    scrubbed: Any  # after the course's feedback preprocessors


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One notebook, run in a kernel: a question per way a test cell can fail."""
    folder = tmp_path_factory.mktemp("built")
    check = 'assert isinstance({0}, int), "{0}: should be an int"'
    secret = 'assert {0} == 42, "{0}: not the number the sources give"'
    nb = new_notebook(
        cells=[
            question("q1", "**Question 1 (1 point).** Make `passes`, an int."),
            answer("passes", "passes = 42"),
            grade_cell("test_passes", check.format("passes"), secret.format("passes")),
            question("q2", "**Question 2 (1 point).** Make `visible`, an int."),
            answer("visible", 'visible = "42"'),
            grade_cell("test_visible", check.format("visible"), secret.format("visible")),
            question("q3", "**Question 3 (1 point).** Make `hidden`, an int."),
            answer("hidden", "hidden = 41"),
            grade_cell("test_hidden", check.format("hidden"), secret.format("hidden")),
            question("q4", "**Question 4 (1 point).** Make `never`, an int."),
            answer("never", "# YOUR CODE HERE\nraise NotImplementedError()"),
            grade_cell("test_never", check.format("never"), secret.format("never")),
            question("q5", "**Question 5 (1 point).** Make `only`, an int."),
            answer("only", "only = 41"),
            grade_cell("test_only", "", secret.format("only")),  # hidden tests alone
            question("q6", "**Question 6 (1 point).** Make `open_check`, an int."),
            answer("open_check", 'open_check = "no"'),
            grade_cell("test_open_check", check.format("open_check")),  # no hidden tests
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    raw = run(nb, folder)
    scrubbed = nbformat.reads(nbformat.writes(raw), as_version=4)
    resources: dict[str, Any] = {"nbgrader": {}}
    for preprocessor in (QuestionsAndMarking(), ClearHiddenTestsAndTracebacks()):
        scrubbed, resources = preprocessor.preprocess(scrubbed, resources)
    return Built(raw, scrubbed)


def by_id(nb: Any) -> dict[str, Any]:
    return {
        str(c.metadata["nbgrader"]["grade_id"]): c for c in nb.cells if "nbgrader" in c.metadata
    }


def hidden_lines(cell: Any) -> list[str]:
    source = cell.source.split("\n")
    start, end = source.index(HIDDEN[0]), source.index(HIDDEN[1])
    return [line for line in source[start : end + 1] if line.strip()]


def hidden_lines_or_none(cell: Any) -> list[str]:
    return hidden_lines(cell) if HIDDEN[0] in cell.source else []


def test_the_tracebacks_are_ipythons_coloured_ones(built: Built) -> None:
    (error,) = errors(by_id(built.raw)["test_visible"])
    text = "\n".join(error["traceback"])
    assert "\x1b[" in text  # ANSI colours, as a kernel sends them
    # and the stock traceback of a visible failure quotes the hidden code: the reason to scrub
    assert any(
        line.split(",")[0] in text for line in hidden_lines(by_id(built.raw)["test_visible"])
    )


@pytest.mark.parametrize(
    ("grade_id", "part"),
    [
        ("test_visible", "visible"),
        ("test_hidden", "hidden"),
        ("test_never", "undefined"),
        ("test_only", "hidden"),
        ("test_open_check", "visible"),
    ],
)
def test_classify_maps_the_failing_line_to_its_region(
    built: Built, grade_id: str, part: str
) -> None:
    cell = by_id(built.raw)[grade_id]
    (error,) = errors(cell)
    failure = classify(cell.source, error, answer=grade_id.removeprefix("test_"))
    assert failure.part == part
    if part in ("visible", "hidden"):
        located = failing_line(error["traceback"])
        assert located is not None
        lineno, code = located
        assert failure.lineno is not None and lineno <= failure.lineno  # IPython drops blank lines
        assert cell.source.split("\n")[failure.lineno - 1].strip() == code
        in_hidden = cell.source.split("\n")[failure.lineno - 1] in hidden_lines_or_none(cell)
        assert in_hidden == (part == "hidden")
    if part == "undefined":
        assert failure.name == "never"
    assert not errors(by_id(built.raw)["test_passes"])


def test_each_message_says_what_failed_names_the_question_and_hides_the_tests(
    built: Built,
) -> None:
    raw, scrubbed = by_id(built.raw), by_id(built.scrubbed)
    labels = question_labels(built.raw.cells)

    def shown(grade_id: str) -> str:
        (error,) = errors(scrubbed[grade_id])
        return "\n".join(error["traceback"])

    for grade_id in ("test_visible", "test_hidden", "test_never", "test_only"):
        text = shown(grade_id)
        assert text.startswith(labels[grade_id] + ": "), text
        for line in hidden_lines(raw[grade_id]):
            assert line.strip() not in text, (grade_id, line)
        assert HIDDEN[0] not in scrubbed[grade_id].source
    (visible_error,) = errors(raw["test_visible"])
    assert "the visible check failed" in shown("test_visible")
    assert f"{visible_error['ename']}: {visible_error['evalue']}" in shown("test_visible")
    assert "isinstance(visible, int)" in shown("test_visible")  # the visible line that failed
    (hidden_error,) = errors(raw["test_hidden"])
    assert "the visible check passed, but a hidden test failed" in shown("test_hidden")
    assert hidden_error["evalue"] in shown("test_hidden")  # the test's message, not its code
    assert "a hidden test failed" in shown("test_only") and "visible" not in shown("test_only")
    (never_error,) = errors(raw["never"])
    assert shown("test_never") == (
        f"{labels['test_never']}: never was never defined (its answer cell stopped with "
        f"{never_error['ename']}), so it could not be checked."
    )
    # a cell without hidden tests keeps its traceback, under the message
    (kept,) = errors(raw["test_open_check"])
    (now,) = errors(scrubbed["test_open_check"])
    assert now["traceback"][1:] == kept["traceback"]
    assert now["traceback"][0] == f"{labels['test_open_check']}: the visible check failed."
    for grade_id, label in labels.items():
        assert scrubbed[grade_id].metadata["nbgrader"]["question"] == label


@pytest.mark.parametrize(
    ("traceback", "expected"),
    [
        (
            ["---", "Cell In[4], line 2\n      1 x = 1\n----> 2 assert x == 2\n"],
            (2, "assert x == 2"),
        ),
        (["Input In [4], in <cell line: 3>()\n      2 y = 1\n----> 3 assert y\n"], (3, "assert y")),
        (
            ["<ipython-input-4-1a2b3c> in <module>\n      1 z = 0\n----> 2 assert z\n"],
            (2, "assert z"),
        ),
        (["Cell In[4], line 5\n"], (5, None)),
        (["CellTimeoutError: the cell ran out of time"], None),
        (["File /x/marking.py:12, in f()\n---> 12 raise E\n"], None),  # no frame of the cell
    ],
)
def test_failing_line_reads_each_ipython_traceback_format(
    traceback: list[str], expected: tuple[int, str | None] | None
) -> None:
    assert failing_line(traceback) == expected


def test_a_quoted_line_that_is_not_the_cells_is_not_guessed_at() -> None:
    source = f"x = 1\n{HIDDEN[0]}\nassert x == 2\n{HIDDEN[1]}"
    output = {
        "ename": "AssertionError",
        "evalue": "",
        "traceback": ["Cell In[1], line 3\n----> 3 assert something_else\n"],
    }
    assert classify(source, output).part == "unknown"
    moved = {**output, "traceback": ["Cell In[1], line 1\n----> 1 assert x == 2\n"]}
    assert classify(source, moved).part == "hidden"  # the quoted code is found, once


# ---------------------------------------------------------------------------------------------
# The graded specimens


@dataclass(frozen=True)
class Graded:
    course: Course
    results: list[feedback.Feedback]
    visible_failures: Callable[[str], set[str]]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = course_copy(tmp_path_factory.mktemp("feedback") / "course", ASSIGNMENT)
    release.main([ASSIGNMENT], course=root, validate=False)
    course = load_course(root)
    for specimen in load_specimens(ASSIGNMENT):
        hand_in(course, specimen)
    grade.main(ASSIGNMENT, course=root)
    results = feedback.main(ASSIGNMENT, course=root)
    found: dict[str, set[str]] = {}
    scratch = tmp_path_factory.mktemp("validate")

    def visible_failures(student: str) -> set[str]:
        """The grade cells whose *released* tests fail on the student's notebook, run in a
        kernel as handed in (what Validate tells the student)."""
        if student not in found:
            (path,) = course.notebooks(ASSIGNMENT, "submitted", student)
            folder = scratch / student
            shutil.copytree(path.parent, folder)
            nb = run(nbformat.read(folder / path.name, as_version=4), folder)
            found[student] = {g for g, c in by_id(nb).items() if errors(c) and "test_" in g}
        return found[student]

    return Graded(course, results, visible_failures)


def source_notebook(course: Course) -> Any:
    (path,) = course.notebooks(ASSIGNMENT)
    return nbformat.read(path, as_version=4)


def page_html(course: Course, student: str) -> str:
    (page,) = course.notebooks(ASSIGNMENT, "feedback", student)
    return page.read_text(encoding="utf-8")


def page_text(course: Course, student: str) -> str:
    raw = re.sub(r"<(style|script)\b.*?</\1>", "", page_html(course, student), flags=re.S)
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def summary_links(course: Course, student: str) -> dict[str, str]:
    """grade_id → the text of the summary's link to that grade cell and what follows it."""
    toc = re.search(r'<div id="toc">(.*?)</div>', page_html(course, student), re.S)
    assert toc, "the summary is there"
    found = re.findall(r'<li><a href="#([^"]+)">([^<]*)</a>([^<]*)</li>', toc.group(1))
    return {
        href: flat(html.unescape(f"{text} {after}"))
        for href, text, after in found
        if not href.startswith("comment-")
    }


def gradebook_scores(course: Course) -> pd.DataFrame:
    scores = grade.scores(course, ASSIGNMENT)
    return scores.assign(awaiting=scores["needs_manual_grade"] & scores["manual_score"].isna())


def points(x: float) -> str:
    return f"{round(float(x), 2):g}"


@pytest.mark.slow
def test_each_failure_says_which_part_failed_and_names_its_question(graded: Graded) -> None:
    course = graded.course
    source = by_id(source_notebook(course))
    labels = question_labels(source_notebook(course).cells)
    with_hidden = {g for g, c in source.items() if HIDDEN[0] in c.source}
    scores = gradebook_scores(course).set_index(["student", "question"])
    said: dict[str, int] = {"visible": 0, "hidden": 0, "undefined": 0}
    for specimen in load_specimens(ASSIGNMENT):
        student = specimen.student
        text = page_text(course, student)
        (autograded,) = course.notebooks(ASSIGNMENT, "autograded", student)
        cells = by_id(nbformat.read(autograded, as_version=4))
        for grade_id in sorted(with_hidden):
            row = scores.loc[(student, grade_id)]
            label = labels[grade_id]
            if row["score"] == row["max_score"]:
                assert f"{label}: the" not in text and f"{label}: a hidden" not in text
                continue
            (error,) = errors(cells[grade_id])
            name = grade_id.removeprefix("test_")
            if error["ename"] == "NameError" and f"'{name}'" in error["evalue"]:
                kind, words = "undefined", f"{label}: {name} was never defined"
            elif grade_id in graded.visible_failures(student):
                kind, words = "visible", f"{label}: the visible check failed."
            else:
                kind, words = (
                    "hidden",
                    f"{label}: the visible check passed, but a hidden test failed.",
                )
            assert words in text, (student, grade_id)
            if kind != "undefined":
                assert flat(f"{error['ename']}: {error['evalue']}") in text, (student, grade_id)
            said[kind] += 1
    assert all(said.values()), said  # the specimens exercise every kind of failure


@pytest.mark.slow
def test_no_hidden_test_reaches_any_page(graded: Graded) -> None:
    (path,) = graded.course.notebooks(ASSIGNMENT)
    hidden = [s.text for s in secrets_of(path) if s.kind == "hidden test"]
    assert hidden
    for result in graded.results:
        text = page_text(graded.course, result.student)
        assert [line for line in hidden if flat(line) in text] == [], result.student
        assert "HIDDEN TESTS" not in text


@pytest.mark.slow
def test_summary_links_carry_the_question_numbers(graded: Graded) -> None:
    nb = source_notebook(graded.course)
    labels = question_labels(nb.cells)
    graded_ids = [
        str(c.metadata["nbgrader"]["grade_id"])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    for result in graded.results:
        links = summary_links(graded.course, result.student)
        assert list(links) == graded_ids  # one link per grade cell, in notebook order
        texts = [links[g] for g in graded_ids]
        assert len(set(texts)) == len(texts)  # no longer seven identical "Test cell" links
        for g in graded_ids:
            assert links[g].startswith(labels[g] + " (") and labels[g].startswith("Question ")
        assert "Test cell" not in "".join(texts)


@pytest.mark.slow
def test_unmarked_essays_await_marking_and_stay_out_of_the_total(graded: Graded) -> None:
    course = graded.course
    labels = question_labels(source_notebook(course).cells)
    scores = gradebook_scores(course)
    assert scores["awaiting"].any() and not scores["awaiting"].all()
    for student, mine in scores.groupby("student"):
        text = page_text(course, str(student))
        links = summary_links(course, str(student))
        waiting = mine[mine["awaiting"]]
        left_out = float(waiting["max_score"].sum())
        total = (
            f"(Score: {points(mine['score'].sum())} / {points(mine['max_score'].sum() - left_out)})"
        )
        assert total in text, student
        for row in mine.itertuples():
            entry = links[str(row.question)]
            if row.awaiting:
                assert f"awaiting marking, {points(row.max_score)} points" in entry
                assert "Score:" not in entry
            else:
                assert f"Score: {points(row.score)} / {points(row.max_score)}" in entry
        note = (
            f"{points(left_out)} points are awaiting marking by hand "
            f"({', '.join(labels[str(q)] for q in waiting['question'])}) and not in this total; "
            f"the notebook has {points(mine['max_score'].sum())} points in all."
        )
        assert (note in text) == bool(len(waiting)), student
        assert ("awaiting marking" in text) == bool(len(waiting)), student
        result = next(r for r in graded.results if r.student == student)
        assert [u.grade_id for u in result.awaiting] == list(waiting["question"])


def mark(course: Course, student: str, *, formgrader: bool) -> dict[str, float]:
    """Give each unmarked answer of ``student`` a manual score through nbgrader's Gradebook API
    (all its points but one); ``formgrader`` also clears needs_manual_grade, as formgrader does."""
    given: dict[str, float] = {}
    with course.gradebook() as gb:
        for notebook in gb.find_submission(ASSIGNMENT, student).notebooks:
            for g in notebook.grades:
                if g.needs_manual_grade and g.manual_score is None:
                    g.manual_score = float(g.max_score) - 1
                    if formgrader:
                        g.needs_manual_grade = False
                    given[str(g.name)] = g.manual_score
        gb.db.commit()
    assert given
    return given


def copy_course(course: Course, to: Path) -> Course:
    shutil.copytree(course.root, to)
    return load_course(to)


def unmarked_students(course: Course) -> list[str]:
    scores = gradebook_scores(course)
    return sorted(set(scores.loc[scores["awaiting"], "student"]))


@pytest.mark.slow
def test_once_marked_the_score_counts_and_the_note_goes(graded: Graded, tmp_path: Path) -> None:
    course = copy_course(graded.course, tmp_path / "course")
    before = unmarked_students(course)
    given = {s: mark(course, s, formgrader=s == before[0]) for s in before[:2]}
    results = feedback.main(ASSIGNMENT, course=course.root)
    scores = gradebook_scores(course)
    for student, marks in given.items():
        mine = scores[scores["student"] == student]
        text = page_text(course, student)
        assert "awaiting marking" not in text and "not in this total" not in text
        total = f"(Score: {points(mine['score'].sum())} / {points(mine['max_score'].sum())})"
        assert total in text
        links = summary_links(course, student)
        for grade_id, score in marks.items():
            maximum = float(mine.set_index("question").loc[grade_id, "max_score"])
            assert f"Score: {points(score)} / {points(maximum)}" in links[grade_id]
        assert next(r for r in results if r.student == student).awaiting == ()
    assert unmarked_students(course) == before[2:]


@pytest.mark.slow
def test_the_command_warns_with_the_counts(graded: Graded) -> None:
    course = graded.course
    students = course.students(ASSIGNMENT, "autograded")
    waiting = unmarked_students(course)
    answers = int(gradebook_scores(course)["awaiting"].sum())
    result = CliRunner().invoke(cli, ["feedback", ASSIGNMENT, "--course", str(course.root)])
    assert result.exit_code == 0, result.output
    warning = result.stderr
    assert warning.startswith("filmkit: warning: ") and warning.count("\n") == 1
    assert (
        f"{ASSIGNMENT}: {answers} manually graded answers are not marked yet, for "
        f"{len(waiting)} of {len(students)} students" in warning
    )
    labels = question_labels(source_notebook(course).cells)
    for label in {labels[q] for q in gradebook_scores(course).query("awaiting")["question"]}:
        assert f"{label} ({', '.join(waiting)})" in warning
    assert "formgrader" in warning and "filmkit lab --instructor" in warning
    assert "awaiting marking" in result.stdout  # the table's column


@pytest.mark.slow
def test_require_marked_refuses_and_writes_nothing_until_all_are_marked(
    graded: Graded, tmp_path: Path
) -> None:
    course = copy_course(graded.course, tmp_path / "course")
    shutil.rmtree(course.step_dir("feedback"))
    waiting = unmarked_students(course)
    args = ["feedback", ASSIGNMENT, "--course", str(course.root), "--require-marked"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("filmkit: feedback not written (--require-marked).")
    assert f"for {len(waiting)} of " in result.stderr and all(s in result.stderr for s in waiting)
    assert "Formgrader → Manual Grading" in result.stderr
    assert not course.step_dir("feedback").exists()
    with pytest.raises(feedback.UnmarkedError, match="not marked yet"):
        feedback.main(ASSIGNMENT, course=course.root, require_marked=True)
    assert not course.step_dir("feedback").exists()

    for student in waiting:
        mark(course, student, formgrader=True)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert course.students(ASSIGNMENT, "feedback") == course.students(ASSIGNMENT, "autograded")


# ---------------------------------------------------------------------------------------------
# The configuration


def test_the_course_config_uses_the_preprocessors_and_the_template() -> None:
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    config = load_course(REPO / "assignments").config
    assert tuple(config.GenerateFeedback.preprocessors) == FEEDBACK_PREPROCESSORS
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    assert exporter.template_name == "feedback"  # nbgrader's, which the course's extends
    assert Path(exporter.template.filename) == FEEDBACK_TEMPLATE
    from nbconvert import HTMLExporter

    assert HTMLExporter(config=config).template_file != FEEDBACK_TEMPLATE.name  # formgrader's own


@pytest.mark.slow
def test_the_pages_load_nothing_from_the_network(graded: Graded) -> None:
    # nbgrader's template would load MathJax from a CDN (a console error offline)
    for result in graded.results:
        page = page_html(graded.course, result.student)
        remote = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(https?:[^"]+)"', page)
        assert remote == [], result.student
        assert not re.search(r"<script[^>]*mathjax", page, re.I), result.student
        assert "x-mathjax-config" not in page, result.student  # its configuration went too
        assert "<title>" in page and "bootstrap" in page.lower()  # the rest of nbgrader's header
