"""``filmkit feedback``: per-student feedback HTML, checked for hidden tests and answer keys.

nbgrader's ``generate_feedback`` renders ``autograded/<student>/<assignment>/`` to
``feedback/<student>/<assignment>/<notebook>.html`` with the preprocessors configured in
``nbgrader_config.py``; the course's configuration adds
:class:`~filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks`, without which stock
feedback shows the hidden tests. Each feedback file is then searched for the source notebooks'
secret lines (text the student wrote in their own submission excepted): a file that gives one
away is deleted and :class:`FeedbackLeakError` names the leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filmkit.course.feedback_scrub import (
    ClearHiddenTestsAndTracebacks as ClearHiddenTestsAndTracebacks,
)
from filmkit.course.folder import (
    GradingError,
    check_result,
    load_course,
    nbgrader_warnings,
)
from filmkit.course.leaks import describe_leaks, find_leaks, reader_text, secrets_of


class FeedbackLeakError(GradingError):
    """A feedback file shows a hidden test, a solution or an answer key."""


@dataclass(frozen=True)
class Feedback:
    student: str
    assignment: str
    files: tuple[Path, ...]


def main(
    assignment: str, *, course: Path | None = None, students: Sequence[str] | None = None
) -> list[Feedback]:
    """Generate feedback for the autograded submissions of ``assignment`` (or ``students``)."""
    loaded = load_course(course)
    loaded.require(assignment)
    wanted = loaded.select_students(
        assignment,
        "autograded",
        students,
        what="autograded submission",
        hint=f"run `filmkit grade {assignment}` first",
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
        results.append(Feedback(student, assignment, files))
    return results


__all__ = ["ClearHiddenTestsAndTracebacks", "Feedback", "FeedbackLeakError", "main"]
