"""``filmkit grade`` on hostile and broken submissions (tests/hostile.py), all in one run.

One course, one release of 01-genre-shifts. First the honest specimens (``full``, ``partial``,
``blank``) and an ``alumnus`` are graded alone: their gradebook scores are what every case's
expected scores are computed from. Then every case of the catalogue is handed in and graded in
ONE run beside the honest specimens again, with small limits; the alumnus is not graded again,
so its rows show whether anything else in the gradebook changed.

Grading runs against a copy of the source texts (``FILMKIT_ROOT`` points at it while grading),
so a submission that escaped could only damage the copy, and the copy is what is checked.

The forged results (``FORGED_CASES``) are graded in a second, small run of their own on ONE
worker, where the notebook graded after each attacker is known: the next in id order. Feedback
is rendered for the cases that hunt secrets or hand in markup, and checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from filmkit.corpus import load_corpus
from filmkit.course import export, feedback, release
from filmkit.course.folder import Course, load_course
from filmkit.course.leaks import reader_text
from filmkit.course.specimens import Specimen, hand_in, load_specimens
from filmkit.grading import bwrap, grade
from filmkit.grading.outcome import read_outcomes
from filmkit.grading.pool import FIRST_UID, Limits
from filmkit.grading.screen import released_notebooks, screen
from filmkit.kernel.marking import essay_check

from .conftest import REPO
from .hostile import (
    ALL,
    ALUMNUS,
    ASSIGNMENT,
    CASES,
    FORGED_CASES,
    HONEST,
    MARKUP_TOKEN,
    NOTEBOOK,
    Case,
    Desk,
)

pytestmark = pytest.mark.slow

# grace: a cell past its timeout gets this long to take the interrupt; on a loaded machine (two
# pytest workers) a fork bomb's process needs more than a second to, and would be "killed"
LIMITS = Limits(cell_timeout=5, grace=3, nb_timeout=60, mem_bytes=1 << 30, nproc=64)
JOBS = 2

KNOWN_BUGS: Mapping[str, str] = {}  # case → why it fails (strict xfail); none now


@dataclass(frozen=True)
class Snapshot:
    """What grading must not change, taken before and after the hostile run."""

    gradebook: dict[str, list[tuple[Any, ...]]]  # the alumnus's rows and the assignment's
    submitted: dict[str, str]  # every submitted file → sha256
    autograded_alumnus: dict[str, str]
    texts: dict[str, str]  # the source texts the grader uses → sha256


@dataclass(frozen=True)
class Graded:
    course: Course
    desk: Desk
    texts_root: Path  # holds the source_texts/ the grader used
    alone: grade.GradeSummary  # the honest specimens (and the alumnus), graded alone
    summary: grade.GradeSummary  # every case, with the honest specimens, in one run
    before: Snapshot
    after: Snapshot
    seconds: float


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


_STUDENT_TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")


def gradebook_rows(db: Path, student: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the assignment's tables, and the rows of ``student``'s result."""
    submissions = "SELECT id FROM submitted_assignment WHERE student_id = :s"
    notebooks = f"SELECT id FROM submitted_notebook WHERE assignment_id IN ({submissions})"
    where = {
        "student": "id = :s",
        "submitted_assignment": "student_id = :s",
        "submitted_notebook": f"assignment_id IN ({submissions})",
        "grade": f"notebook_id IN ({notebooks})",
        "comment": f"notebook_id IN ({notebooks})",
    }
    rows: dict[str, list[tuple[Any, ...]]] = {}
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            query = f"SELECT * FROM {table}" + (f" WHERE {where[table]}" if table in where else "")
            rows[table] = sorted(connection.execute(query, {"s": student}).fetchall(), key=repr)
    finally:
        connection.close()
    assert set(_STUDENT_TABLES) <= set(rows)
    return rows


def snapshot(course: Course, texts: Path) -> Snapshot:
    return Snapshot(
        gradebook_rows(course.root / "gradebook.db", ALUMNUS),
        digests(course.step_dir("submitted")),
        digests(course.step_dir("autograded") / ALUMNUS),
        digests(texts),
    )


def new_course(base: Path) -> tuple[Path, Path, dict[str, Specimen]]:
    """A course holding only 01-genre-shifts (not yet released), a copy of the source texts,
    and the specimens: (course root, the root the texts are under, specimens by student)."""
    check = bwrap.check_sandbox()
    if not check.usable:  # never run fork bombs and file writers unsandboxed
        pytest.skip(f"the hostile submissions run only in the sandbox: {check.reason}")
    root = base / "course"
    (root / "source").mkdir(parents=True)
    shutil.copy2(REPO / "assignments" / "nbgrader_config.py", root)
    shutil.copytree(REPO / "assignments" / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    texts_root = base / "project"
    shutil.copytree(REPO / "source_texts", texts_root / "source_texts")
    specimens = {
        s.student: s
        for s in load_specimens(ASSIGNMENT, folder=REPO / "tests" / "fixtures" / "specimens")
    }
    return root, texts_root, specimens


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graded]:
    base = tmp_path_factory.mktemp("hostile")
    root, texts_root, specimens = new_course(base)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FILMKIT_ROOT", str(texts_root))
        release.main([ASSIGNMENT], course=root)
        course = load_course(root)
        for student in HONEST:
            hand_in(course, specimens[student])
        hand_in(course, dataclasses.replace(specimens["raises"], student=ALUMNUS))
        alone = grade.main(
            ASSIGNMENT, course=root, students=[*HONEST, ALUMNUS], jobs=JOBS, limits=LIMITS
        )
        desk = Desk(
            course,
            specimens,
            base / "markers",
            f"filmkit-hostile-{uuid.uuid4().hex[:12]}",
            REPO,
        )
        desk.markers.mkdir()
        for case in CASES:
            case.build(desk, case.student)
        before = snapshot(course, texts_root / "source_texts")
        started = time.perf_counter()
        summary = grade.main(
            ASSIGNMENT,
            course=root,
            students=[*HONEST, *(c.student for c in CASES)],
            jobs=JOBS,
            limits=LIMITS,
            force=True,
        )
        seconds = time.perf_counter() - started
        after = snapshot(course, texts_root / "source_texts")
        yield Graded(course, desk, texts_root, alone, summary, before, after, seconds)


@dataclass(frozen=True)
class Forged:
    course: Course
    desk: Desk
    alone: grade.GradeSummary  # full and blank, graded alone
    summary: grade.GradeSummary  # FORGED_CASES, on one worker, in id order


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forged]:
    """The forged-results cases, graded on ONE worker (``jobs=1``): grading runs a worker's
    notebooks in student id order, so each attacker's next notebook is the honest one after it."""
    base = tmp_path_factory.mktemp("forged")
    root, texts_root, specimens = new_course(base)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FILMKIT_ROOT", str(texts_root))
        release.main([ASSIGNMENT], course=root)
        course = load_course(root)
        baseline = ["full", "blank"]
        for student in baseline:
            hand_in(course, specimens[student])
        alone = grade.main(ASSIGNMENT, course=root, students=baseline, jobs=1, limits=LIMITS)
        desk = Desk(
            course, specimens, base / "markers", f"filmkit-forged-{uuid.uuid4().hex[:12]}", REPO
        )
        desk.markers.mkdir()
        for case in FORGED_CASES:
            case.build(desk, case.student)
        summary = grade.main(
            ASSIGNMENT,
            course=root,
            students=[c.student for c in FORGED_CASES],
            jobs=1,
            limits=LIMITS,
            force=True,
        )
        yield Forged(course, desk, alone, summary)


# ---------------------------------------------------------------------------------------------
# Expected scores, from the honest specimens graded alone

Score = tuple[float, float | None, bool, float]  # score, auto_score, needs_manual_grade, max


def per_cell(scores: pd.DataFrame, student: str) -> dict[str, Score]:
    mine = scores[scores["student"] == student]
    return {
        str(row["question"]): (
            float(row["score"]),
            None if pd.isna(row["auto_score"]) else float(row["auto_score"]),
            bool(row["needs_manual_grade"]),
            float(row["max_score"]),
        )
        for row in mine.to_dict("records")
    }


def expected_scores(case: Case, baseline: pd.DataFrame) -> dict[str, Score]:
    expect = case.expect
    if expect.like is None:
        return {}
    honest = baseline[baseline["student"] == expect.like]
    assert len(honest), f"{expect.like} was not graded alone"
    questions = list(honest["question"])  # in released order
    zero = set(questions) if expect.zero == ALL else set(expect.zero)
    if expect.zero_from:
        autograded = list(honest.loc[honest["kind"] == "autograded", "question"])
        zero |= set(autograded[autograded.index(expect.zero_from) :])
    assert zero <= set(questions), f"{case.student}: unknown grade cells {zero - set(questions)}"
    like = per_cell(baseline, expect.like)
    return {q: (0.0, 0.0, False, like[q][3]) if q in zero else like[q] for q in questions}


def cell_text(course: Course, student: str, wanted: str) -> str:
    """The text outputs (streams, results, errors) of one cell of an autograded notebook."""
    path = course.step_dir("autograded") / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    (cell,) = [
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == wanted
    ]
    parts = []
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        parts.append("".join(text) if isinstance(text, list) else text)
        plain = output.get("data", {}).get("text/plain", "")
        parts.append("".join(plain) if isinstance(plain, list) else plain)
        parts.append(str(output.get("evalue", "")))
    return "\n".join(parts)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _locked(cell: Mapping[str, Any]) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))


def student_outputs(course: Course, student: str) -> list[dict[str, Any]]:
    """The outputs of the student's own code cells (not the instructor's) as autograded."""
    path = course.step_dir("autograded") / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [
        output
        for cell in nb["cells"]
        if cell["cell_type"] == "code" and not _locked(cell)
        for output in cell.get("outputs", [])
    ]


def output_text(outputs: list[dict[str, Any]]) -> str:
    """Every text the outputs show: streams, every representation, errors and tracebacks."""
    parts = []
    for output in outputs:
        parts.append(_join(output.get("text", "")))
        parts.extend(_join(v) for v in output.get("data", {}).values())
        parts.append(str(output.get("evalue", "")))
        parts.extend(_join(line) for line in output.get("traceback", []))
    return "\n".join(parts)


# What a browser would run or apply from a student's output, whoever wrote it: scripts, style
# sheets (CSS that hides the failed tests), frames and embedded objects, event handlers and
# javascript: URLs. ``text/plain`` is shown as text and is not searched.
UNSAFE_MARKUP = re.compile(
    r"<\s*(?:script|style|iframe|frame|object|embed|meta|base|link|form)\b"
    r"|javascript\s*:"
    r"|<[a-z][^<>]*\son[a-z]+\s*=",
    re.IGNORECASE,
)
# The same in a rendered page (feedback), where the page's own scripts and styles are allowed:
# only markup that carries the payloads' token is the student's.
STUDENT_MARKUP = re.compile(
    rf"<script\b[^>]*>[^<]*{MARKUP_TOKEN}"
    rf"|<style\b[^>]*>[^<]*{MARKUP_TOKEN}"
    rf"|<(?:iframe|frame|object|embed)\b[^>]*{MARKUP_TOKEN}"
    rf"|<[a-z][^<>]*\son[a-z]+\s*=[^<>]*{MARKUP_TOKEN}"
    rf"|<[a-z][^<>]*javascript\s*:[^<>]*{MARKUP_TOKEN}",
    re.IGNORECASE,
)


def unsafe_markup(outputs: list[dict[str, Any]]) -> list[str]:
    """What of the outputs a browser would run or apply (see UNSAFE_MARKUP), by MIME type."""
    found = []
    for output in outputs:
        for mime, value in output.get("data", {}).items():
            if mime == "text/plain":
                continue
            if "javascript" in mime or "ecmascript" in mime:
                found.append(f"{mime} output")
                continue
            found.extend(f"{mime}: {m.group(0)!r}" for m in UNSAFE_MARKUP.finditer(_join(value)))
    return found


def essay_report(course: Course, desk: Desk, student: str, check_id: str) -> str:
    """The report the essay-check cell ``check_id`` gives on the essay the student handed in."""
    (released,) = course.notebooks(ASSIGNMENT, "release")
    nb = json.loads(released.read_text(encoding="utf-8"))
    (source,) = [
        _join(c["source"])
        for c in nb["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == check_id
    ]
    call = re.search(
        r"evidence_report\(\s*[\"'](\w+)[\"']\s*(?:,\s*min_sources\s*=\s*(\d+))?", source
    )
    assert call is not None, source
    essay_id, min_sources = call.group(1), int(call.group(2) or 0)
    return essay_check(essay_id, min_sources=min_sources, notebook=desk.notebook(student)).report()


def check_case(
    course: Course, desk: Desk, alone: grade.GradeSummary, summary: grade.GradeSummary, case: Case
) -> None:
    """The case's status, reason, scores and outputs, as the catalogue says."""
    outcome = summary.outcome(case.student)
    statuses = (case.status, *case.also_status)
    assert outcome.status in statuses, (case.student, outcome.status, outcome.reason)
    reason = outcome.reason
    if outcome.status != "graded" or case.reason:
        assert reason.strip() and "\n" not in reason and "\r" not in reason, repr(reason)
        assert len(reason) <= 300, reason
        for words in case.reason:
            assert words in reason, f"{case.student}: {words!r} not in {reason!r}"
        for words in case.not_reason:
            assert words not in reason, f"{case.student}: {words!r} in {reason!r}"
    else:
        assert reason == "", reason
    observed = per_cell(summary.scores, case.student)
    expected = expected_scores(case, alone.scores)
    assert observed == expected, f"{case.student}: expected {case.expect.describe()}"
    for grade_id, text in case.output.items():
        assert text in cell_text(course, case.student, grade_id)
    if case.never_shows is not None:
        shown = _flat(output_text(student_outputs(course, case.student)))
        leaked = [t for t in case.never_shows(desk) if _flat(t) in shown]
        assert leaked == [], (
            f"{case.student}'s own outputs show {len(leaked)} secret(s): {leaked[:3]}"
        )
    if case.markup:
        assert unsafe_markup(student_outputs(course, case.student)) == []
    if case.essay_report:
        report = essay_report(course, desk, case.student, case.essay_report)
        shown = cell_text(course, case.student, case.essay_report)
        assert report in shown, (
            f"{case.student}: the essay check did not report on the essay handed in"
        )


def case_params() -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.student,
            marks=[pytest.mark.xfail(reason=KNOWN_BUGS[case.student], strict=True)]
            if case.student in KNOWN_BUGS
            else [],
        )
        for case in CASES
    ]


@pytest.mark.parametrize("case", case_params())
def test_each_case_gets_its_status_reason_and_scores(graded: Graded, case: Case) -> None:
    check_case(graded.course, graded.desk, graded.alone, graded.summary, case)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.student) for c in FORGED_CASES])
def test_forged_results_reach_neither_the_forger_nor_the_next_notebook(
    forged: Forged, case: Case
) -> None:
    """Each attacker scores as ``blank``; the honest notebook its worker grades next as ``full``."""
    check_case(forged.course, forged.desk, forged.alone, forged.summary, case)


FEEDBACK_CASES = [c for c in CASES if c.never_shows is not None or c.markup]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.student) for c in FEEDBACK_CASES])
def test_feedback_gives_away_no_secret_and_renders_no_student_markup(
    graded: Graded, case: Case
) -> None:
    # feedback.main itself refuses (FeedbackLeakError) a page that shows a hidden test or a
    # solution; the other students' essays and the markup are checked here
    feedback.main(ASSIGNMENT, course=graded.course.root, students=[case.student])
    (page,) = graded.course.notebooks(ASSIGNMENT, "feedback", case.student)
    if case.never_shows is not None:
        text = _flat(reader_text(page))
        leaked = [t for t in case.never_shows(graded.desk) if _flat(t) in text]
        assert leaked == [], (
            f"{case.student}'s feedback shows {len(leaked)} secret(s): {leaked[:3]}"
        )
    if case.markup:
        found = STUDENT_MARKUP.findall(page.read_text(encoding="utf-8"))
        assert found == [], f"{case.student}'s feedback renders the student's markup: {found[:3]}"


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.student) for c in CASES if c.status in ("unreadable", "missing")]
)
def test_screening_says_why_a_notebook_cannot_be_graded(graded: Graded, case: Case) -> None:
    """What screen() makes of each unreadable or missing notebook (grade.py records it)."""
    release_dir = graded.course.step_dir("release") / ASSIGNMENT
    found = screen(case.student, graded.desk.folder(case.student), released_notebooks(release_dir))
    assert found.status == case.status
    assert not any(name.endswith(".ipynb") for name in found.files)  # nothing nbgrader can run
    assert found.reason and "\n" not in found.reason
    for words in case.reason:
        assert words in found.reason
    for words in case.not_reason:
        assert words not in found.reason


def test_the_catalogue_is_whole() -> None:
    students = [c.student for c in (*CASES, *FORGED_CASES)]
    assert len(set(students)) == len(students)
    assert not set(students) & {*HONEST, ALUMNUS}
    described = [c.description for c in (*CASES, *FORGED_CASES)]
    assert all(d.strip() and "\n" not in d for d in described)
    # the forged run relies on its order: each attacker, then the honest notebook graded next
    forged = [c.student for c in FORGED_CASES]
    assert forged == sorted(forged)
    assert [c.expect.like for c in FORGED_CASES] == ["blank", "full"] * (len(forged) // 2)


# ---------------------------------------------------------------------------------------------
# One bad submission never spoils anyone else's grade


def test_honest_specimens_score_as_when_graded_alone(graded: Graded) -> None:
    for student in HONEST:
        together = per_cell(graded.summary.scores, student)
        alone = per_cell(graded.alone.scores, student)
        assert together == alone, student
        assert graded.summary.outcome(student).status == "graded"
        assert graded.summary.outcome(student).reason == ""
    totals = graded.alone.totals().set_index("student")["score"]
    # the baseline tells a working trick from a failed one: full > partial > blank == 0
    assert totals["full"] > totals["partial"] > totals["blank"] == 0


def test_the_run_was_sandboxed_and_quick(graded: Graded) -> None:
    assert graded.summary.sandbox == "bwrap"
    assert set(graded.summary.graded) == {*HONEST, *(c.student for c in CASES)} - {
        c.student for c in CASES if c.status == "rejected"
    }
    assert graded.seconds < 150, f"the hostile run took {graded.seconds:.0f} s"


def _uid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _parent(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("PPid:"):
                    return line.split()[1]
    except OSError:
        pass
    return "0"


def _cmdline(pid: str) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def sandbox_leftovers(token: str) -> list[str]:
    """Processes of the sandbox uids (64001+) that this test session started or that escaped
    to the host's init, and any process that carries the cases' token."""
    found = []
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in pids:
        if pid == str(os.getpid()):
            continue
        cmdline = _cmdline(pid)
        uid = _uid(pid)
        if token in cmdline:
            found.append(f"{pid} uid={uid} {cmdline[:120]}")
            continue
        if uid is None or not FIRST_UID <= uid < FIRST_UID + 1000:
            continue
        # walk up to the first root-owned ancestor: the bwrap that holds it (another run's
        # sandbox is left alone), or init if it escaped; ours are all below this process
        ancestor = _parent(pid)
        while ancestor not in ("0", "1") and _uid(ancestor) != 0:
            ancestor = _parent(ancestor)
        chain, mine = ancestor, False
        while chain not in ("0",):
            if chain == str(os.getpid()):
                mine = True
                break
            chain = _parent(chain)
        if mine or ancestor in ("0", "1"):
            found.append(f"{pid} uid={uid} {cmdline[:120]}")
    return found


def test_no_process_is_left_running(graded: Graded) -> None:
    assert "BACKGROUND STARTED 2" in cell_text(
        graded.course, "background-processes", "first_mention"
    ), "the background processes never started: this test would prove nothing"
    deadline = time.monotonic() + 10
    left = sandbox_leftovers(graded.desk.token)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = sandbox_leftovers(graded.desk.token)
    assert left == []


def test_reading_finds_no_hidden_test_solution_gradebook_or_other_work(graded: Graded) -> None:
    text = cell_text(graded.course, "reads-hidden-tests", "genre_counts")
    found = re.search(r"SPY scanned (\d+) files; found: (.*)", text)
    assert found is not None, text[:500]
    assert int(found.group(1)) > 0, "the walk of the filesystem read nothing"
    assert found.group(2) == "[]"


@pytest.mark.parametrize(
    ("student", "targets"),
    [("writes-gradebook", 3), ("writes-source-texts", 13), ("writes-other-student", 5)],
)
def test_every_write_outside_the_sandbox_is_denied(
    graded: Graded, student: str, targets: int
) -> None:
    lines = [
        line for line in cell_text(graded.course, student, "genre_counts").splitlines() if line
    ]
    assert [line for line in lines if not line.startswith("DENIED")] == []
    assert len(lines) == targets, lines


def test_host_files_are_untouched(graded: Graded) -> None:
    before, after = graded.before, graded.after
    assert after.texts == before.texts and len(after.texts) > 5
    load_corpus(graded.texts_root)  # the texts the grader used still pass their checksums
    load_corpus(REPO)
    assert after.submitted == before.submitted, "grading changed a submitted file"
    assert after.autograded_alumnus == before.autograded_alumnus
    assert after.autograded_alumnus, "the alumnus has no autograded result to protect"
    root = graded.course.root
    assert not [p for p in root.rglob("pwned.txt")]
    assert sorted(graded.desk.markers.iterdir()) == []
    assert sorted(Path("/tmp").glob("filmkit-hostile-*")) == []
    for student in ("pandas-py", "sitecustomize-py"):
        copied = graded.course.step_dir("autograded") / student / ASSIGNMENT
        assert {"pandas.py", "sitecustomize.py"} & {p.name for p in copied.iterdir()}
        nb = (copied / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
        assert "SHADOWED" not in nb


def test_other_gradebook_rows_are_unchanged(graded: Graded) -> None:
    before, after = graded.before.gradebook, graded.after.gradebook
    assert before["grade"], "the alumnus has no grades to protect"
    assert after == before
    db = graded.course.root / "gradebook.db"
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        students = {r[0] for r in connection.execute("SELECT id FROM student")}
        tampered = connection.execute("SELECT count(*) FROM grade WHERE manual_score = 99")
        assert tampered.fetchone() == (0,)
    finally:
        connection.close()
    assert "mallory" not in students
    # nobody but the students graded (the rejected id has no row)
    assert students == {ALUMNUS, *graded.summary.scores["student"]}
    assert "x[1]" not in students


def test_the_summaries_say_each_status_and_reason(graded: Graded, tmp_path: Path) -> None:
    summary = graded.summary
    recorded = read_outcomes(graded.course.root, ASSIGNMENT)
    for student in summary.students:
        assert recorded[student] == summary.outcome(student)
    totals = summary.totals().set_index("student")
    for student in totals.index:
        assert totals.loc[student, "status"] == summary.outcome(student).status
        assert totals.loc[student, "reason"] == summary.outcome(student).reason
    exported = export.main(course=graded.course.root, out=tmp_path / "grades.csv")
    table = pd.read_csv(exported.per_question_csv, keep_default_na=False, dtype=str)
    assert {"status", "reason"} <= set(table.columns)
    for student in summary.students:
        rows = table[(table["student"] == student) & (table["assignment"] == ASSIGNMENT)]
        outcome = summary.outcome(student)
        assert len(rows) >= 1, student
        assert set(rows["status"]) == {outcome.status}, student
        assert set(rows["reason"]) == {outcome.reason}, student
