"""The grading engine on a Dask worker: a worker plugin hosting the local engine, and its task.

``filmkit grade --cluster`` (:mod:`filmkit.grading.cluster`) registers :class:`GradingEngine` with
the scheduler; Dask attaches it to every worker, those already there and those that join later
(a worker its nanny restarted included). On each, :meth:`GradingEngine.setup` first checks the
worker against the grader (:mod:`filmkit.grading.identity`: filmkit's files, the libraries, the
verified source texts): a worker that differs starts nothing and *refuses* every notebook, saying
which worker it is and what differs. Otherwise it starts the same engine local grading uses, a
:class:`~filmkit.grading.pool.WorkerPool` (fork servers in bubblewrap, sandbox and judge, one slot
per worker thread) with the run's limits and warm-up, and the control groups this machine has.

:func:`grade_notebook` is the task: one notebook's job (plain data) in, its
:class:`~filmkit.grading.pool.RunResult` out as JSON text. It refuses a job made from other
assignment sources than the engine was set up with (a plugin of an earlier run, before a test was
fixed). The worker never writes a result anywhere: the grader, the one writer, commits it. A
worker killed mid-notebook loses nothing: the scheduler gives its tasks to another worker, and the
notebook's fork servers die with it (``--die-with-parent``, ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import os
import socket
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from distributed import WorkerPlugin, get_worker

from filmkit.grading.pool import FIRST_UID, JUDGE_UID_OFFSET, NotebookJob, WorkerPool

if TYPE_CHECKING:
    from distributed import Worker

PLUGIN: Final = "filmkit-grading-engine"
MAX_SLOTS: Final = 32  # slots of one worker: each worker on a machine takes its own uid block
UID_BLOCKS: Final = JUDGE_UID_OFFSET // MAX_SLOTS  # blocks below the judges' uids


class WorkerRefused(RuntimeError):
    """A worker will not grade: it differs from the grader, or the job is of other sources."""

    def __init__(self, worker: str, why: str) -> None:
        super().__init__(f"Dask worker {worker} refuses to grade: {why}")
        self.worker, self.why = worker, why


class GradingEngine(WorkerPlugin):
    """The engine a run asks every worker to host (pickled by the grader, set up on each)."""

    idempotent = False  # a new run's engine replaces the last one's

    def __init__(
        self,
        *,
        options: dict[str, Any],
        identity: dict[str, Any],
        sources: str,
        cgroups: str,
    ) -> None:
        """``options``: :class:`WorkerPool`'s keyword arguments but ``jobs``, ``log_dir`` and
        ``cgroups`` (this worker's own); ``identity``: the grader's
        :class:`~filmkit.grading.identity.EngineIdentity` as data; ``sources``: the digest of
        the assignment sources the jobs are made from; ``cgroups``: ``c.GradingLimits.cgroups``."""
        self.options, self.identity, self.sources, self.cgroups = (
            options,
            identity,
            sources,
            cgroups,
        )
        self.pool: WorkerPool | None = None
        self.refusal = ""
        self.warnings: list[str] = []
        self.address = ""

    def __getstate__(self) -> dict[str, Any]:  # what the grader sends: settings, never a pool
        return {
            "options": self.options,
            "identity": self.identity,
            "sources": self.sources,
            "cgroups": self.cgroups,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def setup(self, worker: Worker) -> None:
        from filmkit.grading.identity import EngineIdentity, this_machine
        from filmkit.grading.limits import GradingLimits

        self.address = str(worker.address)
        try:
            mine = this_machine()
        except Exception as error:  # an altered text, a manifest it cannot read
            self.refusal = f"its source texts do not verify ({error})"
            return
        differences = mine.differences(EngineIdentity.from_data(self.identity))
        if differences:
            self.refusal = (
                f"on {socket.gethostname()} it has {'; '.join(differences)}; install the "
                "grader's filmkit (the same uv.lock) and source texts on it and restart it"
            )
            return
        grading = GradingLimits(cgroups=self.cgroups)
        support = grading.cgroup_support()
        warning = grading.warning(support)
        if warning:
            self.warnings.append(warning)
        slots = max(1, min(int(worker.state.nthreads), MAX_SLOTS))
        log_dir = Path(worker.local_directory or tempfile.mkdtemp()) / "filmkit-logs"
        self.pool = WorkerPool(
            **self.options,
            jobs=slots,
            log_dir=log_dir,
            cgroups=support,
            first_uid=FIRST_UID + MAX_SLOTS * _uid_block(worker),
            wait=False,
        )
        if self.pool.warning:
            self.warnings.append(self.pool.warning)

    def teardown(self, worker: Worker) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def state(self) -> dict[str, Any]:
        """What the grader asks each worker before it sends work (:func:`engine_state`)."""
        if self.refusal:
            return {"state": "refused", "why": self.refusal, "warnings": []}
        if self.pool is None:
            return {"state": "missing", "why": "its engine did not start", "warnings": []}
        try:
            if not self.pool.started():  # never waits: this runs in the worker's event loop
                return {"state": "starting", "why": "", "warnings": []}
        except Exception as error:  # a sandbox that cannot start on this machine
            why = f"its sandbox cannot start ({error})"
            return {"state": "refused", "why": why, "warnings": []}
        return {
            "state": "ready",
            "why": "",
            "warnings": self.warnings,
            "slots": self.pool.jobs,
            "mode": self.pool.mode,
        }

    def grade(self, job: dict[str, Any], sources: str) -> str:
        if self.refusal:
            raise WorkerRefused(self.address, self.refusal)
        if sources != self.sources:
            raise WorkerRefused(
                self.address,
                "its engine was set up for other sources of this assignment (another run's); "
                "run filmkit grade again",
            )
        assert self.pool is not None
        result = self.pool.submit(NotebookJob(**job)).result()
        result.info["worker"] = self.address  # which worker graded it, for the run's record
        return result.to_data()


def _uid_block(worker: Worker) -> int:
    """Which uid block this worker's slots take: its name when it is a number (as a
    ``LocalCluster`` and ``dask worker --name N`` name them), else one its address picks."""
    name = worker.name
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        return int(name) % UID_BLOCKS
    return zlib.crc32(str(worker.address).encode()) % UID_BLOCKS


def _engine(worker: Worker) -> GradingEngine:
    engine = worker.plugins.get(PLUGIN)
    if not isinstance(engine, GradingEngine):
        raise WorkerRefused(str(worker.address), "it has no filmkit grading engine")
    return engine


def engine_state(dask_worker: Worker) -> dict[str, Any]:
    """Run by the grader on every worker (``Client.run``): the engine's state, plain data."""
    state = _engine(dask_worker).state()
    state["pid"] = os.getpid()
    return state


def grade_notebook(job: dict[str, Any], sources: str) -> str:
    """The task: grade one notebook on this worker's engine; its result as JSON text."""
    return _engine(get_worker()).grade(job, sources)
