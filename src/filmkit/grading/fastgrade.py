"""nbgrader's own ``Autograde`` with one step replaced: where the cells run.

Everything but execution is nbgrader's stock code path: ``init_assignment`` (student, timestamp,
files), the sanitize pass (``ClearOutput``, ``DeduplicateIds``, ``OverwriteKernelspec``,
``OverwriteCells`` restoring every read-only cell and test, hidden ones included,
``CheckCellMetadata``), then the autograde pass, where ``SaveAutoGrades`` scores the outputs
with ``nbgrader.utils.determine_grade`` and writes the gradebook, in the main thread: the single
writer. ``Execute`` in that pass is swapped for :class:`PrecomputedExecute`.

Before nbgrader's loop starts, :meth:`FastAutograde._prefetch` builds the sanitized notebooks
in memory with nbgrader's own sanitize classes and hands them to the worker pool, which runs
them in parallel while the main thread works through the loop. A prefetched result is used only
if the cells it ran are identical to what nbgrader would run (a fingerprint); otherwise the
notebook runs again there and then. So a prefetch bug can cost time but never change a score.
nbgrader's sanitize pass then takes the prefetch's sanitized notebook instead of computing it a
second time (:class:`ReuseSanitized`: only when the submitted file and the resources are the
same; ``CheckCellMetadata`` still runs in nbgrader's pass), and nbconvert validates each pass's
notebook once, after its last preprocessor (``optimistic_validation``), not after every one.

Where filmkit's worker cannot stand in for nbgrader's kernel, nothing is run as if it could: a
notebook whose kernel (``c.Execute.kernel_name``, else its kernelspec after
``OverwriteKernelspec``) is not this Python's ipykernel fails that student with the reason
(:func:`kernel_problem`), as ``nbgrader autograde`` fails on a kernel it cannot start; with
nbgrader's ``Execute`` disabled (``--no-execute``) no worker is used and the autograde pass is
nbgrader's own. The files a notebook wrote in its working folder come back from the sandbox as
data and are written beside its autograded notebook (:func:`keep_written`), as they are when
nbgrader runs the notebook in ``autograded/``. Why a student failed is kept per student
(:attr:`FastAutograde.failures`: the exception nbgrader logged a traceback of).
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import contextlib
import copy
import fnmatch
import hashlib
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nbformat
from nbgrader import utils
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from filmkit.course.authoring import JUDGE_KEY
from filmkit.grading.pool import (
    Cell,
    Engine,
    NotebookJob,
    RunResult,
    cells_for_job,
    files_from_dir,
)
from filmkit.grading.sanitize import MarkupBudget, untrusted_outputs


@contextlib.contextmanager
def reuse_sqlalchemy_engines(scratch: Collection[str] = ()) -> Iterator[None]:
    """Open each gradebook's SQLAlchemy engine once, for the length of a grading run.

    nbgrader opens a new ``Gradebook`` (a new engine, table inspection and ``create_all``) in
    ``init_assignment`` and in every preprocessor that uses the database, about 7 times per
    notebook. Memoising ``create_engine`` per URL keeps nbgrader's code path and SQL unchanged
    and keeps the compiled-statement cache: a gradebook open plus commit drops from about 15 ms
    to 5 ms. Undone on exit (engines disposed, nbgrader's functions put back): later steps may
    delete and recreate the database files those engines point at.

    ``scratch``: SQLite URLs of disposable gradebooks (the staging copy, which a killed run
    simply starts again from): their connections skip the flush to disk at each of nbgrader's
    commits (``PRAGMA synchronous=OFF``), about 2 ms each, some 30 per notebook. The course's
    own gradebook keeps SQLite's full durability.
    """
    import nbgrader.api as api
    from sqlalchemy import event

    original, original_create_all = api.create_engine, api.Base.metadata.create_all
    engines: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
    created: set[int] = set()

    def create_engine(url: Any, *args: Any, **kwargs: Any) -> Any:
        key = (str(url), tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = original(url, *args, **kwargs)
            if str(url) in scratch:

                @event.listens_for(engines[key], "connect")
                def _no_flush(connection: Any, _record: Any) -> None:
                    connection.execute("PRAGMA synchronous=OFF")

        return engines[key]

    def create_all(bind: Any = None, **kwargs: Any) -> None:
        if bind is not None and id(bind) in created:
            return
        original_create_all(bind=bind, **kwargs)
        if bind is not None:
            created.add(id(bind))

    api.create_engine = create_engine
    api.Base.metadata.create_all = create_all
    try:
        yield
    finally:
        api.create_engine = original
        api.Base.metadata.create_all = original_create_all
        for engine in engines.values():
            engine.dispose()


@contextlib.contextmanager
def check_each_schema_once() -> Iterator[None]:
    """``jsonschema.validate`` that checks a schema once, not on every call.

    nbgrader's ``CheckCellMetadata`` validates every grade cell's metadata with
    ``jsonschema.validate``, which first checks the *schema* itself against its meta-schema:
    about 3 ms per cell, most of the grader's own time per notebook. The schema is nbgrader's
    constant, so it is checked the first time and its validator kept; each instance is still
    validated and reported as ``jsonschema.validate`` reports it (the best-matching error).
    Undone on exit."""
    import jsonschema  # type: ignore[import-untyped]
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
    from jsonschema.validators import validator_for  # type: ignore[import-untyped]

    original = jsonschema.validate
    kept: dict[tuple[int, Any], tuple[Any, Any]] = {}

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            original(instance, schema, cls, *args, **kwargs)
            return
        key = (id(schema), cls)
        if key not in kept or kept[key][0] is not schema:
            kind = cls if cls is not None else validator_for(schema)
            kind.check_schema(schema)
            kept[key] = (schema, kind(schema))
        error = best_match(kept[key][1].iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate
    try:
        yield
    finally:
        jsonschema.validate = original


def fingerprint(cells: list[Cell]) -> str:
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class NotebookRun:
    """How one notebook's cells ran (``result``) and which cell is which (grade ids)."""

    student: str
    notebook: str
    result: RunResult
    grade_ids: dict[int, str]  # cell index → nbgrader grade_id, for cells that have one
    prefetched: bool
    written_left_out: int = 0  # files the notebook wrote that were not kept (limits, names)


class ForeignKernelError(Exception):
    """A notebook declares a kernel the grading worker does not run (another language, another
    Python environment, or none installed by that name)."""


RESERVED: Final = ("timestamp.txt",)  # what nbgrader itself reads in autograded/


def keep_written(files: Mapping[str, bytes], folder: Path, ignore: Collection[str]) -> int:
    """Write the files a notebook wrote (relative path → bytes, checked by
    :func:`filmkit.grading.pool.written_files`) into ``folder``, its autograded folder, as plain
    files: never over or through anything already there (what nbgrader copied in stays as it
    put it), never a notebook, ``timestamp.txt`` or a name nbgrader ignores
    (``CourseDirectory.ignore``). Nothing of them is ever run. Returns how many were left out."""
    left_out = 0
    for name, data in files.items():
        parts = name.split("/")
        if (
            name.endswith(".ipynb")
            or name in RESERVED
            or any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in ignore)
        ):
            left_out += 1
            continue
        target = folder
        for part in parts[:-1]:
            target = target / part
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                break
        else:
            target = folder.joinpath(*parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except OSError:  # already there (or a folder of that name)
                left_out += 1
                continue
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            continue
        left_out += 1
    return left_out


def kernel_problem(nb: Any, configured: str = "") -> str:
    """Why the kernel nbgrader's ``Execute`` would start for ``nb`` is not the one the grading
    worker runs (this Python's ipykernel), or ``""`` when it is. Resolved by jupyter_client as
    ``Execute`` resolves it: ``c.Execute.kernel_name``, else the notebook's kernelspec (after
    nbgrader's ``OverwriteKernelspec``), else the default ``python3``; ``python`` is
    ``python3``, and a spec's ``python`` command is this interpreter."""
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import KernelManager

    name = configured or str(nb.metadata.get("kernelspec", {}).get("name") or "") or "python3"
    manager = KernelManager(kernel_name=name)
    try:
        spec = manager.kernel_spec
    except NoSuchKernel:
        return f"its kernel {name!r} is not installed (nbgrader autograde fails on it too)"
    if spec is None:
        return f"its kernel {name!r} has no kernelspec"
    command = manager.format_kernel_cmd()
    same_python = bool(command) and os.path.abspath(command[0]) == os.path.abspath(sys.executable)
    ipykernel = any(part.startswith("ipykernel") for part in command[1:3])
    if str(spec.language).lower() == "python" and same_python and ipykernel:
        return ""
    return (
        f"its kernel {name!r} ({spec.display_name}: {' '.join(command[:3])}) is not the "
        f"grading worker's Python ({sys.executable} with ipykernel); filmkit grade runs only "
        "that kernel, in its sandbox, and will not run this notebook as Python: grade it with "
        "`nbgrader autograde`, or give the source notebook this Python's kernel"
    )


class PrecomputedExecute(NbGraderPreprocessor):  # type: ignore[misc]
    """Stands in for ``nbgrader.preprocessors.Execute`` in the autograde pass."""

    driver: FastAutograde | None = None  # set by FastAutograde.start

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        driver = self.driver
        assert driver is not None
        student = resources["nbgrader"]["student"]
        notebook = resources["nbgrader"]["notebook"]
        problem = driver.kernel_problem(nb)
        if problem:  # never run as Python what declares another kernel
            driver.registry.pop((student, notebook), None)
            raise ForeignKernelError(problem)
        cells = cells_for_job(nb, driver.judged_cells(notebook))
        entry = driver.registry.pop((student, notebook), None)
        if entry is not None and entry[0] == fingerprint(cells):
            future, prefetched = entry[1], True
        else:
            job = driver.notebook_job(cells, resources["metadata"]["path"], student, notebook)
            assert driver.pool is not None
            future, prefetched = driver.pool.submit(job), False
        result = future.result()
        budget = MarkupBudget()  # bleach is slow on crafted markup: a budget per notebook
        for index, cell in result.cells.items():
            outputs = cell["outputs"]
            if index not in result.judged:  # from the process that ran the student's code
                outputs = untrusted_outputs(outputs, budget=budget)
            nb.cells[index].outputs = [nbformat.from_dict(o) for o in outputs]
            nb.cells[index].execution_count = cell["execution_count"]
        grade_ids = {
            i: str(c.metadata["nbgrader"]["grade_id"])
            for i, c in enumerate(nb.cells)
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        }
        # the files the notebook wrote, beside it, as they are beside a notebook nbgrader ran
        left_out = keep_written(
            result.written, Path(resources["metadata"]["path"]), driver.coursedir.ignore
        )
        left_out += int(result.info.get("written_dropped") or 0)
        driver.runs.append(NotebookRun(student, notebook, result, grade_ids, prefetched, left_out))
        if driver.on_notebook is not None:
            driver.on_notebook(student, notebook)
        return nb, resources


@dataclass(frozen=True)
class Sanitized:
    """A notebook the prefetch sanitized: what it was made from, and the result."""

    digest: str  # sha256 of the submitted file's bytes
    nbgrader: dict[str, Any]  # the resources the sanitizers read
    nb: Any


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ReuseSanitized(NbGraderPreprocessor):  # type: ignore[misc]
    """Stands in for the sanitize pass's preprocessors (all but the trailing
    ``CheckCellMetadata``, which still runs): the prefetch already ran those same nbgrader
    classes on the same file, so their result is taken when the file's bytes and the resources
    they read are unchanged; otherwise they run here, as in stock nbgrader. They read only the
    notebook, ``resources["nbgrader"]`` and the gradebook's source cells, which autograding
    never changes, so the result is the same either way; each notebook is sanitized once."""

    driver: FastAutograde | None = None  # set by FastAutograde.start

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        driver = self.driver
        assert driver is not None
        key = (resources["nbgrader"]["student"], resources["nbgrader"]["notebook"])
        kept = driver.sanitized.pop(key, None)
        path = Path(resources["metadata"]["path"]) / f"{resources['unique_key']}.ipynb"
        if (
            kept is not None
            and kept.nbgrader == resources["nbgrader"]
            and path.is_file()
            and kept.digest == file_digest(path)
        ):
            return kept.nb, resources
        for sanitizer in driver.sanitizers():
            nb, resources = sanitizer(nb, resources)
        return nb, resources


def _is_execute(preprocessor: object) -> bool:
    if isinstance(preprocessor, str):
        return preprocessor.rsplit(".", 1)[-1] == "Execute"
    return isinstance(preprocessor, type) and issubclass(preprocessor, Execute)


def judged_cells(nb: Any) -> dict[str, str]:
    """Grade id → source of an instructor notebook's read-only cells marked for the judge
    (``{"filmkit": {"judge": true}}``): the source notebook's, or the released one's (the same
    locked cells, so a warm-up can run them where they will run)."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        grade_id = meta.get("nbgrader", {}).get("grade_id")
        if grade_id and meta.get(JUDGE_KEY, {}).get("judge") is True:
            found[str(grade_id)] = cell.source
    return found


def _split_checks(preprocessors: list[Any]) -> tuple[list[Any], list[Any]]:
    """``sanitize_preprocessors`` → (those before the trailing ``CheckCellMetadata``s, those);
    nothing to reuse (``([], all)``) if a check sits anywhere else or a name is a string."""
    from nbgrader.preprocessors import CheckCellMetadata

    def is_check(p: Any) -> bool:
        return isinstance(p, type) and issubclass(p, CheckCellMetadata)

    tail = 0
    while tail < len(preprocessors) and is_check(preprocessors[len(preprocessors) - 1 - tail]):
        tail += 1
    head = list(preprocessors[: len(preprocessors) - tail])
    if any(is_check(p) or not isinstance(p, type) for p in head):
        return [], list(preprocessors)
    return head, list(preprocessors[len(preprocessors) - tail :])


class FastAutograde(Autograde):  # type: ignore[misc]
    """``Autograde`` running cells on an :class:`Engine` (a :class:`WorkerPool`, or a Dask
    cluster's); call :meth:`grade` (not start)."""

    pool: Engine | None
    registry: dict[tuple[str, str], tuple[str, cf.Future[RunResult]]]
    runs: list[NotebookRun]
    failures: dict[str, str]  # student → why nbgrader could not grade them (one line)
    on_notebook: Callable[[str, str], None] | None = None
    on_student: Callable[[str], None] | None = None

    def grade(
        self,
        pool: Engine | None,
        *,
        on_notebook: Callable[[str, str], None] | None = None,
        on_student: Callable[[str], None] | None = None,
        scratch_db: Collection[str] = (),
    ) -> list[NotebookRun]:
        """Grade on ``pool``; ``scratch_db``: gradebook URLs that are disposable copies.
        ``pool`` None: nothing is run (:meth:`executes` is false: ``--no-execute``), the
        autograde pass is nbgrader's own, its disabled ``Execute`` included."""
        self.pool, self.registry, self.runs, self.failures = pool, {}, [], {}
        self.scratch_db = scratch_db
        self.on_notebook, self.on_student = on_notebook, on_student
        self.sanitized: dict[tuple[str, str], Sanitized] = {}
        self._student = ""
        PrecomputedExecute.driver = ReuseSanitized.driver = self
        try:
            with reuse_sqlalchemy_engines(self.scratch_db), check_each_schema_once():
                self.start()
        finally:
            PrecomputedExecute.driver = ReuseSanitized.driver = None
        return self.runs

    def executes(self) -> bool:
        """Whether the autograde pass runs the notebooks: nbgrader's ``Execute`` is among its
        preprocessors and enabled (``--no-execute`` disables it, as in nbgrader)."""
        if not any(_is_execute(p) for p in self.autograde_preprocessors):
            return False
        return bool(Execute(parent=self).enabled)

    def kernel_problem(self, nb: Any) -> str:
        """:func:`kernel_problem` for this run's configuration, once per kernel name."""
        if "_execute" not in self.__dict__:
            self.__dict__["_execute"] = Execute(parent=self)
        configured = str(self.__dict__["_execute"].kernel_name or "")
        name = configured or str(nb.metadata.get("kernelspec", {}).get("name") or "")
        cache: dict[str, str] = self.__dict__.setdefault("_kernels", {})
        if name not in cache:
            cache[name] = kernel_problem(nb, configured)
        return cache[name]

    # --- why a student failed: nbgrader logs a traceback and goes on with the next one ----

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        self._student = student_id
        return bool(super().init_destination(assignment_id, student_id))

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        try:
            super().init_assignment(assignment_id, student_id)
        except Exception as error:
            self._failed(student_id, "", error)
            raise

    def convert_single_notebook(self, notebook_filename: str) -> None:
        try:
            super().convert_single_notebook(notebook_filename)
        except Exception as error:
            self._failed(self._student, Path(notebook_filename).name, error)
            raise

    def _failed(self, student: str, notebook: str, error: BaseException) -> None:
        if student and student not in self.failures:
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            where = f"{notebook}: " if notebook else ""
            self.failures[student] = (where + last.splitlines()[0])[:400]

    def sanitizers(self) -> list[Any]:
        """The sanitize pass's preprocessors but its trailing ``CheckCellMetadata`` (which only
        validates and still runs in nbgrader's own pass), made once per run."""
        if "_sanitizers" not in self.__dict__:
            head, _ = _split_checks(self.sanitize_preprocessors)
            self.__dict__["_sanitizers"] = [p(parent=self.exporter) for p in head]
        made: list[Any] = self.__dict__["_sanitizers"]
        return made

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        # nbconvert validates the notebook after every preprocessor by default; once per pass,
        # after the last one, is its documented alternative
        self.exporter.optimistic_validation = True
        if self._sanitizing:
            head, tail = _split_checks(self.sanitize_preprocessors)
            preprocessors = [ReuseSanitized, *tail] if head else list(tail)
        elif self.pool is None:  # nothing runs (--no-execute): nbgrader's pass as it is
            preprocessors = list(self.autograde_preprocessors)
        else:
            preprocessors = [
                PrecomputedExecute if _is_execute(p) else p for p in self.autograde_preprocessors
            ]
        for preprocessor in preprocessors:
            self.exporter.register_preprocessor(preprocessor)

    def set_permissions(self, assignment_id: str, student_id: str) -> None:
        # nbgrader calls this once a student's notebooks are all converted: a complete result
        super().set_permissions(assignment_id, student_id)
        if self.on_student is not None:
            self.on_student(student_id)

    def notebook_job(
        self, cells: list[Cell], folder: str, student: str, notebook: str
    ) -> NotebookJob:
        """A notebook's run: the sandbox sees ``folder``'s non-notebook files (never a notebook:
        the sanitized one holds the hidden tests); the judge sees the student's own notebook as
        handed in, which ``marking.evidence_report`` reads the essays from."""
        return NotebookJob(cells, files_from_dir(folder), self._own_notebook(student, notebook))

    def judged_cells(self, notebook: str) -> dict[str, str]:
        """Grade id → source of the source notebook's read-only cells marked for the judge.

        Read from ``source/`` (the instructor's), never from the submission, whose metadata the
        student may have edited; nbgrader's ``OverwriteCells`` has restored those cells' sources."""
        cache: dict[str, dict[str, str]] = self.__dict__.setdefault("_judged_cache", {})
        if notebook not in cache:
            source = self.coursedir.format_path(
                self.coursedir.source_directory, ".", self.coursedir.assignment_id
            )
            path = Path(source) / f"{notebook}.ipynb"
            cache[notebook] = (
                judged_cells(nbformat.read(path, as_version=4)) if path.is_file() else {}
            )
        return cache[notebook]

    def _own_notebook(self, student: str, notebook: str) -> dict[str, str]:
        submitted = self._format_source(self.coursedir.assignment_id, student)
        path = Path(submitted) / f"{notebook}.ipynb"
        if not path.is_file():
            return {}
        return {path.name: base64.b64encode(path.read_bytes()).decode()}

    # --- running ahead of nbgrader's loop -------------------------------------------------

    def convert_notebooks(self) -> None:
        if self.pool is None:
            super().convert_notebooks()
            return
        try:
            self._prefetch()
        except Exception:  # only an optimisation: nbgrader's loop runs every notebook anyway
            self.log.exception("prefetch failed; notebooks will run one at a time")
        super().convert_notebooks()

    def _scratch_files(self, assignment_id: str, student_id: str) -> dict[str, str]:
        """What ``init_assignment`` puts beside the notebook: the submission's other files,
        overwritten by the source versions (minus ``exclude_overwriting``)."""
        found: dict[str, str] = {}
        submitted = self._format_source(assignment_id, student_id)
        for path in utils.find_all_files(submitted, [*self.coursedir.ignore, "*.ipynb"]):
            found[os.path.relpath(path, submitted)] = path
        source = self.coursedir.format_path(self.coursedir.source_directory, ".", assignment_id)
        excluded = {
            os.path.join(source, x) for x in self.exclude_overwriting.get(assignment_id, [])
        }
        for path in utils.find_all_files(source, [*self.coursedir.ignore, "*.ipynb"]):
            if path not in excluded:
                found[os.path.relpath(path, source)] = path
        return {rel: base64.b64encode(Path(p).read_bytes()).decode() for rel, p in found.items()}

    def _prefetch(self) -> None:
        from nbgrader.api import Gradebook, MissingEntry

        regexp = self._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
        sanitizers = self.sanitizers()
        known: dict[str, set[str]] = {}
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            for key in self.assignments:
                match = re.match(regexp, key)
                if match is None:
                    continue
                name = match.group("assignment_id")
                try:
                    known[name] = {n.name for n in gb.find_assignment(name).notebooks}
                except MissingEntry:
                    known[name] = set()
        for key in sorted(self.assignments):
            match = re.match(regexp, key)
            if match is None:
                continue
            assignment, student = match.group("assignment_id"), match.group("student_id")
            files = self._scratch_files(assignment, student)
            for path in sorted(self.assignments[key]):
                notebook = os.path.splitext(os.path.basename(path))[0]
                if notebook not in known.get(assignment, ()):
                    continue
                resources = self.init_single_notebook_resources(path)
                digest = file_digest(path)
                nb = nbformat.read(path, as_version=4)
                if hasattr(nbformat.validator, "normalize"):  # as nbconvert's exporter does
                    _, nb = nbformat.validator.normalize(nb)
                for sanitizer in sanitizers:
                    nb, resources = sanitizer(nb, resources)
                # nothing below changes nb: nbgrader's own pass takes it as it is
                self.sanitized[(student, notebook)] = Sanitized(
                    digest, copy.deepcopy(resources["nbgrader"]), nb
                )
                if self.kernel_problem(nb):  # fails in nbgrader's pass, where it is reported
                    continue
                assert self.pool is not None
                cells = cells_for_job(nb, self.judged_cells(notebook))
                own = self._own_notebook(student, notebook)
                future = self.pool.submit(NotebookJob(cells, files, own))
                self.registry[(student, notebook)] = (fingerprint(cells), future)
