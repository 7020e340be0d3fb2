"""``filmkit feedback``: per-student feedback HTML, checked for hidden tests and answer keys.

nbgrader's ``generate_feedback`` renders ``autograded/<student>/<assignment>/`` to
``feedback/<student>/<assignment>/<notebook>.html`` with the preprocessors and the template
configured in ``nbgrader_config.py`` (:mod:`filmkit.course.feedback_scrub`): hidden tests
removed (stock feedback shows them), each test cell's failure explained (the visible check, a
hidden test, or an answer never defined) and named by its question, and written answers no one
has marked yet shown as "awaiting marking", their points left out of the total.

Before rendering, the gradebook is read for the manually graded answers still unmarked
(:func:`unmarked`): each :class:`Feedback` lists its student's, and the command warns
(:func:`awaiting_message`). With ``require_marked`` nothing is written while any is unmarked
(:class:`UnmarkedError`). After rendering, each feedback file is searched for the source
notebooks' secret lines (text the student wrote in their own submission excepted): a file that
gives one away is deleted and :class:`FeedbackLeakError` names the leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from filmkit.course.feedback_scrub import (
    ClearHiddenTestsAndTracebacks as ClearHiddenTestsAndTracebacks,
)
from filmkit.course.feedback_scrub import (
    QuestionsAndMarking as QuestionsAndMarking,
)
from filmkit.course.feedback_scrub import awaiting_marking, question_labels
from filmkit.course.folder import (
    Course,
    GradingError,
    check_result,
    load_course,
    nbgrader_warnings,
)
from filmkit.course.leaks import describe_leaks, find_leaks, reader_text, secrets_of


class FeedbackLeakError(GradingError):
    """A feedback file shows a hidden test, a solution or an answer key."""


class UnmarkedError(GradingError):
    """Feedback was required to wait until every manually graded answer is marked."""


@dataclass(frozen=True)
class Unmarked:
    """A manually graded answer of one student that no one has marked yet."""

    student: str
    notebook: str
    grade_id: str
    question: str  # "Question 8 · essay_genre"
    points: float


@dataclass(frozen=True)
class Feedback:
    student: str
    assignment: str
    files: tuple[Path, ...]
    awaiting: tuple[Unmarked, ...] = ()  # shown as "awaiting marking", out of the total


def main(
    assignment: str,
    *,
    course: Path | None = None,
    students: Sequence[str] | None = None,
    require_marked: bool = False,
) -> list[Feedback]:
    """Generate feedback for the autograded submissions of ``assignment`` (or ``students``).

    ``require_marked``: raise :class:`UnmarkedError`, writing nothing, while any manually graded
    answer of those students is unmarked (by default their feedback says "awaiting marking").
    """
    loaded = load_course(course)
    loaded.require(assignment)
    wanted = loaded.select_students(
        assignment,
        "autograded",
        students,
        what="autograded submission",
        hint=f"run `filmkit grade {assignment}` first",
    )
    waiting = unmarked(loaded, assignment, wanted)
    if require_marked and waiting:
        raise UnmarkedError(
            "feedback not written (--require-marked). "
            + awaiting_message(assignment, waiting, students=len(wanted), refused=True)
        )
    api = loaded.api()
    for student in wanted:
        with nbgrader_warnings():
            check_result(
                api.generate_feedback(assignment, student, force=True),
                f"nbgrader generate_feedback for {student}'s {assignment}",
            )
    secrets = [s for nb in loaded.notebooks(assignment) for s in secrets_of(nb)]
    results: list[Feedback] = []
    for student in wanted:
        files = tuple(loaded.notebooks(assignment, "feedback", student))
        own = "\n".join(reader_text(p) for p in loaded.notebooks(assignment, "submitted", student))
        leaks = find_leaks(files, secrets, allowed=own)
        if leaks:
            for leak in {leak.path for leak in leaks}:
                leak.unlink()
            raise FeedbackLeakError(
                f"feedback for {student}'s {assignment} gave away {len(leaks)} secret line(s), so "
                f"it was deleted. Check GenerateFeedback.preprocessors in "
                f"{loaded.root / 'nbgrader_config.py'}:\n{describe_leaks(leaks)}"
            )
        mine = tuple(u for u in waiting if u.student == student)
        results.append(Feedback(student, assignment, files, mine))
    return results


def unmarked(course: Course, assignment: str, students: Sequence[str]) -> list[Unmarked]:
    """The manually graded answers of ``students`` no one has marked yet, from the gradebook
    (:func:`~filmkit.course.feedback_scrub.awaiting_marking`), in student and notebook order."""
    from nbgrader.api import MissingEntry

    labels = {
        nb.stem: question_labels(nbformat.read(nb, as_version=4).cells)
        for nb in course.notebooks(assignment)
    }
    order = {(n, g): i for n, ids in labels.items() for i, g in enumerate(ids)}
    found: list[Unmarked] = []
    with course.gradebook() as gb:
        for student in students:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            rows = [
                Unmarked(
                    student,
                    str(notebook.name),
                    str(grade.name),
                    labels.get(str(notebook.name), {}).get(str(grade.name), str(grade.name)),
                    float(grade.max_score or 0),
                )
                for notebook in submission.notebooks
                for grade in notebook.grades
                if awaiting_marking(grade.needs_manual_grade, grade.manual_score)
            ]
            found.extend(
                sorted(rows, key=lambda u: (u.notebook, order.get((u.notebook, u.grade_id), 0)))
            )
    return found


def awaiting_message(
    assignment: str, waiting: Sequence[Unmarked], *, students: int, refused: bool = False
) -> str:
    """What is unmarked, for how many of the ``students``, and how to mark it (``refused``: the
    words for ``--require-marked``, which wrote nothing)."""
    several = len({u.notebook for u in waiting}) > 1
    questions: dict[str, list[str]] = {}
    for u in waiting:
        questions.setdefault(f"{u.notebook}: {u.question}" if several else u.question, []).append(
            u.student
        )
    listed = "; ".join(f"{q} ({', '.join(sorted(s))})" for q, s in questions.items())
    how = (
        f"Mark them in formgrader (`filmkit lab --instructor`, then Formgrader → Manual Grading → "
        f"{assignment})"
    )
    if refused:
        then = (
            f"{how}, then run this again; without --require-marked the feedback is written and "
            "says “awaiting marking” for them."
        )
    else:
        then = (
            "Their feedback says “awaiting marking” and leaves their points out of the total. "
            f"{how}, then run `filmkit feedback {assignment}` again."
        )
    return (
        f"{assignment}: {_count(len(waiting), 'manually graded answer')} "
        f"{'is' if len(waiting) == 1 else 'are'} not marked yet, for "
        f"{len({u.student for u in waiting})} of {_count(students, 'student')}: {listed}. {then}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


__all__ = [
    "ClearHiddenTestsAndTracebacks",
    "Feedback",
    "FeedbackLeakError",
    "QuestionsAndMarking",
    "Unmarked",
    "UnmarkedError",
    "awaiting_message",
    "main",
    "unmarked",
]
