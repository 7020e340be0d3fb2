"""nbgrader's own ``Autograde`` with one step replaced: where the cells run.

Everything but execution is nbgrader's stock code path: ``init_assignment`` (student, timestamp,
files), the sanitize pass (``ClearOutput``, ``DeduplicateIds``, ``OverwriteKernelspec``,
``OverwriteCells`` restoring every read-only cell and test, hidden ones included,
``CheckCellMetadata``), then the autograde pass, where ``SaveAutoGrades`` scores the outputs
with ``nbgrader.utils.determine_grade`` and writes the gradebook, in the main thread: the single
writer. ``Execute`` in that pass is swapped for :class:`PrecomputedExecute`.

Before nbgrader's loop starts, :meth:`FastAutograde._prefetch` builds the same sanitized
notebooks in memory with the same sanitize classes and hands them to the worker pool, which runs
them in parallel while the main thread works through the loop. A prefetched result is used only
if the cells it ran are identical to what nbgrader would run (a fingerprint); otherwise the
notebook runs again there and then. So a prefetch bug can cost time but never change a score.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbgrader import utils
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from filmkit.course.authoring import JUDGE_KEY
from filmkit.grading.pool import (
    Cell,
    NotebookJob,
    RunResult,
    WorkerPool,
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


class PrecomputedExecute(NbGraderPreprocessor):  # type: ignore[misc]
    """Stands in for ``nbgrader.preprocessors.Execute`` in the autograde pass."""

    driver: FastAutograde | None = None  # set by FastAutograde.start

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        driver = self.driver
        assert driver is not None
        student = resources["nbgrader"]["student"]
        notebook = resources["nbgrader"]["notebook"]
        cells = cells_for_job(nb, driver.judged_cells(notebook))
        entry = driver.registry.pop((student, notebook), None)
        if entry is not None and entry[0] == fingerprint(cells):
            future, prefetched = entry[1], True
        else:
            job = driver.notebook_job(cells, resources["metadata"]["path"], student, notebook)
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
        driver.runs.append(NotebookRun(student, notebook, result, grade_ids, prefetched))
        if driver.on_notebook is not None:
            driver.on_notebook(student, notebook)
        return nb, resources


def _is_execute(preprocessor: object) -> bool:
    if isinstance(preprocessor, str):
        return preprocessor.rsplit(".", 1)[-1] == "Execute"
    return isinstance(preprocessor, type) and issubclass(preprocessor, Execute)


class FastAutograde(Autograde):  # type: ignore[misc]
    """``Autograde`` running cells on a :class:`WorkerPool`; call :meth:`grade` (not start)."""

    pool: WorkerPool
    registry: dict[tuple[str, str], tuple[str, cf.Future[RunResult]]]
    runs: list[NotebookRun]
    on_notebook: Callable[[str, str], None] | None = None
    on_student: Callable[[str], None] | None = None

    def grade(
        self,
        pool: WorkerPool,
        *,
        on_notebook: Callable[[str, str], None] | None = None,
        on_student: Callable[[str], None] | None = None,
        scratch_db: Collection[str] = (),
    ) -> list[NotebookRun]:
        """Grade on ``pool``; ``scratch_db``: gradebook URLs that are disposable copies."""
        self.pool, self.registry, self.runs = pool, {}, []
        self.scratch_db = scratch_db
        self.on_notebook, self.on_student = on_notebook, on_student
        PrecomputedExecute.driver = self
        try:
            with reuse_sqlalchemy_engines(self.scratch_db), check_each_schema_once():
                self.start()
        finally:
            PrecomputedExecute.driver = None
        return self.runs

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        if self._sanitizing:
            preprocessors = self.sanitize_preprocessors
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
            found: dict[str, str] = {}
            path = Path(source) / f"{notebook}.ipynb"
            if path.is_file():
                for cell in nbformat.read(path, as_version=4).cells:
                    meta = cell.get("metadata", {})
                    grade_id = meta.get("nbgrader", {}).get("grade_id")
                    if grade_id and meta.get(JUDGE_KEY, {}).get("judge") is True:
                        found[str(grade_id)] = cell.source
            cache[notebook] = found
        return cache[notebook]

    def _own_notebook(self, student: str, notebook: str) -> dict[str, str]:
        submitted = self._format_source(self.coursedir.assignment_id, student)
        path = Path(submitted) / f"{notebook}.ipynb"
        if not path.is_file():
            return {}
        return {path.name: base64.b64encode(path.read_bytes()).decode()}

    # --- running ahead of nbgrader's loop -------------------------------------------------

    def convert_notebooks(self) -> None:
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
        from nbgrader.preprocessors import CheckCellMetadata

        regexp = self._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
        # CheckCellMetadata only validates, and nbgrader's own pass still runs it
        sanitizers = [
            p(parent=self.exporter)
            for p in self.sanitize_preprocessors
            if not (isinstance(p, type) and issubclass(p, CheckCellMetadata))
        ]
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
                nb = nbformat.read(path, as_version=4)
                for sanitizer in sanitizers:
                    nb, resources = sanitizer(nb, resources)
                cells = cells_for_job(nb, self.judged_cells(notebook))
                own = self._own_notebook(student, notebook)
                future = self.pool.submit(NotebookJob(cells, files, own))
                self.registry[(student, notebook)] = (fingerprint(cells), future)
