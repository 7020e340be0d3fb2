"""``filmkit grade``: autograde an assignment's submissions, fast, contained and whole.

Submissions are nbgrader's: ``submitted/<student>/<assignment>/<notebook>.ipynb`` (with an
optional ``timestamp.txt``). Results go where ``nbgrader autograde`` puts them (the gradebook and
``autograded/``, the files each notebook wrote beside it), written by nbgrader's own code, so
``nbgrader export``, formgrader and feedback work as usual; the scores are stock nbgrader's
(only where cells run differs, :mod:`filmkit.grading.fastgrade`). It is a drop-in for
``nbgrader autograde``: the same options, configuration and course folder, read by nbgrader
(:mod:`~filmkit.grading.settings`), and nbgrader's own autograde tests pass through it
(``tests/nbgrader_compat``).

A run: read what it is asked (:mod:`~filmkit.grading.settings`); check the assignment has a
source, a release and a gradebook entry; choose the students (ids or globs, less those
excluded); finish what a killed run left (:mod:`~filmkit.grading.staging`); skip students
already graded unless ``force`` (nbgrader's rule, timestamps compared as times); read each
submission and repair or set aside what would stop nbgrader (:mod:`~filmkit.grading.screen`);
start the sandboxed workers (:mod:`filmkit.sandbox`; one, without a warm-up, for a run of
:data:`SMALL_RUN` notebooks or fewer) and, while they start, verify the source texts; grade in a
staging area, committing each student's result whole as soon as it is complete; record each
student's status and reason (:mod:`~filmkit.grading.outcome`); verify the source texts again.

Where ``nbgrader autograde`` exits 1, so does ``filmkit grade``: before grading
(:class:`~filmkit.grading.settings.AutogradeFailed`: an assignment it does not know, no
submission), or after grading everyone else, when a student could not be graded
(:attr:`GradeSummary.failed`).
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from filmkit.course.folder import (
    Course,
    GradingError,
    check_result,
    load_course,
    nbgrader_warnings,
)
from filmkit.grading import settings
from filmkit.grading.cgroups import CgroupError
from filmkit.grading.cluster import ClusterLost, ClusterPool, GradingCluster
from filmkit.grading.identity import sources_digest
from filmkit.grading.limits import GradingLimits
from filmkit.grading.outcome import (
    STATUSES,
    UNGRADED,
    Outcome,
    read_outcomes,
    write_outcomes,
)
from filmkit.grading.pool import Limits, WorkerPool
from filmkit.grading.screen import Screened, released_notebooks, screen
from filmkit.grading.settings import AutogradeFailed, Settings
from filmkit.grading.staging import Staging, recover

if TYPE_CHECKING:
    from filmkit.grading.fastgrade import NotebookRun

SCORE_COLUMNS = [
    "student",
    "assignment",
    "notebook",
    "question",
    "kind",
    "auto_score",
    "manual_score",
    "extra_credit",
    "score",
    "max_score",
    "needs_manual_grade",
    "failed_tests",
]

# Errors in a cell's outputs that mean a limit stopped it, not a wrong answer.
LIMIT_ERRORS = {
    "CellTimeoutError": "ran past the time limit",
    "MemoryError": "ran out of its memory limit",
    "OutputLimitExceeded": "printed past the output limit",
}
ENDED_ERRORS = {"DeadKernelError", "NotExecuted"}


@dataclass(frozen=True)
class GradeSummary:
    assignment: str
    students: tuple[str, ...]  # every student asked about
    scores: pd.DataFrame  # one row per student and grade cell: SCORE_COLUMNS
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    graded: tuple[str, ...] = ()  # graded by this run (not those nbgrader failed on)
    skipped: tuple[str, ...] = ()  # already graded, left alone (no --force)
    sandbox: str = ""  # "bwrap", or the warning given when grading unsandboxed
    seconds: float = 0.0
    runs: tuple[RunStats, ...] = ()  # how each notebook ran (graded by this run)

    def totals(self) -> pd.DataFrame:
        """One row per student: score, max_score, the questions awaiting a marker, failures."""
        table = totals(self.scores)
        status = [self.outcome(s) for s in table["student"]]
        return table.assign(status=[o.status for o in status], reason=[o.reason for o in status])

    def outcome(self, student: str) -> Outcome:
        return self.outcomes.get(student) or Outcome(student, self.assignment, "graded", "")

    @property
    def failed(self) -> tuple[str, ...]:
        """Students this run could not grade (:data:`~filmkit.grading.outcome.UNGRADED`):
        ``filmkit grade`` then exits 1, as ``nbgrader autograde`` does when one fails."""
        return tuple(s for s in self.students if self.outcome(s).status in UNGRADED)


@dataclass(frozen=True)
class RunStats:
    """One notebook's run: its status, wall time in its worker, the judge's share of it, and
    the cluster's worker that ran it."""

    student: str
    notebook: str
    status: str
    wall_s: float
    judge_s: float
    worker: str = ""  # the Dask worker that ran it (graded on a cluster), else ""


GradeProgress = Callable[[str, int, int], None]  # (student just finished, done, total)
SMALL_RUN = 2  # notebooks: a run of at most this many starts one worker and no warm-up


def main(
    assignment: str | None,
    *,
    course: Path | None = None,
    students: Sequence[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    sandbox: bool = True,
    limits: Limits | None = None,
    cell_timeout: float | None = None,
    progress: GradeProgress | None = None,
    message: Callable[[str], None] | None = None,
    nbgrader_args: Sequence[str] = (),
    cluster: str | None = None,
) -> GradeSummary:
    """Autograde the submissions of ``assignment`` (all under ``submitted/``, or ``students``:
    ids or globs).

    ``nbgrader_args``: ``nbgrader autograde``'s own options and ``--Class.trait=value``
    configuration, read as nbgrader reads them (:mod:`filmkit.grading.settings`: the assignment
    may be among them, ``assignment`` is then None). Students already graded (in the gradebook
    and ``autograded/``, with no newer submission: nbgrader's rule) are left alone unless
    ``force``. ``jobs`` defaults to the number of CPUs. The limits are the course's
    ``c.GradingLimits`` (:mod:`filmkit.grading.limits`), with ``cell_timeout`` (the command's
    ``--cell-timeout``) or a whole ``limits`` in their place. ``progress`` is called as each
    student's result is committed; ``message`` with anything worth saying (recovered runs, an
    unsandboxed run). Raises :class:`~filmkit.grading.settings.AutogradeFailed` where
    ``nbgrader autograde`` exits 1 before grading anyone (an assignment it does not know, no
    submission); a student who could not be graded is in :attr:`GradeSummary.failed`.

    ``cluster``: the address of a Dask scheduler whose workers run the notebooks (the
    command's ``--cluster``; default ``c.GradingCluster.scheduler``, empty for this machine:
    :mod:`filmkit.grading.cluster`). Raises :class:`~filmkit.grading.cluster.ClusterError`
    when it cannot be used, and :class:`~filmkit.grading.cluster.ClusterLost` after
    committing what was graded when the scheduler goes away.
    """
    import time

    started = time.perf_counter()
    say = message or (lambda _text: None)
    early = (
        None
        if cluster
        else start_early(
            [assignment] if assignment else [a for a in nbgrader_args if not a.startswith("-")],
            course,
            sandbox=sandbox,
            limits=limits,
            cell_timeout=cell_timeout,
        )
    )
    try:
        return _main(
            assignment,
            course=course,
            students=students,
            jobs=jobs,
            force=force,
            sandbox=sandbox,
            limits=limits,
            cell_timeout=cell_timeout,
            progress=progress,
            say=say,
            nbgrader_args=nbgrader_args,
            early=early,
            started=started,
            cluster=cluster,
        )
    finally:
        if early is not None:
            early.discard()


def _main(
    assignment: str | None,
    *,
    course: Path | None,
    students: Sequence[str] | None,
    jobs: int | None,
    force: bool,
    sandbox: bool,
    limits: Limits | None,
    cell_timeout: float | None,
    progress: GradeProgress | None,
    say: Callable[[str], None],
    nbgrader_args: Sequence[str],
    early: EarlyPool | None,
    started: float,
    cluster: str | None = None,
) -> GradeSummary:
    from filmkit.corpus import verify_corpus

    asked = settings.read(
        assignment, course=course, args=nbgrader_args, students=students, force=force
    )
    loaded, assignment = asked.course, asked.assignment
    release_dir = check_assignment(loaded, assignment)
    wanted = select_students(loaded, asked)
    staging = Staging(loaded.root, assignment, loaded.db_url, loaded.step_dir("autograded"))
    finished = recover(staging)
    outcomes = read_outcomes(loaded.root, assignment)
    if finished:
        # the statuses of the students it committed, which it may have been killed before writing
        for student, record in finished.items():
            try:
                outcomes[student] = Outcome(student, assignment, **(record or {}))
            except (TypeError, ValueError):  # an older journal's line, without the record
                continue
        write_outcomes(loaded.root, assignment, outcomes)
        say(f"finished committing {len(finished)} result(s) of an interrupted run")
    done = set() if asked.force else already_graded(loaded, assignment, wanted, asked.notebook)
    to_grade = [s for s in wanted if s not in done]
    released = released_notebooks(release_dir)
    screened = {
        s: screen(s, loaded.step_dir("submitted") / s / assignment, released) for s in to_grade
    }
    gradeable, no_notebook, unmatched = [], [], []
    for student, found in screened.items():
        if found.status == "rejected":
            kept = outcomes.get(student)
            outcomes[student] = Outcome(
                student, assignment, "rejected", found.reason, kept.graded_at if kept else ""
            )
        elif asked.some_notebooks and not _matching(found, asked.notebook):
            unmatched.append(student)  # nbgrader skips a submission no notebook of is asked for
        elif found.has_notebook:
            gradeable.append(student)
        else:
            no_notebook.append(student)

    def verified() -> None:
        """Before anything is recorded: the answer key (refuse to grade against altered
        texts); then the submissions without a notebook."""
        verify_corpus()
        for student in no_notebook:
            # nothing nbgrader would find (it globs notebooks): score 0 as nbgrader does a
            # missing notebook, in one commit; no autograded/ folder, as nbgrader leaves none
            found = screened[student]
            problem = record_no_notebook(
                loaded,
                assignment,
                student,
                found.files.get("timestamp.txt"),
                create_student=asked.create_student,
            )
            kept = outcomes.get(student)
            outcomes[student] = (
                Outcome(student, assignment, "failed", problem, kept.graded_at if kept else "")
                if problem
                else Outcome(student, assignment, found.status, found.reason, _now())
            )

    mode = ""
    runs: tuple[RunStats, ...] = ()
    if gradeable:  # the workers start first: the texts are verified while they do
        mode, runs = _grade_staged(
            loaded,
            assignment,
            staging,
            {s: screened[s] for s in gradeable},
            outcomes,
            asked,
            jobs=jobs or os.cpu_count() or 1,
            sandbox=sandbox,
            limits=limits,
            cell_timeout=cell_timeout,
            progress=progress,
            say=say,
            before=verified,
            early=early,
            cluster=cluster,
        )
    else:
        verified()
    write_outcomes(loaded.root, assignment, outcomes)
    try:
        verify_corpus()
    except Exception as error:
        raise GradingError(
            f"the source texts changed while {assignment} was being graded ({error}); "
            f"restore them (git checkout source_texts) and run `filmkit grade {assignment} "
            "--force`: the grades of this run were marked against altered texts"
        ) from error
    return GradeSummary(
        assignment,
        tuple(wanted),
        scores(loaded, assignment, wanted),
        {s: o for s, o in outcomes.items() if s in wanted},
        tuple(
            s
            for s in wanted
            if s in set(gradeable) | set(no_notebook) and outcomes[s].status != "failed"
        ),
        tuple(sorted(done | set(unmatched))),
        mode,
        round(time.perf_counter() - started, 2),
        runs,
    )


def check_assignment(course: Course, assignment: str) -> Path:
    """The release folder of ``assignment``, which must have a source folder, a release and an
    entry in the gradebook (as ``nbgrader autograde`` requires); else why not (exit 1)."""
    from nbgrader.api import MissingEntry

    known = course.assignments()
    if assignment not in known:
        raise AutogradeFailed(
            f"no assignment {assignment!r} in {course.step_dir('source')}: "
            f"the assignments are {', '.join(known) or '(none)'}"
        )
    release_dir = course.step_dir("release") / assignment
    if not release_dir.is_dir():
        raise AutogradeFailed(
            f"{assignment} has not been released (no {release_dir}): "
            f"run `filmkit release {assignment}` first"
        )
    with course.gradebook() as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise AutogradeFailed(
                f"no assignment {assignment!r} in the gradebook {course.db_url}: "
                f"run `filmkit release {assignment}` (nbgrader generate_assignment) with this "
                "gradebook first"
            ) from None
    return release_dir


def select_students(course: Course, asked: Settings) -> list[str]:
    """The students with a folder ``submitted/<student>/<assignment>/`` that the run asks for
    (ids, or globs as nbgrader's ``CourseDirectory.student_id``), less those excluded
    (``student_id_exclude``). A request that matches no folder fails (exit 1), as in nbgrader."""
    found = course.students(asked.assignment, "submitted")

    def matches(student: str, pattern: str) -> bool:  # an id is itself, even with [ or *
        return student == pattern or fnmatch.fnmatchcase(student, pattern)

    missing = [p for p in asked.students if not any(matches(s, p) for s in found)]
    chosen = [s for s in found if any(matches(s, p) for p in asked.students)]
    if missing or not chosen:
        raise AutogradeFailed(
            f"no submission of {asked.assignment} for "
            f"{', '.join(p for p in missing if p != '*') or 'any student'} in "
            f"{course.step_dir('submitted')}: each goes in "
            f"submitted/<student>/{asked.assignment}/"
        )
    return [s for s in chosen if s not in asked.exclude]


def _matching(found: Screened, notebook: str) -> bool:
    return any(fnmatch.fnmatchcase(name, f"{notebook}.ipynb") for name in found.files)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_no_notebook(
    course: Course,
    assignment: str,
    student: str,
    timestamp: bytes | None,
    *,
    create_student: bool = True,
) -> str:
    """A submission without a readable notebook: every grade cell 0, in one gradebook commit
    (nbgrader leaves it no ``autograded/`` folder, and neither does this). Returns why it could
    not be recorded ("" when it was): an unknown student with ``create_student`` off."""
    from nbgrader.api import MissingEntry
    from nbgrader.utils import parse_utc

    try:
        stamp = parse_utc(timestamp.decode("utf-8", "replace").strip()) if timestamp else None
    except ValueError:
        stamp = None
    with course.gradebook() as gb, nbgrader_warnings():
        try:
            gb.find_student(student)
        except MissingEntry:
            if not create_student:
                return (
                    f"No student with ID '{student}' exists in the gradebook, and "
                    "Autograde.create_student is False"
                )
            gb.add_student(student)
        submission = gb.update_or_create_submission(
            assignment, student, **({"timestamp": stamp} if stamp else {})
        )
        for notebook in submission.notebooks:
            for grade_row in notebook.grades:
                grade_row.auto_score = 0
                grade_row.needs_manual_grade = False
        gb.db.commit()
    return ""


def already_graded(
    course: Course, assignment: str, students: Sequence[str], notebook: str = "*"
) -> set[str]:
    """Students whose result for ``assignment`` stands: nbgrader's rule for skipping a
    submission (``BaseConverter.init_destination``), with the gradebook holding it too.

    A result stands when ``autograded/<student>/<assignment>/`` exists (with ``notebook``, a
    glob: when each notebook it picks is there) and the submission is not newer: both
    ``timestamp.txt`` read as nbgrader reads them (:func:`submission_time`, a time with its time
    zone), the submitted one later than the autograded one."""
    from nbgrader.api import MissingEntry

    found = set()
    with course.gradebook() as gb:
        for student in students:
            try:
                gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            graded = course.step_dir("autograded") / student / assignment
            submitted = course.step_dir("submitted") / student / assignment
            if not graded.is_dir():
                continue
            if notebook != "*":
                chosen = [p.name for p in submitted.glob(f"{notebook}.ipynb")]
                if any(not (graded / name).exists() for name in chosen):
                    continue
            new, old = submission_time(submitted), submission_time(graded)
            if new is not None and old is not None and new > old:
                continue
            found.add(student)
    return found


def submission_time(folder: Path) -> datetime | None:
    """The time in ``folder/timestamp.txt`` as nbgrader reads it (``nbgrader.utils.parse_utc``:
    naive UTC, from any time zone); None when there is none, it is empty or unreadable."""
    from nbgrader.utils import parse_utc

    try:
        text = (folder / "timestamp.txt").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text:
        return None
    try:
        stamp: datetime = parse_utc(text)
    except (ValueError, OverflowError, TypeError):
        return None
    return stamp


def _grade_staged(
    course: Course,
    assignment: str,
    staging: Staging,
    screened: Mapping[str, Screened],
    outcomes: dict[str, Outcome],
    asked: Settings,
    *,
    jobs: int,
    sandbox: bool,
    limits: Limits | None,
    cell_timeout: float | None,
    progress: GradeProgress | None,
    say: Callable[[str], None],
    before: Callable[[], None] = lambda: None,
    early: EarlyPool | None = None,
    cluster: str | None = None,
) -> tuple[str, tuple[RunStats, ...]]:
    """Grade the screened submissions in the staging area; commit each student whole.
    ``before`` runs once the workers are starting, before anything is staged or graded;
    ``early``: a pool started before the settings were read, used if it is the one needed;
    ``cluster``: a Dask scheduler's address (else ``c.GradingCluster.scheduler``, if set)."""
    from nbgrader.coursedir import CourseDirectory

    from filmkit.grading.fastgrade import FastAutograde

    config = copy.deepcopy(course.config)
    relative = staging.root.relative_to(course.root)
    config.CourseDirectory.submitted_directory = str(relative / "submitted")
    config.CourseDirectory.autograded_directory = str(relative / "autograded")
    config.CourseDirectory.db_url = f"sqlite:///{staging.gradebook}"
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = "*"  # the staging area holds just the students chosen
    config.CourseDirectory.student_id_exclude = ""
    config.BaseConverter.force = config.Autograde.force = True  # the skipping is done
    grading = GradingLimits(
        config=course.config, **({"cell_timeout": cell_timeout} if cell_timeout else {})
    )
    limits = limits or grading.to_limits()
    log_dir = staging.root.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    nbgrader_log = log_dir / "nbgrader.log"
    committed: list[str] = []
    app = FastAutograde(coursedir=CourseDirectory(config=config), config=config)
    pool: WorkerPool | ClusterPool | None = None
    on_cluster = GradingCluster(config=course.config)
    address = cluster or on_cluster.scheduler
    notebooks = sum(sum(n.endswith(".ipynb") for n in f.files) for f in screened.values())
    source_dir = course.step_dir("source") / assignment
    release_dir = course.step_dir("release") / assignment

    def options_for(slots: int, *, local: bool) -> dict[str, Any]:
        return pool_options(
            course.config,
            notebooks=notebooks,
            jobs=slots,
            sandbox=sandbox,
            limits=limits,
            cell_timeout=cell_timeout,
            release_dir=release_dir,
            source_dir=source_dir,
            log_dir=log_dir,
            local=local,
        )

    if app.executes() and address:
        pool = ClusterPool(
            address,
            # each worker has its own slots: a warm-up whenever one may grade several
            options=options_for(1, local=False),
            sources=sources_digest([source_dir, release_dir]),
            cgroups=grading.cgroups,
            security=on_cluster.security(),
            timeout=on_cluster.timeout,
            say=say,
        )
    elif app.executes():
        try:
            support = grading.cgroup_support()
        except CgroupError as error:
            raise GradingError(
                f"{error}: grade as root, or set c.GradingLimits.cgroups = 'auto'"
            ) from None
        memory_warning = grading.warning(support)
        if memory_warning:
            say(memory_warning)
        options = options_for(jobs, local=True)
        if early is not None and early.options == options:
            pool, early.adopted = early.pool, True
        else:
            if early is not None:
                early.discard()
            # its fork servers start while the texts are verified and staged
            pool = WorkerPool(**options, wait=False)
        if pool.warning:
            say(pool.warning)

    def stage() -> None:
        before()
        staging.start()
        for student, found in screened.items():
            if asked.some_notebooks:
                staging.seed(student)  # the notebooks not asked for keep their result
            folder = staging.submitted(student)
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in found.files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
        if pool is not None:
            pool.ready()

    def on_student(student: str) -> None:
        found = screened[student]
        runs = [r for r in app.runs if r.student == student]
        outcome = judge(student, assignment, found.status, found.notes, runs)
        staging.commit(student, outcome.record())
        committed.append(student)
        outcomes[student] = outcome
        write_outcomes(course.root, assignment, outcomes)
        if progress is not None:
            progress(student, len(committed), len(screened))

    from nbgrader.converters.base import NbGraderException

    handler = logging.FileHandler(nbgrader_log, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger = app.log
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        with pool if pool is not None else contextlib.nullcontext(), nbgrader_warnings():
            stage()
            app.grade(pool, on_student=on_student, scratch_db={config.CourseDirectory.db_url})
    except NbGraderException:
        pass  # each failed student is reported below; the others are committed
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
    for student in screened:
        if student not in committed:
            had_result = staging.final_autograded(student).is_dir()
            staging.keep_failed(student)
            kept = outcomes.get(student)
            why = app.failures.get(student) or "nbgrader could not grade it"
            if screened[student].reason:
                why += f"; {screened[student].reason}"
            had = "previous result kept" if had_result else "no result recorded"
            outcomes[student] = Outcome(
                student,
                assignment,
                "failed",
                f"{why} ({had}; nbgrader's log: {nbgrader_log})",
                kept.graded_at if kept else "",
            )
    staging.finish()
    if isinstance(pool, ClusterPool) and pool.lost:
        write_outcomes(course.root, assignment, outcomes)
        left = len(screened) - len(committed)
        raise ClusterLost(
            f"{pool.lost}: {len(committed)} of {len(screened)} student(s) committed; the other "
            f"{left} keep their previous results. Run the same command again when the scheduler "
            "is back: what was committed is skipped"
        )
    stats = tuple(
        RunStats(
            r.student,
            r.notebook,
            r.result.status,
            r.result.wall_s,
            float(r.result.info.get("judge_s") or 0.0),
            str(r.result.info.get("worker") or ""),
        )
        for r in app.runs
    )
    if pool is None:
        return "not run (--no-execute)", stats
    return (pool.mode if not pool.warning else pool.warning), stats


def pool_options(
    config: Any,
    *,
    notebooks: int,
    jobs: int,
    sandbox: bool,
    limits: Limits | None,
    cell_timeout: float | None,
    release_dir: Path,
    source_dir: Path,
    log_dir: Path,
    local: bool = True,
) -> dict[str, Any]:
    """The :class:`WorkerPool` that grades ``notebooks`` notebooks of the assignment whose
    released and source notebooks are in those folders, as keyword arguments.

    A small run (:data:`SMALL_RUN` notebooks or fewer) runs them one after the other on one
    worker, as stock nbgrader runs them, but without a kernel start each: a second worker, or
    a warm-up run, would cost more than it saves. Otherwise the released version (it holds no
    secret) is run once per worker first, when some worker grades more than one notebook, to
    learn what gets imported; without a warm-up the workers import beforehand what the
    notebooks' own import lines name (released ones for the sandbox, the instructor's for the
    judge). Raises :class:`CgroupError` where the configuration demands control groups that
    this machine does not give. ``local`` False: for a cluster's workers, without ``jobs``,
    ``log_dir`` and ``cgroups`` (each worker has its own)."""
    from filmkit.grading.pool import JUDGE_PRELOAD, cells_for_job, files_from_dir, preload_for

    grading = GradingLimits(
        config=config, **({"cell_timeout": cell_timeout} if cell_timeout else {})
    )
    small = notebooks <= SMALL_RUN
    slots = 1 if small else min(jobs, notebooks)
    options: dict[str, Any] = dict(limits=limits or grading.to_limits(), sandbox=sandbox)
    if local:
        options.update(jobs=slots, log_dir=log_dir, cgroups=grading.cgroup_support())
    options["warmup"] = None
    released = sorted(release_dir.glob("*.ipynb"))
    if released and notebooks > slots and not small:
        import nbformat

        from filmkit.grading.fastgrade import judged_cells

        nb = nbformat.read(released[0], as_version=4)
        options["warmup"] = (cells_for_job(nb, judged_cells(nb)), files_from_dir(release_dir))
    else:
        options["preload"] = preload_for(_code(released))
        sources = sorted(source_dir.glob("*.ipynb"))
        options["judge_preload"] = tuple(
            m for m in preload_for(_code(sources)) if m in JUDGE_PRELOAD
        )
    return options


@dataclass
class EarlyPool:
    """A small run's worker, started before nbgrader is imported (see :func:`start_early`)."""

    options: dict[str, Any]
    pool: WorkerPool
    adopted: bool = False  # the run grades on it (and closes it when done)
    discarded: bool = False

    def discard(self) -> None:
        """Close the pool, unless the run took it or it is closed already."""
        if not self.adopted and not self.discarded:
            self.discarded = True
            self.pool.close()


def start_early(
    candidates: Sequence[str],
    course: Path | None,
    *,
    sandbox: bool,
    limits: Limits | None,
    cell_timeout: float | None,
) -> EarlyPool | None:
    """Start the worker of a run that is certainly small, before anything else.

    Reading nbgrader's settings imports nbgrader (about 1.3 s, mostly its Jupyter server
    extension) and a worker takes as long to start; started first, they overlap, which is most
    of a small run's fixed cost. The course and its folders are guessed as nbgrader's defaults
    would have them (``--course``, or the working folder's or filmkit's course; ``submitted/``,
    ``release/``, ``source/`` below it), the assignment as the first of ``candidates`` (the
    command line's words that are not options) handed in there. The pool is all its options
    say, so :func:`_grade_staged` uses it exactly when the settings it reads give the same
    :func:`pool_options`, and closes it otherwise: a wrong guess costs a worker's start, never a
    wrong run. None where the run may not be small or anything is unclear."""
    try:
        from filmkit.course.folder import CONFIG_FILE, default_course_dir, load_course

        here = Path.cwd()
        root = course or (here if (here / CONFIG_FILE).is_file() else default_course_dir())
        loaded = load_course(root)
        submitted = loaded.root / "submitted"
        found = [(a, list(submitted.glob(f"*/{a}/*.ipynb"))) for a in candidates if a]
        assignment, handed_in = next(((a, len(nbs)) for a, nbs in found if nbs), ("", 0))
        if not 0 < handed_in <= SMALL_RUN:
            return None
        options = pool_options(
            loaded.config,
            notebooks=handed_in,
            jobs=1,
            sandbox=sandbox,
            limits=limits,
            cell_timeout=cell_timeout,
            release_dir=loaded.root / "release" / assignment,
            source_dir=loaded.root / "source" / assignment,
            log_dir=Staging(loaded.root, assignment).root.parent / "logs",
        )
        with warnings.catch_warnings():  # a missing sandbox is said once, by the run itself
            warnings.simplefilter("ignore", RuntimeWarning)
            return EarlyPool(options, WorkerPool(**options, wait=False))
    except Exception:  # only an optimisation: the run starts its own worker
        return None


def _code(notebooks: Sequence[Path]) -> list[str]:
    """The code cells' sources of ``notebooks`` (unreadable ones give none)."""
    sources = []
    for path in notebooks:
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        for cell in cells if isinstance(cells, list) else []:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def judge(
    student: str,
    assignment: str,
    screened_status: str,
    notes: Sequence[str],
    runs: Sequence[NotebookRun],
) -> Outcome:
    """The status and one-line reason of a committed student."""
    status = screened_status
    reasons = list(notes)

    def worse(new: str) -> None:
        nonlocal status
        if STATUSES.index(new) > STATUSES.index(status):
            status = new

    for run in runs:
        result = run.result
        if run.written_left_out:
            reasons.append(
                f"{run.notebook}: {run.written_left_out} file(s) the notebook wrote were not "
                "kept (over the limit of files or bytes, or a name nbgrader reserves)"
            )
        running = result.info.get("running")  # the cell a stopped run was in, when known
        for index in sorted(result.cells):
            errors = [o for o in result.cells[index]["outputs"] if o["output_type"] == "error"]
            names = {str(e.get("ename")) for e in errors}
            where = run.grade_ids.get(index, f"cell {index + 1}")
            limited = [LIMIT_ERRORS[n] for n in sorted(names) if n in LIMIT_ERRORS]
            if limited:
                worse("limit")
                reasons.append(f"{run.notebook}: {where} {limited[0]}")
            stopped_here = index == running if isinstance(running, int) else names & ENDED_ERRORS
            if result.status != "ok" and stopped_here:
                worse("killed")
                ending = (
                    "hit a limit"
                    if result.status in ("timeout", "output_limit", "memory_limit")
                    else "ended"
                )
                reasons.append(
                    f"{run.notebook}: the run {ending} ({result.status}) at {where}; "
                    "every cell from there on scored 0"
                )
                break
    return Outcome(
        student,
        assignment,
        status,
        "; ".join(dict.fromkeys(reasons)),
        _now(),
    )


def stock_autograde(
    assignment: str, *, course: Path | None = None, students: Sequence[str] | None = None
) -> GradeSummary:
    """Stock ``nbgrader autograde`` through its API, one student at a time (a kernel per
    notebook): what ``filmkit grade`` must score the same as, and is measured against."""
    loaded = load_course(course)
    loaded.require(assignment)
    wanted = loaded.select_students(
        assignment,
        "submitted",
        students,
        what="submission",
        hint=f"submitted/<student>/{assignment}/",
    )
    api = loaded.api()
    for student in wanted:
        with nbgrader_warnings():
            check_result(
                api.autograde(assignment, student, force=True, create=True),
                f"nbgrader autograde of {student}'s {assignment}",
            )
    return GradeSummary(assignment, tuple(wanted), scores(loaded, assignment, wanted))


def question_order(course: Course, assignment: str) -> dict[tuple[str, str], int]:
    """(notebook, grade_id) → position in the source notebooks, to list questions in order."""
    order: dict[tuple[str, str], int] = {}
    for notebook in course.notebooks(assignment):
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                order[(notebook.stem, grade_id)] = len(order)
    return order


def scores(course: Course, assignment: str, students: Sequence[str] | None = None) -> pd.DataFrame:
    """The gradebook's score of every grade cell of every submission (SCORE_COLUMNS)."""
    from nbgrader.api import MissingEntry

    order = question_order(course, assignment)
    rows = []
    with course.gradebook() as gb:
        wanted = list(students) if students else sorted(s.id for s in gb.students)
        for student in wanted:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for g in notebook.grades:
                    kind = (
                        "task"
                        if type(g.cell).__name__ == "TaskCell"
                        else ("written" if g.cell.cell_type == "markdown" else "autograded")
                    )
                    rows.append(
                        {
                            "student": student,
                            "assignment": assignment,
                            "notebook": notebook.name,
                            "question": g.name,
                            "kind": kind,
                            "auto_score": g.auto_score,
                            "manual_score": g.manual_score,
                            "extra_credit": g.extra_credit,
                            "score": float(g.score),
                            "max_score": float(g.max_score),
                            "needs_manual_grade": bool(g.needs_manual_grade),
                            "failed_tests": bool(g.failed_tests),
                        }
                    )
    table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    position = [
        order.get((n, q), len(order))
        for n, q in zip(table["notebook"], table["question"], strict=True)
    ]
    table = table.assign(_position=position).sort_values(["student", "_position"], kind="stable")
    return table.drop(columns="_position").reset_index(drop=True)


def totals(scores: pd.DataFrame) -> pd.DataFrame:
    """Per student (and assignment): score, max_score, questions to mark by hand, tests failed."""
    grouped = scores.groupby(["student", "assignment"], sort=False)
    table = grouped.agg(
        score=("score", "sum"),
        max_score=("max_score", "sum"),
        to_mark=("needs_manual_grade", "sum"),
        failed=("failed_tests", "sum"),
    )
    table["to_mark"] = table["to_mark"].astype(int)
    table["failed"] = table["failed"].astype(int)
    return table.reset_index()
