"""The grader's side of the workers: a sandbox and a judge per job slot, and the router between them.

    with WorkerPool(jobs=2, limits=Limits(...), log_dir=...) as pool:
        future = pool.submit(NotebookJob(cells, files, notebook_files))  # Future[RunResult]

Each slot has two fork servers (:mod:`filmkit.sandbox.forkserver`), each in its own bubblewrap
sandbox with its own unprivileged uid: one in the **sandbox** role, whose children run the
student's cells, and one in the **judge** role, whose children run the instructor's tests
(:mod:`filmkit.judge`). For each notebook the slot makes a socket pair per child, passes one end
to each fork server (which forks and never reads it) and keeps the other: the grader alone talks
to both children and routes between them (:mod:`filmkit.protocol`): the sandbox's data for a test to
the judge, the judge's calls of a student's function to the sandbox and their results back, the
judge's verdict into the result. The grader enforces every time limit, and waits for the end of
the sandbox channel (every process of the run held it) before the slot takes the next notebook.

Everything the sandbox sends is untrusted: parsed as JSON (never unpickled), records of another
job discarded, outputs coerced into plain nbformat outputs by :func:`clean_outputs`, the files
the notebook wrote (:func:`written_files`) kept only as data under safe relative paths, counted
against their own limits here. A run that
did not finish has every cell it did not finish turned into an error (:func:`finalize`), so
killing its own process can never earn a submission the marks of the tests that did not run.
Which cells the judge ran is recorded (:attr:`RunResult.judged`): only those outputs are trusted.
"""

from __future__ import annotations

import ast
import base64
import concurrent.futures as cf
import contextlib
import copy
import json
import os
import queue
import secrets
import select
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Final, Protocol

from filmkit import protocol
from filmkit.grading import bwrap
from filmkit.grading import cgroups as cg

Cell = dict[str, Any]  # {"cell_type", "source", "locked", "judge", "fetch", "sandbox_source"}
Output = dict[str, Any]
MODULE: Final = "filmkit.sandbox.forkserver"
DEFAULT_PRELOAD: Final = (
    "pandas",
    "plotly.express",
    "plotly.graph_objects",
    "filmkit.corpus",
    "filmkit.evidence",
    "filmkit.analysis",
    "filmkit.kernel.marking",
)
# The judge runs the instructor's tests, which check data: no plotting library unless a
# warm-up run shows the tests import one.
JUDGE_PRELOAD: Final = tuple(m for m in DEFAULT_PRELOAD if not m.startswith("plotly"))
FIRST_UID: Final = 64001  # one unprivileged uid per worker, so workers don't share RLIMIT_NPROC
JUDGE_UID_OFFSET: Final = 500  # the judges' uids: FIRST_UID + JUDGE_UID_OFFSET + k


@dataclass(frozen=True)
class Limits:
    """What one notebook may use. Times in seconds, sizes in bytes."""

    cell_timeout: float = 60.0  # per cell; then that cell is an error and the next one runs
    grace: float = 2.0  # a cell that ignores the timeout is killed this much later
    nb_timeout: float = 300.0  # the whole notebook
    mem_bytes: int = 2 << 30  # address space per process
    nproc: int = 64  # processes (a fork bomb stops here)
    max_output_bytes: int = 5 << 20  # per cell
    max_notebook_output_bytes: int = 20 << 20  # per notebook; then the run ends
    fsize: int = 64 << 20  # largest file a submission may write in its scratch folder
    scratch_bytes: int = 256 << 20  # each of the notebook's private tmpfs mounts
    max_written_files: int = 100  # files the notebook writes that come back (autograded/)
    max_written_bytes: int = 16 << 20  # ... and their bytes, all together

    def job(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    # ok | timeout | died | crash | output_limit | memory_limit | protocol_error | sandbox_died
    # | judge_died
    status: str
    cells: dict[int, dict[str, Any]]  # cell index → {"execution_count", "outputs"}
    wall_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    judged: frozenset[int] = frozenset()  # cells whose outputs the judge produced (trusted)
    # files the notebook wrote in its working folder (relative path → bytes; data, never run),
    # checked by written_files; info["written_dropped"]: how many were not brought back
    written: dict[str, bytes] = field(default_factory=dict)

    def to_data(self) -> str:
        """As JSON text: how a result crosses from a cluster's worker to the grader."""
        return json.dumps(
            {
                "status": self.status,
                "cells": {str(k): v for k, v in self.cells.items()},
                "wall_s": self.wall_s,
                "info": self.info,
                "judged": sorted(self.judged),
                "written": {k: base64.b64encode(v).decode() for k, v in self.written.items()},
            }
        )

    @classmethod
    def from_data(cls, text: str) -> RunResult:
        """The result :meth:`to_data` wrote, parsed as JSON (never unpickled) and checked
        field by field; raises ValueError for anything else."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            raise ValueError("not a notebook result")
        cells, info, written = data.get("cells"), data.get("info"), data.get("written")
        judged = data.get("judged")
        if not (
            isinstance(cells, dict)
            and all(
                isinstance(v, dict) and isinstance(v.get("outputs"), list) for v in cells.values()
            )
            and isinstance(info, dict)
            and isinstance(written, dict)
            and all(isinstance(v, str) for v in written.values())
            and isinstance(judged, list)
            and all(isinstance(i, int) for i in judged)
            and isinstance(data.get("wall_s"), int | float)
        ):
            raise ValueError("a notebook result with fields of the wrong kind")
        return cls(
            data["status"],
            {int(k): v for k, v in cells.items()},
            float(data["wall_s"]),
            info,
            frozenset(judged),
            {k: base64.b64decode(v, validate=True) for k, v in written.items()},
        )


class Engine(Protocol):
    """What grading needs of the workers: this machine's :class:`WorkerPool`, or a cluster's
    (:class:`filmkit.grading.cluster.ClusterPool`)."""

    mode: str
    warning: str | None

    def submit(self, job: NotebookJob) -> cf.Future[RunResult]: ...

    def ready(self) -> None: ...

    def close(self) -> None: ...


class TemplateDied(Exception):
    pass


@dataclass(frozen=True)
class NotebookJob:
    """One notebook to run: ``cells`` as :func:`cells_for_job` makes them, the files of its
    working folder (relative path → base64), and the files of the judge's (the notebook as
    handed in, for the essays' evidence reports)."""

    cells: list[Cell]
    files: dict[str, str]
    judge_files: dict[str, str] = field(default_factory=dict)
    report_modules: bool = False  # a warm-up: report the modules it imported


class Template:
    """One fork server process, in the ``sandbox`` or the ``judge`` role."""

    def __init__(
        self,
        role: str,
        mode: str,
        uid: int,
        preload: Sequence[str],
        log_dir: Path,
        group: cg.WorkerGroup | None = None,
    ) -> None:
        self.role, self.mode, self.uid, self.group = role, mode, uid, group
        self.log = open(log_dir / f"{role}-{uid}.log", "ab")  # noqa: SIM115 (closed in close())
        self.control, theirs = protocol.control_pair()
        fd = theirs.fileno()
        args = ["-m", MODULE, "--role", role, "--preload", ",".join(preload), "--uid", str(uid)]
        args += ["--control-fd", str(fd)]
        if mode in bwrap.MODES:  # privileged or unprivileged (user-namespace) bubblewrap
            argv = [*bwrap.bwrap_argv(uid=uid), sys.executable, *args, "--isolate", "ns"]
            env = None
        else:
            argv = [sys.executable, *args, "--isolate", mode]
            env = {**os.environ, **bwrap.sandbox_env({"FILMKIT_ROOT": _host_root()})}
            env["PYTHONPATH"] = str(bwrap.package_src())
            env["PATH"] = os.environ.get("PATH", "")
            env["HOME"] = os.environ.get("HOME", "/tmp")
            env["IPYTHONDIR"] = env["MPLCONFIGDIR"] = "/tmp"
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            pass_fds=(fd,),
            env=env,
            # into its control group before it execs: every process it forks is bounded with it
            preexec_fn=group.preexec if group is not None else None,
        )
        theirs.close()
        self.ready: dict[str, Any] | None = None
        self.exited: dict[str, int | None] = {}  # job → exit code, as the server reports them

    def wait_ready(self, timeout: float = 180) -> dict[str, Any]:
        if self.ready is None:
            record = self.next_event(timeout)
            if record.get("ev") != "ready":
                raise TemplateDied(f"the {self.role} worker did not start; see {self.log.name}")
            self.ready = record
            self.ready["spawn_s"] = round(time.perf_counter() - self.started, 3)
        return self.ready

    def next_event(self, timeout: float) -> protocol.Record:
        readable, _, _ = select.select([self.control], [], [], timeout)
        if not readable:
            raise TemplateDied(f"the {self.role} worker did not answer in time")
        try:
            record, fds = protocol.recv_control(self.control)
        except (OSError, protocol.ProtocolError) as error:
            raise TemplateDied(f"the {self.role} worker's control socket failed: {error}") from None
        for fd in fds:
            os.close(fd)
        if record is None:
            raise TemplateDied(
                f"the {self.role} worker exited (code {self.proc.poll()}); see {self.log.name}"
            )
        if record.get("ev") == "exited":
            code = record.get("exit_code")
            self.exited[str(record.get("job"))] = code if isinstance(code, int) else None
        return record

    def fork(self, job: str) -> protocol.Channel:
        """A new child for ``job``; the grader's end of its channel."""
        self.wait_ready()
        ours, theirs = protocol.channel_pair()
        try:
            protocol.send_control(self.control, {"op": "fork", "job": job}, [theirs.fileno()])
        except OSError as error:
            ours.close()
            raise TemplateDied(f"the {self.role} worker is gone") from error
        finally:
            theirs.close()
        deadline = time.monotonic() + 30
        while True:
            record = self.next_event(max(0.0, deadline - time.monotonic()))
            if record.get("ev") == "forked" and record.get("job") == job:
                return ours

    def kill(self, job: str) -> None:
        with contextlib.suppress(OSError):
            protocol.send_control(self.control, {"op": "kill", "job": job})

    def wait_exit(self, job: str, timeout: float = 10) -> int | None:
        deadline = time.monotonic() + timeout
        while job not in self.exited:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TemplateDied(f"a {self.role} child did not exit")
            self.next_event(left)
        return self.exited.pop(job)

    def import_modules(self, modules: Sequence[str]) -> dict[str, Any]:
        protocol.send_control(self.control, {"op": "import", "modules": list(modules)})
        while True:
            record = self.next_event(120)
            if record.get("ev") == "imported":
                return record

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.control.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _host_root() -> str:
    from filmkit.paths import project_root

    return str(project_root())


_OUTPUT_TYPES: Final = {"stream", "display_data", "execute_result", "error"}


def clean_outputs(outputs: object) -> list[Output]:
    """Coerce untrusted outputs into valid nbformat v4 outputs."""
    cleaned: list[Output] = []
    if not isinstance(outputs, list):
        return cleaned
    for out in outputs[:1000]:
        if not isinstance(out, dict) or out.get("output_type") not in _OUTPUT_TYPES:
            continue
        kind = out["output_type"]
        if kind == "stream":
            name = "stderr" if out.get("name") == "stderr" else "stdout"
            cleaned.append({"output_type": kind, "name": name, "text": str(out.get("text", ""))})
        elif kind == "error":
            tb = out.get("traceback")
            cleaned.append(
                {
                    "output_type": kind,
                    "ename": str(out.get("ename", "Error")),
                    "evalue": str(out.get("evalue", "")),
                    "traceback": [str(x) for x in tb] if isinstance(tb, list) else [],
                }
            )
        else:
            raw = out.get("data")
            data = {
                str(k): (v if isinstance(v, str | dict | list) else str(v))
                for k, v in (raw.items() if isinstance(raw, dict) else ())
            }
            meta = out.get("metadata")
            entry: Output = {
                "output_type": kind,
                "data": data,
                "metadata": meta if isinstance(meta, dict) else {},
            }
            if kind == "execute_result":
                count = out.get("execution_count")
                entry["execution_count"] = count if isinstance(count, int) else None
            cleaned.append(entry)
    return cleaned


# How a run that did not finish is shown in the cell it was running.
ENDINGS: Final = {
    "timeout": ("CellTimeoutError", "the notebook or this cell ran past its time limit; stopped"),
    "died": ("DeadKernelError", "the notebook's process exited during this cell"),
    "crash": ("DeadKernelError", "the executor crashed during this cell"),
    "output_limit": ("OutputLimitExceeded", "the notebook's output limit was exceeded; stopped"),
    "protocol_error": ("DeadKernelError", "the notebook's result stream was corrupt"),
    "sandbox_died": ("DeadKernelError", "the grading sandbox died during this notebook"),
    "judge_died": ("DeadKernelError", "the grader's judge stopped during this cell"),
    "memory_limit": (
        "MemoryError",
        "the notebook ran out of its memory limit (its processes and files together); stopped",
    ),
}


def finalize(cells_in: Sequence[Cell], raw: Mapping[str, Any]) -> RunResult:
    """A result for EVERY non-empty code cell: a run that stopped early gives the running cell
    an error and every later code cell a ``NotExecuted`` error (nbgrader scores both 0)."""
    status = str(raw.get("status", "protocol_error"))
    raw_cells = raw.get("cells")
    got: dict[int, Any] = {}
    if isinstance(raw_cells, dict):
        for key, value in raw_cells.items():
            if str(key).isdigit() and isinstance(value, dict):
                got[int(key)] = value
    running = raw.get("running")
    cells: dict[int, dict[str, Any]] = {}
    stopped = False
    for index, cell in enumerate(cells_in):
        if cell["cell_type"] != "code" or not str(cell["source"]).strip():
            continue
        if index in got and not stopped:
            count = got[index].get("execution_count")
            cells[index] = {
                "execution_count": count if isinstance(count, int) else None,
                "outputs": clean_outputs(got[index].get("outputs")),
            }
            continue
        if status == "ok" and not stopped:
            status = "protocol_error"  # a finished run must have reported every cell
        ename, evalue = ENDINGS.get(status, ENDINGS["protocol_error"])
        if index == running or (running is None and not stopped):
            error: Output = {"output_type": "error", "ename": ename, "evalue": evalue}
            error["traceback"] = [f"{ename}: {evalue}"]
        else:
            evalue = f"not run: an earlier cell ended the run ({status})"
            error = {"output_type": "error", "ename": "NotExecuted", "evalue": evalue}
            error["traceback"] = [f"NotExecuted: {evalue}"]
        stopped = True
        cells[index] = {"execution_count": None, "outputs": [error]}
    info = {k: raw.get(k) for k in ("exit_code", "crash", "setup_s", "running", "judge_s")}
    wall = raw.get("wall_s", 0.0)
    judged = frozenset(
        i for i, c in enumerate(cells_in) if c.get("judge") and i in got and i in cells
    )
    seconds = float(wall) if isinstance(wall, int | float) else 0.0
    written = raw.get("written")
    kept = dict(written) if isinstance(written, dict) and status == "ok" else {}
    info["written_dropped"] = int(raw.get("written_dropped") or 0)
    return RunResult(status, cells, seconds, info, judged, kept)


def safe_relative(name: object) -> str | None:
    """``name`` as a plain relative path below a folder ("a/b.csv"), or None: no absolute path,
    no ``.`` or ``..`` part, no empty part, no backslash or control character, bounded."""
    if not isinstance(name, str) or not name or len(name) > 1024:
        return None
    if any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in name):
        return None
    parts = name.split("/")
    if len(parts) > 16 or any(p in ("", ".", "..") or len(p.encode()) > 255 for p in parts):
        return None
    return name


def written_files(record: protocol.Record, limits: Limits) -> tuple[dict[str, bytes], int]:
    """The files a sandbox says its notebook wrote (``{"ev": "written", "files": {path:
    base64}, "skipped": n}``), checked: safe relative paths (:func:`safe_relative`), valid
    base64, at most ``max_written_files`` files and ``max_written_bytes`` bytes (counted here,
    never believed). Returns (path → bytes, how many were left out)."""
    import binascii

    skipped = record.get("skipped")
    dropped = skipped if isinstance(skipped, int) and 0 <= skipped < 1 << 30 else 0
    files = record.get("files")
    if not isinstance(files, dict):
        return {}, dropped
    kept: dict[str, bytes] = {}
    total = 0
    for name, encoded in files.items():
        path = safe_relative(name)
        if path is None or not isinstance(encoded, str):
            dropped += 1
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            dropped += 1
            continue
        if len(kept) >= limits.max_written_files or total + len(data) > limits.max_written_bytes:
            dropped += 1
            continue
        kept[path] = data
        total += len(data)
    return kept, dropped


def files_from_dir(folder: Path | str, *, skip_notebooks: bool = True) -> dict[str, str]:
    """relative path → base64 content, of every file below ``folder``."""
    files = {}
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        if skip_notebooks and path.suffix == ".ipynb":
            continue
        files[str(path.relative_to(folder))] = base64.b64encode(path.read_bytes()).decode()
    return files


def cells_for_job(nb: Any, judged: Mapping[str, str] | None = None) -> list[Cell]:
    """nbformat notebook → job cells (``locked`` as in ``nbgrader.utils.is_locked``).

    A cell is judged when it is an nbgrader test (a grade cell that is not a solution) or its
    grade id is in ``judged`` (grade id → the source notebook's cell source, for read-only cells
    marked for the judge). A judged cell carries ``fetch`` (the names it reads) and
    ``sandbox_source``: what the sandbox runs of it, the test as released (hidden tests removed,
    as nbgrader's ``ClearHiddenTests`` removes them) when a later cell reads a name it binds,
    else nothing. (A released test that changed the student's own values in place would not
    be replayed: tests should check, not change.)"""
    from nbgrader import utils
    from nbgrader.preprocessors import ClearHiddenTests

    from filmkit.judge.names import bound_names, free_names

    hider = ClearHiddenTests()
    cells: list[Cell] = []
    for c in nb.cells:
        cell: Cell = {
            "cell_type": c.cell_type,
            "source": c.source,
            "locked": bool(utils.is_locked(c)),
        }
        grade_id = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        test = c.cell_type == "code" and utils.is_grade(c) and not utils.is_solution(c)
        marked = c.cell_type == "code" and grade_id is not None and grade_id in (judged or {})
        if test or marked:
            cell["judge"] = True
            cell["fetch"] = list(free_names(c.source))
            released = copy.deepcopy(c)
            if test:
                hider._remove_hidden_test_region(released)
                cell["sandbox_source"] = released.source
            else:
                cell["sandbox_source"] = ""
        cells.append(cell)
    # The released test is replayed in the sandbox only where a later student cell reads a
    # name it binds (``import re`` in a test, ``re.sub`` in the next answer): otherwise its run
    # there would change nothing a later cell sees and only double its cost.
    read_later: set[str] = set()
    for cell in reversed(cells):
        if cell.get("judge"):
            if not bound_names(cell["sandbox_source"]) & read_later:
                cell["sandbox_source"] = ""
        elif cell["cell_type"] == "code":
            read_later |= set(free_names(cell["source"]))
    return cells


def imported_names(sources: Iterable[str]) -> set[str]:
    """The modules the ``import`` statements of ``sources`` name (``from a import b`` names
    ``a`` and ``a.b``), read with :mod:`ast`, never run. Lines of IPython magics and shell
    escapes are left out of the reading; a cell that still does not parse, and imports hidden
    from a plain reading (in a string, made by ``importlib``), are not seen."""
    found: set[str] = set()
    for source in sources:
        code = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
        )
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def preload_for(
    sources: Iterable[str], candidates: Sequence[str] = DEFAULT_PRELOAD
) -> tuple[str, ...]:
    """The modules of ``candidates`` that ``sources`` import (or import a submodule of): what a
    fork server need import before its first notebook, when no warm-up run shows it."""
    names = imported_names(sources)
    return tuple(m for m in candidates if any(n == m or n.startswith(f"{m}.") for n in names))


def choose_mode(sandbox: bool) -> tuple[str, str | None]:
    """("bwrap" | "none", the warning to show when not sandboxed)."""
    if not sandbox:
        return "none", bwrap.unsandboxed_warning("the sandbox was turned off")
    check = bwrap.check_sandbox()
    if check.usable:
        return check.mode, None  # bwrap.PRIVILEGED or bwrap.UNPRIVILEGED
    return "none", bwrap.unsandboxed_warning(check.reason)


class Run:
    """One notebook's run on a slot: the router between its sandbox child and its judge child."""

    def __init__(self, slot: Slot, job: NotebookJob) -> None:
        self.slot, self.job, self.limits = slot, job, slot.limits
        self.id = secrets.token_hex(8)
        self.cells: dict[str, Any] = {}
        self.judged: dict[str, Any] = {}
        self.running: int | None = None
        self.status: str | None = None
        self.crash: str | None = None
        self.modules: list[str] = []
        self.discarded = 0
        self.cell_deadline = float("inf")
        self.judge_cells = {i for i, c in enumerate(job.cells) if c.get("judge")}
        self.groups = [g for g in (slot.sandbox.group, slot.judge.group) if g is not None]
        self.judge_s = 0.0  # time from a test's data to its verdict: the judge's cost
        self.judge_since = 0.0
        self.forked_at = 0.0
        self.judge_modules: list[str] = []
        self.written: dict[str, bytes] | None = None
        self.written_dropped = 0

    def limits_record(self) -> dict[str, Any]:
        record = self.limits.job()
        record["nproc"] = bwrap.nproc_allowance(self.limits.nproc, self.slot.mode)
        if self.slot.sandbox.group is not None:
            # one process alone gets a MemoryError at 3/4 of the budget (that cell fails, the
            # notebook goes on, as in a kernel); all its processes and files together are
            # stopped by the control group at the budget itself
            record["process_mem_bytes"] = self.limits.mem_bytes * 3 // 4
        return record

    def execute(self) -> dict[str, Any]:
        started = time.perf_counter()
        groups = self.groups
        for group in groups:  # the previous notebook's processes (and tmpfs) are gone by now
            group.arm(self.limits.mem_bytes, self.limits.nproc)
        sandbox = self.slot.sandbox.fork(self.id)
        judge = self.slot.judge.fork(self.id) if self.judge_cells else None
        self.forked_at = time.perf_counter()
        for group in groups:  # pin the OOM killer on the notebook, never its fork server
            group.prefer_oom_kill_of_new()
        try:
            sandbox_cells = [
                {
                    "cell_type": c["cell_type"],
                    "source": c.get("sandbox_source", c["source"])
                    if c.get("judge")
                    else c["source"],
                    "locked": c["locked"],
                    "judge": bool(c.get("judge")),
                    "fetch": list(c.get("fetch", [])),
                }
                for c in self.job.cells
            ]
            job_record = {"op": "job", "job": self.id, **self.limits_record()}
            sandbox.send(
                {
                    **job_record,
                    "cells": sandbox_cells,
                    "files": self.job.files,
                    "report_modules": self.job.report_modules,
                }
            )
            if judge is not None:
                judged = {str(i): self.job.cells[i]["source"] for i in self.judge_cells}
                judge.send(
                    {
                        **job_record,
                        "cells": judged,
                        "files": self.job.judge_files,
                        "report_modules": self.job.report_modules,
                    }
                )
            self.route(sandbox, judge, started)
        finally:
            self.finish(sandbox, judge)
        kills = sum(g.oom_kills_since_arm() for g in groups)
        if kills and self.status != "ok":
            self.status = "memory_limit"  # the kernel killed a process of it: not "died"
        wall = round(time.perf_counter() - started, 4)
        return {
            "status": self.status,
            "cells": {**self.cells, **self.judged},
            "running": self.running,
            "crash": self.crash,
            "wall_s": wall,
            "modules": self.modules,
            "judge_modules": self.judge_modules,
            "discarded": self.discarded,
            "oom_kills": kills,
            "judge_s": round(self.judge_s, 4),
            "setup_s": round(self.forked_at - started, 4),
            "written": self.written or {},
            "written_dropped": self.written_dropped,
        }

    def route(
        self, sandbox: protocol.Channel, judge: protocol.Channel | None, started: float
    ) -> None:
        nb_deadline = started + self.limits.nb_timeout
        budget = self.limits.max_notebook_output_bytes * 2 + (1 << 20)
        budget += self.limits.max_written_bytes * 2  # the files it wrote, in base64
        grace = self.limits.cell_timeout + self.limits.grace
        peers = [sandbox] if judge is None else [sandbox, judge]
        while self.status is None:
            left = min(nb_deadline, self.cell_deadline) - time.perf_counter()
            if left <= 0:
                self.status = "timeout"
                return
            for ready in wait([p.conn for p in peers], left):
                source = sandbox if ready is sandbox.conn else judge
                assert source is not None
                try:
                    record = source.recv()
                except protocol.ProtocolError:
                    self.status = "protocol_error" if source is sandbox else "judge_died"
                    return
                if source is sandbox and sandbox.received > budget:
                    self.status = "output_limit"
                    return
                if record is None:
                    self.status = (
                        ("died" if self.crash is None else "crash")
                        if source is sandbox
                        else "judge_died"
                    )
                    return
                if record.get("job") != self.id:
                    self.discarded += 1  # not this run's: a forgery, never believed
                    continue
                if source is sandbox:
                    self.from_sandbox(record, judge, grace)
                else:
                    self.from_judge(record, sandbox, grace)
                if self.status is not None:
                    return

    def from_sandbox(
        self, record: protocol.Record, judge: protocol.Channel | None, grace: float
    ) -> None:
        ev, index = record.get("ev"), record.get("i")
        if ev == "start" and isinstance(index, int):
            self.running = index
            self.cell_deadline = time.perf_counter() + grace
        elif ev == "done" and isinstance(index, int) and index not in self.judge_cells:
            if self.out_of_memory():
                # the kernel killed a process of this cell for memory (a child, or a file in its
                # tmpfs pushed it over): the notebook ran out of its limit, as a kernel would die
                self.running, self.status = index, "memory_limit"
                return
            self.cells[str(index)] = {
                "execution_count": record.get("execution_count"),
                "outputs": record.get("outputs", []),
            }
            self.running, self.cell_deadline = None, float("inf")
        elif ev == "judge" and isinstance(index, int) and index in self.judge_cells and judge:
            self.running = index
            if self.out_of_memory():
                self.status = "memory_limit"
                return
            self.judge_since = time.perf_counter()
            self.cell_deadline = time.perf_counter() + grace
            judge.send(
                {
                    "op": "run",
                    "job": self.id,
                    "i": index,
                    "execution_count": record.get("execution_count"),
                    "names": record.get("names") if isinstance(record.get("names"), dict) else {},
                }
            )
        elif ev in ("returned", "raised") and judge is not None:
            judge.send({**record, "op": ev})
        elif ev == "modules" and isinstance(record.get("names"), list):
            self.modules = [str(n) for n in record["names"]]
        elif ev == "written" and self.written is None:
            self.written, self.written_dropped = written_files(record, self.limits)
        elif ev == "end":
            self.status = "ok"
        elif ev == "abort":
            self.status = str(record.get("reason", "aborted"))
        elif ev == "crash":
            self.crash = str(record.get("error", ""))[:2000]

    def out_of_memory(self) -> bool:
        return any(g.oom_kills_since_arm() for g in self.groups)

    def from_judge(self, record: protocol.Record, sandbox: protocol.Channel, grace: float) -> None:
        ev, index = record.get("ev"), record.get("i")
        if ev == "call":
            sandbox.send(
                {
                    "op": "call",
                    "job": self.id,
                    "call": record.get("call"),
                    "name": record.get("name"),
                    "args": record.get("args"),
                    "kwargs": record.get("kwargs"),
                    "scope": record.get("scope"),  # the test's del / rebinding of names
                }
            )
        elif ev == "judged" and index == self.running:
            self.judged[str(index)] = {
                "execution_count": record.get("execution_count"),
                "outputs": record.get("outputs", []),
            }
            sandbox.send({"op": "resume", "job": self.id, "i": index})
            self.judge_s += time.perf_counter() - self.judge_since
            self.running = None
            self.cell_deadline = time.perf_counter() + grace  # the released test runs there
        elif ev == "crash":
            self.crash = "judge: " + str(record.get("error", ""))[:2000]
            self.status = "judge_died"

    def finish(self, sandbox: protocol.Channel, judge: protocol.Channel | None) -> None:
        if self.status != "ok":
            self.slot.sandbox.kill(self.id)
        # every process of the run inherited the sandbox channel: its end means they are all
        # gone (a pid namespace of 60 fork-bomb processes takes about a second to tear down)
        deadline = time.monotonic() + 10
        with contextlib.suppress(OSError, EOFError, protocol.ProtocolError):
            while time.monotonic() < deadline:
                if sandbox.poll(0.2) and sandbox.recv() is None:
                    break
        sandbox.close()
        if judge is not None:
            with contextlib.suppress(OSError):
                judge.send({"op": "end", "job": self.id})
            if self.job.report_modules and self.status == "ok":
                with contextlib.suppress(OSError, EOFError, protocol.ProtocolError, TimeoutError):
                    record = judge.recv(timeout=30)
                    if record is not None and isinstance(record.get("names"), list):
                        self.judge_modules = [str(n) for n in record["names"]]
            if self.status != "ok":
                self.slot.judge.kill(self.id)
            judge.close()
        for template in (self.slot.sandbox, self.slot.judge if judge is not None else None):
            if template is None:
                continue
            try:
                template.wait_exit(self.id)
            except TemplateDied:
                template.kill(self.id)
                template.wait_exit(self.id, 5)


class Slot:
    """One job slot: a sandbox fork server and a judge fork server, used by one thread."""

    def __init__(self, pool: WorkerPool, uid: int) -> None:
        self.pool, self.uid, self.mode, self.limits = pool, uid, pool.mode, pool.limits
        self.sandbox = pool.new_template("sandbox", uid, pool.new_group())
        self.judge = pool.new_template("judge", uid + JUDGE_UID_OFFSET, pool.new_group())
        self.sandbox.wait_ready()
        self.judge.wait_ready()
        if pool.warmup is not None:
            cells, files = pool.warmup
            raw = Run(self, NotebookJob(cells, files, report_modules=True)).execute()
            note = {"status": raw["status"]}
            if raw["status"] == "ok" and raw["modules"]:
                note["sandbox"] = self.sandbox.import_modules(raw["modules"])
                note["judge"] = self.judge.import_modules(raw["judge_modules"])
            self.sandbox.ready = {**(self.sandbox.ready or {}), "warmup": note}

    def run(self, job: NotebookJob) -> dict[str, Any]:
        return Run(self, job).execute()

    def close(self) -> None:
        for template in (self.sandbox, self.judge):
            template.close()
            if template.group is not None:
                template.group.remove()


class WorkerPool:
    """``jobs`` slots; submit() runs a notebook on whichever is free."""

    def __init__(
        self,
        *,
        jobs: int,
        limits: Limits,
        log_dir: Path,
        sandbox: bool = True,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        judge_preload: Sequence[str] | None = None,
        warmup: tuple[list[Cell], dict[str, str]] | None = None,
        cgroups: cg.Support | None = None,
        wait: bool = True,
        first_uid: int = FIRST_UID,
    ) -> None:
        """``first_uid``: the sandbox uid of the first slot (the others follow, the judges'
        :data:`JUDGE_UID_OFFSET` above them): pools on one machine take disjoint ranges.

        ``cgroups``: the control groups to bound each notebook with (one per fork server,
        armed before each notebook: :mod:`filmkit.grading.cgroups`), or None for rlimits only.

        ``preload`` / ``judge_preload``: what the sandbox's and the judge's fork servers
        import before their first fork (the judge's default: the preload's modules of
        :data:`JUDGE_PRELOAD`); :func:`preload_for` picks them from a notebook's imports.

        ``warmup``: a notebook without secrets (the released version), run once per slot
        like any submission; the modules it imported are then imported by both fork servers
        (only imported: no notebook code ever runs in a fork server), so every fork inherits
        them. Never the source notebook: its solutions would sit in the sandbox's lineage."""
        self.mode, self.warning = choose_mode(sandbox)
        if self.warning:
            warnings.warn(self.warning, RuntimeWarning, stacklevel=2)
        self.jobs, self.limits, self.preload, self.warmup = jobs, limits, tuple(preload), warmup
        if judge_preload is None:
            judge_preload = [m for m in self.preload if m in JUDGE_PRELOAD]
        self.judge_preload = tuple(judge_preload)
        self.cgroups = cgroups if cgroups is not None and cgroups.usable else None
        if self.cgroups is not None:
            cg.sweep_stale(self.cgroups)  # groups a killed grader left behind
        self._slots: list[Slot] = []
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self._uids: queue.Queue[int] = queue.Queue()
        for k in range(jobs):
            self._uids.put(first_uid + k)
        self._local = threading.local()
        self._templates: list[Template] = []
        self._lock = threading.Lock()
        self._executor = cf.ThreadPoolExecutor(jobs, thread_name_prefix="grade-worker")
        self.restarts = 0
        self._starting = [self._executor.submit(self._slot) for _ in range(jobs)]
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait until every slot has started; raises what stopped one (a sandbox that cannot
        start). ``WorkerPool(wait=False)`` returns at once, its fork servers starting in the
        background while the caller does its own work."""
        for started in self._starting:
            started.result()

    def started(self) -> bool:
        """Whether every slot has started, without waiting; raises as :meth:`ready` does once
        one could not."""
        if not all(started.done() for started in self._starting):
            return False
        self.ready()
        return True

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def new_group(self) -> cg.WorkerGroup | None:
        return cg.WorkerGroup.create(self.cgroups) if self.cgroups is not None else None

    def new_template(self, role: str, uid: int, group: cg.WorkerGroup | None) -> Template:
        preload = self.preload if role == "sandbox" else self.judge_preload
        template = Template(role, self.mode, uid, preload, self.log_dir, group)
        with self._lock:
            self._templates.append(template)
        return template

    def _slot(self) -> Slot:
        if not hasattr(self._local, "slot"):
            if not hasattr(self._local, "uid"):  # a slot that failed to start keeps its uid
                self._local.uid = self._uids.get()
            self._local.slot = Slot(self, self._local.uid)
            with self._lock:
                self._slots.append(self._local.slot)
        slot: Slot = self._local.slot
        return slot

    def submit(self, job: NotebookJob) -> cf.Future[RunResult]:
        return self._executor.submit(self._run, job)

    def _run(self, job: NotebookJob) -> RunResult:
        started = time.perf_counter()
        slot = self._slot()  # a slot that cannot start fails the job with its reason
        try:
            raw = slot.run(job)
        except TemplateDied as error:
            # the submission took a whole worker down: a new slot for the next notebook
            old: Slot = self._local.slot
            groups = [t.group for t in (old.sandbox, old.judge) if t.group is not None]
            memory = any(g.oom_kills_since_arm() for g in groups)
            for template in (old.sandbox, old.judge):
                template.proc.kill()
            old.close()
            self._local.slot = Slot(self, self._local.uid)
            with self._lock:
                self._slots = [s for s in self._slots if s is not old] + [self._local.slot]
            self.restarts += 1
            status = "memory_limit" if memory else "sandbox_died"
            raw = {"status": status, "cells": {}, "crash": str(error)}
        result = finalize(job.cells, raw)
        result.info["parent_wall_s"] = round(time.perf_counter() - started, 4)
        result.info["discarded"] = raw.get("discarded", 0)
        return result

    def template_info(self) -> list[dict[str, Any]]:
        return [t.ready for t in self._templates if t.ready]

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for slot in self._slots:
            slot.close()
