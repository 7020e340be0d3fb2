"""What students' feedback says: nbgrader preprocessors for ``GenerateFeedback``.

**Hidden tests stay hidden** (nbgrader issue #917, open in 0.9.6). Autograde puts the *source*
version of every locked cell back into ``autograded/`` (its checksum differs from the released
one, so ``OverwriteCells`` restores it from the gradebook), and feedback is rendered from there.
Stock feedback therefore shows the hidden tests and their ``### BEGIN HIDDEN TESTS`` lines, and a
failing hidden test's traceback quotes the hidden code (IPython prints the lines around the
failing one, so even a failure on a visible line can show the hidden block).
:class:`ClearHiddenTestsAndTracebacks` is nbgrader's ``ClearHiddenTests`` plus: in every code
cell whose hidden region it removed, each error output's traceback is replaced by a message that
never quotes the hidden code.

**Failures say what failed** (:func:`classify`). The autograded test cell still holds the hidden
region, and the traceback names the line of the cell that raised (``Cell In[6], line 7`` and the
``---->`` line under it; ANSI colours ignored). A line inside the hidden region is a hidden
test's failure, any other a visible check's; a ``NameError`` on a name the visible code uses is
an answer that was never defined. Each message names the question (:func:`question_labels`):

    Question 2 · label_range: the visible check failed.
    Question 4 · hedged_horror: the visible check passed, but a hidden test failed.
    Question 1 · genre_counts: genre_counts was never defined (its answer cell stopped with
    NotImplementedError), so it could not be checked.

Cells without hidden tests keep their traceback (it quotes only code the student has), under the
same one-line message.

**Answers not yet marked say so** (:class:`QuestionsAndMarking`): a manually graded cell whose
grade needs a manual score and has none (:func:`awaiting_marking`) is flagged in its metadata and
its points are counted in ``resources["nbgrader"]["awaiting_points"]``, so that the course's
feedback template (``feedback.html.j2`` beside this module, which extends nbgrader's) shows
"awaiting marking" instead of a score of 0 and leaves those points out of the total.

``assignments/nbgrader_config.py`` names both by their import path, so stock ``nbgrader
generate_feedback`` uses them too::

    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "filmkit.course.feedback_scrub.QuestionsAndMarking",
        "filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",
        "nbgrader.preprocessors.ClearMarkScheme",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]

They touch only the rendered copy: ``autograded/`` and formgrader keep everything for the marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool, Unicode

FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "filmkit.course.feedback_scrub.QuestionsAndMarking",
    "filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)
FEEDBACK_TEMPLATE: Final = Path(__file__).with_name("feedback.html.j2")

# "**Question 3 (2 points).**" at the start of a line of a read-only markdown cell
QUESTION: Final = re.compile(
    r"^[ \t>]*(?:\*\*|__)\s*Question\s+(\d+[a-z]?)(?![A-Za-z0-9])", re.I | re.M
)
ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# the frame of the cell itself: IPython ≥ 8.4, 8.0–8.3, 7
CELL_FRAME: Final = re.compile(
    r"^(?:Cell In ?\[\d*\], line (\d+)|Input In ?\[\d*\], in <cell line: (\d+)>|<ipython-input-)",
    re.M,
)
ARROW: Final = re.compile(r"^-*>\s*(\d+)(?: (.*))?$", re.M)
UNDEFINED: Final = re.compile(r"name '([^']+)' is not defined")
EVALUE_CHARS: Final = 120  # of the answer cell's error quoted in the undefined message

Part = Literal["visible", "hidden", "undefined", "unknown"]


# ---------------------------------------------------------------------------------------------
# Which question a cell belongs to


@dataclass(frozen=True)
class Question:
    """The question a grade or answer cell belongs to."""

    number: str | None  # "3", from the nearest "**Question 3" above; None before any
    name: str  # the answer's grade_id (a test cell's answer: the answer cell above it)
    answer: str | None  # grade_id of that answer cell, when there is one

    @property
    def label(self) -> str:
        """``Question 3 · horror_kwic``; the name alone before any question."""
        return f"Question {self.number} · {self.name}" if self.number else self.name


def _meta(cell: Any) -> Mapping[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, Mapping) else {}


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def questions(cells: Iterable[Any]) -> dict[str, Question]:
    """grade_id → :class:`Question` for every grade, answer and task cell, in notebook order.

    A question starts at a read-only markdown cell (nbgrader ``locked``, not an answer) with a
    line starting ``**Question N`` (the last such line if it has several) and runs to the next.
    Only read-only cells count: students can write anything in the others. A cell's name is the
    grade_id of the question's answer cell above it (so ``test_horror_kwic`` is named
    ``horror_kwic``), else its own grade_id without a ``test_`` prefix.
    """
    found: dict[str, Question] = {}
    number: str | None = None
    answer: str | None = None
    for cell in cells:
        meta = _meta(cell)
        if cell.get("cell_type") == "markdown" and meta.get("locked") and not meta.get("solution"):
            numbers = QUESTION.findall(_source(cell))
            if numbers:
                number, answer = numbers[-1], None
        grade_id = meta.get("grade_id")
        if not grade_id or not (meta.get("grade") or meta.get("solution") or meta.get("task")):
            continue
        grade_id = str(grade_id)
        if meta.get("solution"):
            answer = grade_id
        found[grade_id] = Question(number, answer or grade_id.removeprefix("test_"), answer)
    return found


def question_labels(cells: Iterable[Any]) -> dict[str, str]:
    """grade_id → ``Question N · name`` (see :func:`questions`)."""
    return {grade_id: q.label for grade_id, q in questions(cells).items()}


# ---------------------------------------------------------------------------------------------
# Which part of a test cell failed


@dataclass(frozen=True)
class Failure:
    """What an error output of a test cell says about the cell."""

    part: Part
    lineno: int | None = None  # 1-based, in the cell's full source
    line: str = ""  # the failing line, when it is visible code
    name: str = ""  # the name never defined, for "undefined"


def hidden_line_numbers(source: str, begin: str, end: str) -> set[int]:
    """1-based numbers of the lines from each ``begin`` delimiter to its ``end``, both included
    (nbgrader's ``ClearHiddenTests`` splits the source on newlines the same way)."""
    hidden: set[int] = set()
    inside = False
    for number, line in enumerate(source.split("\n"), 1):
        if begin in line:
            inside = True
        if inside:
            hidden.add(number)
        if end in line:
            inside = False
    return hidden


def failing_line(traceback: Sequence[str]) -> tuple[int, str | None] | None:
    """(line number, code or None) of the line of the cell that raised, from IPython's traceback.

    The outermost frame is the cell's: its header (``Cell In[6], line 7``) and, under it, the
    ``---->`` line quoting the code. None when there is no cell frame (a timeout, a kill).
    """
    text = ANSI.sub("", "\n".join(str(line) for line in traceback))
    frame = CELL_FRAME.search(text)
    if frame is None:
        return None
    header = frame.group(1) or frame.group(2)
    following = CELL_FRAME.search(text, frame.end())
    arrow = ARROW.search(text, frame.end(), following.start() if following else len(text))
    if arrow:
        return int(arrow.group(1)), arrow.group(2)
    return (int(header), None) if header else None


def classify(
    source: str,
    output: Mapping[str, Any],
    *,
    begin: str = "BEGIN HIDDEN TESTS",
    end: str = "END HIDDEN TESTS",
    answer: str | None = None,
) -> Failure:
    """Which part of a test cell (``source``, hidden region included) an error ``output`` of it
    came from: ``visible``, ``hidden``, ``undefined`` (a ``NameError`` on a name the visible code
    uses, or on ``answer``) or ``unknown`` (no line of the cell in the traceback, or one that is
    not the cell's)."""
    lines = source.split("\n")
    hidden = hidden_line_numbers(source, begin, end)
    visible_code = "\n".join(line for n, line in enumerate(lines, 1) if n not in hidden)
    if output.get("ename") == "NameError":
        undefined = UNDEFINED.search(str(output.get("evalue", "")))
        if undefined and (
            undefined.group(1) == answer
            or re.search(rf"(?<![\w.]){re.escape(undefined.group(1))}\b", visible_code)
        ):
            return Failure("undefined", name=undefined.group(1))
    located = failing_line(output.get("traceback") or [])
    if located is None:
        return Failure("unknown")
    lineno, code = located
    # IPython drops a cell's leading blank lines before it runs it, and numbers what is left
    lineno += next((n for n, line in enumerate(lines) if line.strip()), 0)
    if code is not None and not (
        0 < lineno <= len(lines) and lines[lineno - 1].strip() == code.strip()
    ):
        # the quoted code is the truth: find it in the cell, once, or give up
        matches = [n for n, line in enumerate(lines, 1) if line.strip() == code.strip()]
        if len(matches) != 1:
            return Failure("unknown")
        lineno = matches[0]
    if not 0 < lineno <= len(lines):
        return Failure("unknown")
    if lineno in hidden:
        return Failure("hidden", lineno)
    return Failure("visible", lineno, lines[lineno - 1].strip())


# ---------------------------------------------------------------------------------------------
# The preprocessors


def awaiting_marking(needs_manual_grade: object, manual_score: object) -> bool:
    """A manually graded cell no one has marked: nbgrader says it needs a manual grade, and no
    manual score is recorded. (Formgrader clears the flag when a marker saves a score.)"""
    if manual_score is not None and manual_score == manual_score:  # NaN is no score
        return False
    return bool(needs_manual_grade)


class QuestionsAndMarking(NbGraderPreprocessor):  # type: ignore[misc]  # nbgrader is untyped
    """Name each grade cell's question, and flag the manually graded cells not yet marked.

    Run after nbgrader's ``GetGrades``. Sets, on every grade, answer and task cell,
    ``metadata.nbgrader.question`` (``Question 3 · horror_kwic``, :func:`questions`), and on a
    grade cell awaiting a marker (:func:`awaiting_marking`, read from the gradebook)
    ``metadata.nbgrader.awaiting_marking = True``. Adds to ``resources["nbgrader"]``:
    ``awaiting_points`` (their points, 0 when none) and ``awaiting_marking`` (their labels).
    Without a gradebook in the resources (a notebook rendered on its own) nothing is flagged.
    """

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        info = resources.setdefault("nbgrader", {})
        found = questions(nb.cells)
        unmarked = self._unmarked(info)
        awaiting: list[str] = []
        points = 0.0
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            grade_id = str(meta.get("grade_id", "")) if meta else ""
            if grade_id not in found:
                continue
            meta["question"] = found[grade_id].label
            if grade_id in unmarked and (meta.get("grade") or meta.get("task")):
                meta["awaiting_marking"] = True
                awaiting.append(found[grade_id].label)
                points += unmarked[grade_id]
        info["awaiting_marking"] = awaiting
        info["awaiting_points"] = points
        return nb, resources

    def _unmarked(self, info: Mapping[str, Any]) -> dict[str, float]:
        """grade_id → points of this submission's grades awaiting a marker (from the gradebook)."""
        keys = ("db_url", "notebook", "assignment", "student")
        if not all(info.get(key) for key in keys):
            return {}
        from nbgrader.api import Gradebook

        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_submission_notebook(
                info["notebook"], info["assignment"], info["student"]
            )
            return {
                str(grade.name): float(grade.max_score or 0)
                for grade in notebook.grades
                if awaiting_marking(grade.needs_manual_grade, grade.manual_score)
            }


class ClearHiddenTestsAndTracebacks(ClearHiddenTests):  # type: ignore[misc]  # nbgrader is untyped
    """``ClearHiddenTests``, and a message saying what failed on each test cell's error.

    In a cell that had hidden tests the traceback is replaced by the message (and, for a visible
    check, the failing line; for a hidden test or an unknown line, ``ename: evalue``, the
    ``evalue`` left out when it quotes a hidden line). In a grade cell without hidden tests the
    message goes above the traceback. Fields of the messages: ``question``, and ``name`` and
    ``because`` in :attr:`undefined_message`.
    """

    scrub_tracebacks = Bool(
        True,
        help="Replace the tracebacks of cells that contained hidden tests by a message saying "
        "what failed, and put that message above the tracebacks of the other grade cells.",
    ).tag(config=True)

    visible_message = Unicode(
        "{question}: the visible check failed.",
        help="A visible check (code the student can read) failed; in a cell with hidden tests the "
        "failing line and the error follow, in others the traceback.",
    ).tag(config=True)

    hidden_message = Unicode(
        "{question}: the visible check passed, but a hidden test failed.",
        help="A hidden test failed after the visible checks of its cell passed. The marking "
        "helpers of filmkit.kernel.marking raise messages that say what is wrong without the "
        "expected values; the error's message follows unless it quotes a hidden line.",
    ).tag(config=True)

    hidden_only_message = Unicode(
        "{question}: a hidden test failed.",
        help="A hidden test failed in a cell with no visible check before its hidden region.",
    ).tag(config=True)

    undefined_message = Unicode(
        "{question}: {name} was never defined{because}, so it could not be checked.",
        help="The answer the test reads was never defined (a NameError on a name the visible "
        "code uses). 'because' says what the question's answer cell did, when it is known.",
    ).tag(config=True)

    unknown_message = Unicode(
        "{question}: the test cell stopped with an error.",
        help="An error whose traceback names no line of the cell (a timeout, a killed run).",
    ).tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._questions = questions(nb.cells)
        self._answers = {
            str(_meta(cell).get("grade_id")): cell
            for cell in nb.cells
            if _meta(cell).get("solution")
        }
        done: tuple[Any, dict[str, Any]] = super().preprocess(nb, resources)
        return done

    def preprocess_cell(
        self, cell: Any, resources: dict[str, Any], cell_index: int
    ) -> tuple[Any, dict[str, Any]]:
        before = cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        meta = _meta(cell)
        had_hidden = cell.source != before
        if not (self.scrub_tracebacks and cell.cell_type == "code"):
            return cell, resources
        if not (had_hidden or meta.get("grade")):
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = self.explain(before, output, str(meta.get("grade_id", "")))
                original = [str(line) for line in output.get("traceback", [])]
                output["traceback"] = message if had_hidden else [message[0], *original]
        return cell, resources

    def explain(self, source: str, output: Mapping[str, Any], grade_id: str) -> list[str]:
        """The lines that replace the traceback of ``output`` (an error of the test cell
        ``grade_id``, whose full ``source`` holds the hidden region)."""
        question = getattr(self, "_questions", {}).get(grade_id)
        label = question.label if question else grade_id
        answer = question.answer if question else None
        failure = classify(
            source,
            output,
            begin=self.begin_test_delimeter,
            end=self.end_test_delimeter,
            answer=answer,
        )
        hidden = hidden_line_numbers(source, self.begin_test_delimeter, self.end_test_delimeter)
        error = _error_line(output, hidden_lines=[source.split("\n")[n - 1] for n in hidden])
        if failure.part == "undefined":
            because = _answer_state(getattr(self, "_answers", {}).get(answer))
            return [
                self.undefined_message.format(question=label, name=failure.name, because=because)
            ]
        if failure.part == "visible":
            return [self.visible_message.format(question=label), f"    {failure.line}", error]
        if failure.part == "hidden":
            checked = any(_is_code(line) for line in source.split("\n")[: min(hidden) - 1])
            message = self.hidden_message if checked else self.hidden_only_message
            return [message.format(question=label), error]
        return [self.unknown_message.format(question=label), error]


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _error_line(output: Mapping[str, Any], *, hidden_lines: Sequence[str]) -> str:
    """``ename: evalue``; ``ename`` alone when the value quotes a line of the hidden region."""
    ename = str(output.get("ename") or "Error")
    evalue = ANSI.sub("", str(output.get("evalue") or "")).strip()
    flat = " ".join(evalue.split())
    quotes_hidden = any(
        len(line.strip()) >= 8 and " ".join(line.split()) in flat for line in hidden_lines
    )
    return f"{ename}: {evalue}" if evalue and not quotes_hidden else ename


def _answer_state(cell: Any) -> str:
    """What the question's answer cell (the student's own code) did, for the undefined message."""
    if cell is None or cell.get("cell_type") != "code":
        return ""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            ename = str(output.get("ename") or "an error")
            evalue = " ".join(ANSI.sub("", str(output.get("evalue") or "")).split())
            if len(evalue) > EVALUE_CHARS:
                evalue = evalue[: EVALUE_CHARS - 1] + "…"
            return f" (its answer cell stopped with {ename}{': ' + evalue if evalue else ''})"
    return " (its answer cell ran without defining it: check the spelling of the name)"


__all__ = [
    "FEEDBACK_PREPROCESSORS",
    "FEEDBACK_TEMPLATE",
    "ClearHiddenTestsAndTracebacks",
    "Failure",
    "Question",
    "QuestionsAndMarking",
    "awaiting_marking",
    "classify",
    "failing_line",
    "hidden_line_numbers",
    "question_labels",
    "questions",
]
