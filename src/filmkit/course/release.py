"""``filmkit release``: the student versions of the assignments, checked for leaks.

For each assignment, nbgrader's ``generate_assignment`` writes ``release/<assignment>/`` from
``source/<assignment>/`` (solutions replaced by stubs, hidden tests and mark schemes removed,
outputs cleared, read-only cells locked, and the source cells recorded in the gradebook). Then
every released file is searched for the source notebooks' secret lines
(:mod:`filmkit.course.leaks`): if any is found, the release is deleted and
:class:`ReleaseLeakError` names each leak.

With ``validate``, nbgrader's validator also runs each source notebook (every test must pass)
and each released notebook inverted (no test may pass on a blank release).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filmkit.course.folder import (
    Course,
    GradingError,
    check_result,
    load_course,
    nbgrader_warnings,
)
from filmkit.course.leaks import describe_leaks, find_leaks, secrets_of


class ReleaseLeakError(GradingError):
    """A released file holds a solution, a hidden test or an answer key."""


@dataclass(frozen=True)
class Validation:
    notebook: Path
    step: str  # source | release
    result: dict[str, list[dict[str, str]]]

    @property
    def ok(self) -> bool:
        return self.result == {}


@dataclass(frozen=True)
class Released:
    assignment: str
    folder: Path
    notebooks: tuple[Path, ...]
    files: tuple[Path, ...]  # every released file, notebooks included
    secrets_checked: int
    validations: tuple[Validation, ...] = ()  # nbgrader's validator on sources and releases

    @property
    def validated(self) -> bool:
        return bool(self.validations)


def main(
    assignments: Sequence[str] | None = None,
    *,
    course: Path | None = None,
    validate: bool = False,
) -> list[Released]:
    """Release ``assignments`` (default: every assignment under ``source/``)."""
    loaded = load_course(course)
    names = [loaded.require(a) for a in assignments] if assignments else loaded.assignments()
    if not names:
        raise GradingError(
            f"no assignments in {loaded.step_dir('source')}: each goes in "
            "source/<assignment>/<notebook>.ipynb (python -m filmkit.course.authoring writes them)"
        )
    api = loaded.api()
    released: list[Released] = []
    for assignment in names:
        with nbgrader_warnings():
            check_result(
                api.generate_assignment(assignment, force=True, create=True),
                f"nbgrader generate_assignment of {assignment} (from source/{assignment})",
            )
        released.append(check_release(loaded, assignment))
        if validate:
            checked = tuple(validate_assignment(loaded, assignment))
            released[-1] = dataclasses.replace(released[-1], validations=checked)
    return released


def check_release(course: Course, assignment: str) -> Released:
    """Search ``release/<assignment>/`` for the source's secrets; delete it if one is found."""
    folder = course.step_dir("release") / assignment
    secrets = [s for nb in course.notebooks(assignment) for s in secrets_of(nb)]
    files = tuple(sorted(p for p in folder.rglob("*") if p.is_file()))
    leaks = find_leaks(files, secrets)
    if leaks:
        shutil.rmtree(folder)
        raise ReleaseLeakError(
            f"the release of {assignment} gave away {len(leaks)} secret line(s), so {folder} was "
            f"deleted. Put each inside a ### BEGIN SOLUTION, ### BEGIN HIDDEN TESTS or "
            f"=== BEGIN MARK SCHEME === region of source/{assignment}:\n{describe_leaks(leaks)}"
        )
    notebooks = tuple(p for p in files if p.suffix == ".ipynb")
    return Released(assignment, folder, notebooks, files, len(secrets))


def validate_assignment(course: Course, assignment: str) -> list[Validation]:
    """Run nbgrader's validator: sources must pass every test, releases must pass none."""
    from nbgrader.validator import Validator

    results: list[Validation] = []
    for step, invert in (("source", False), ("release", True)):
        for notebook in course.notebooks(assignment, step):
            with nbgrader_warnings():
                result = Validator(config=course.config, invert=invert).validate(str(notebook))
            results.append(Validation(notebook, step, result))
    problems = []
    for v in results:
        if v.ok:
            continue
        cells = [
            c.get("source", "").splitlines()[0][:60] for kind in v.result.values() for c in kind
        ]
        what = (
            "fails these tests (run it and fix the solution or the test)"
            if v.step == "source"
            else "passes these tests blank (a test that a blank answer passes gives free points)"
        )
        problems.append(f"{v.notebook} {what}: " + "; ".join(cells))
    if problems:
        raise GradingError(f"{assignment} does not validate:\n" + "\n".join(problems))
    return results
