"""What happened to each submission in a grading run: a status and a one-line reason.

``filmkit grade`` records one :class:`Outcome` per student and assignment in
``<course>/.filmkit/grading/<assignment>/outcomes.json`` (written atomically after every
student), so the summary table, ``filmkit export``'s per-question CSV and ``filmkit report`` all
say the same thing. A student graded by stock ``nbgrader autograde`` has no entry there; readers
then report the status ``graded`` with no reason.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

# The statuses, worst last. ``graded``: ran to the end (wrong answers are not a status);
# ``repaired``: graded after filmkit fixed something that would have stopped nbgrader
# (restored metadata, a renamed notebook); ``limit``: a cell hit a time, memory or output limit
# and lost its marks; ``killed``: the run ended early (process exit, hard timeout), so the cells
# after it scored 0; ``unreadable``: a notebook could not be read at all and scored 0 as missing;
# ``missing``: no notebook handed in; ``rejected``: the submission could not be graded (it keeps
# no new score; a previous result, if any, is kept); ``failed``: nbgrader itself failed.
STATUSES: Final = (
    "graded",
    "repaired",
    "limit",
    "killed",
    "unreadable",
    "missing",
    "rejected",
    "failed",
)
# The statuses of a submission that got no score of its own, where nbgrader autograde would have
# failed on it: `filmkit grade` exits 1 when any student has one (the others are still graded).
UNGRADED: Final = ("unreadable", "rejected", "failed")


@dataclass(frozen=True)
class Outcome:
    student: str
    assignment: str
    status: str  # one of STATUSES
    reason: str  # one line; empty when status is "graded" and nothing needs saying
    graded_at: str = ""  # ISO time the result was committed ("" when nothing was committed)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; use one of {STATUSES}")

    def record(self) -> dict[str, str]:
        """What the outcomes file keeps of it (the student and assignment are its keys)."""
        return {k: v for k, v in asdict(self).items() if k not in ("student", "assignment")}


def outcomes_path(course_root: Path, assignment: str) -> Path:
    return course_root / ".filmkit" / "grading" / assignment / "outcomes.json"


def read_outcomes(course_root: Path, assignment: str) -> dict[str, Outcome]:
    """student → Outcome of the last ``filmkit grade`` of ``assignment`` (empty if none)."""
    path = outcomes_path(course_root, assignment)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); delete it and run `filmkit grade "
            f"{assignment} --force` to record every student's status again"
        ) from error
    return {
        student: Outcome(
            student,
            assignment,
            str(entry.get("status", "graded")),
            str(entry.get("reason", "")),
            str(entry.get("graded_at", "")),
        )
        for student, entry in raw.get("students", {}).items()
    }


def write_outcomes(course_root: Path, assignment: str, outcomes: Mapping[str, Outcome]) -> Path:
    """Replace the outcomes file atomically (a killed run leaves the old file or the new one)."""
    path = outcomes_path(course_root, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "assignment": assignment,
        "students": {s: o.record() for s, o in sorted(outcomes.items())},
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".outcomes-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=1, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path
