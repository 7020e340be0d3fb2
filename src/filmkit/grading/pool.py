"""The grader's side of the workers: one template process per job slot, fed over pipes.

    with WorkerPool(jobs=2, limits=Limits(...), log_dir=...) as pool:
        future = pool.submit(cells, files)   # concurrent.futures.Future[RunResult]

Everything a template sends back is untrusted: it is parsed as JSON (never unpickled) and coerced
into plain nbformat outputs by :func:`clean_outputs`. A run that did not finish has every cell it
did not finish turned into an error (:func:`finalize`), so killing its own process can never
earn a submission the marks of the tests that did not run.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import contextlib
import json
import os
import queue
import select
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from filmkit.grading import bwrap

Cell = dict[str, Any]  # {"cell_type", "source", "locked"}
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
FIRST_UID: Final = 64001  # one unprivileged uid per worker, so workers don't share RLIMIT_NPROC


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

    def job(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    # ok | timeout | died | crash | output_limit | protocol_error | sandbox_died
    status: str
    cells: dict[int, dict[str, Any]]  # cell index → {"execution_count", "outputs"}
    wall_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


class TemplateDied(Exception):
    pass


class Template:
    """One template process. One thread talks to it at a time."""

    def __init__(self, mode: str, uid: int, preload: Sequence[str], log_dir: Path) -> None:
        self.mode, self.uid = mode, uid
        self.log = open(log_dir / f"worker-{uid}.log", "ab")  # noqa: SIM115 (closed in close())
        args = ["-m", MODULE, "--preload", ",".join(preload), "--uid", str(uid)]
        if mode == "bwrap":
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
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            bufsize=0,
            close_fds=True,
            env=env,
        )
        self.ready: dict[str, Any] | None = None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout

    def wait_ready(self, timeout: float = 180) -> dict[str, Any]:
        if self.ready is None:
            self.ready = self._recv(timeout)
            self.ready["spawn_s"] = round(time.perf_counter() - self.started, 3)
        return self.ready

    def _recv(self, timeout: float) -> dict[str, Any]:
        fd = self._pipes()[1].fileno()
        deadline = time.monotonic() + timeout

        def read(n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TemplateDied("the worker did not answer in time")
                ready, _, _ = select.select([fd], [], [], left)
                if ready:
                    chunk = os.read(fd, n - len(buf))
                    if not chunk:
                        raise TemplateDied(
                            f"the worker exited (code {self.proc.poll()}); see {self.log.name}"
                        )
                    buf += chunk
            return buf

        size = struct.unpack(">I", read(4))[0]
        if size > 512 << 20:
            raise TemplateDied("the worker sent an oversized frame")
        answer = json.loads(read(size))
        if not isinstance(answer, dict):
            raise TemplateDied("the worker sent a malformed frame")
        return answer

    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.wait_ready()
        body = json.dumps(job).encode()
        stdin = self._pipes()[0]
        try:
            stdin.write(struct.pack(">I", len(body)) + body)
            stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise TemplateDied("the worker is gone") from error
        return self._recv(timeout)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._pipes()[0].close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pipes()[1].close()
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
    info = {k: raw.get(k) for k in ("exit_code", "crash", "setup_s", "running")}
    wall = raw.get("wall_s", 0.0)
    return RunResult(status, cells, float(wall) if isinstance(wall, int | float) else 0.0, info)


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


def cells_for_job(nb: Any) -> list[Cell]:
    """nbformat notebook → job cells (``locked`` as in ``nbgrader.utils.is_locked``)."""
    from nbgrader import utils

    return [
        {"cell_type": c.cell_type, "source": c.source, "locked": bool(utils.is_locked(c))}
        for c in nb.cells
    ]


def choose_mode(sandbox: bool) -> tuple[str, str | None]:
    """("bwrap" | "none", the warning to show when not sandboxed)."""
    if not sandbox:
        return "none", bwrap.unsandboxed_warning("the sandbox was turned off")
    check = bwrap.check_sandbox()
    if check.usable:
        return "bwrap", None
    return "none", bwrap.unsandboxed_warning(check.reason)


class WorkerPool:
    """``jobs`` template processes; submit() runs a notebook on whichever is free."""

    def __init__(
        self,
        *,
        jobs: int,
        limits: Limits,
        log_dir: Path,
        sandbox: bool = True,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        warmup: tuple[list[Cell], dict[str, str]] | None = None,
    ) -> None:
        """``warmup``: a TRUSTED notebook (the instructor's source version), run once per
        template in a sandboxed child; the modules it imported are then imported by the template
        (only imported: no notebook code runs in the template), so every fork inherits them."""
        self.mode, self.warning = choose_mode(sandbox)
        if self.warning:
            warnings.warn(self.warning, RuntimeWarning, stacklevel=2)
        self.jobs, self.limits, self.preload, self.warmup = jobs, limits, tuple(preload), warmup
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self._uids: queue.Queue[int] = queue.Queue()
        for k in range(jobs):
            self._uids.put(FIRST_UID + k)
        self._local = threading.local()
        self._templates: list[Template] = []
        self._lock = threading.Lock()
        self._executor = cf.ThreadPoolExecutor(jobs, thread_name_prefix="grade-worker")
        self.restarts = 0
        # start the templates now, in parallel
        for started in [self._executor.submit(self._template) for _ in range(jobs)]:
            started.result()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _new_template(self, uid: int) -> Template:
        template = Template(self.mode, uid, self.preload, self.log_dir)
        with self._lock:
            self._templates.append(template)
        return template

    def _template(self) -> Template:
        if not hasattr(self._local, "uid"):
            self._local.uid = self._uids.get()
            self._local.template = self._new_template(self._local.uid)
        template: Template = self._local.template
        if template.ready is None:
            ready = template.wait_ready()
            if self.warmup:
                cells, files = self.warmup
                job = {"cells": cells, "files": files, **self.limits.job(), "report_modules": True}
                raw = template.run(job, timeout=self.limits.nb_timeout + 30)
                ready["warmup"] = {"status": raw.get("status"), "note": raw.get("crash")}
        return template

    def submit(self, cells: list[Cell], files: dict[str, str]) -> cf.Future[RunResult]:
        return self._executor.submit(self._run, cells, files)

    def _run(self, cells: list[Cell], files: dict[str, str]) -> RunResult:
        started = time.perf_counter()
        job = {"cells": cells, "files": files, **self.limits.job()}
        try:
            raw = self._template().run(job, timeout=self.limits.nb_timeout + 30)
        except TemplateDied as error:
            # the submission took its whole worker down: restart it for the next notebook
            self._local.template.proc.kill()
            self._local.template.close()
            self._local.template = self._new_template(self._local.uid)
            self.restarts += 1
            raw = {"status": "sandbox_died", "cells": {}, "crash": str(error)}
        result = finalize(cells, raw)
        result.info["parent_wall_s"] = round(time.perf_counter() - started, 4)
        return result

    def template_info(self) -> list[dict[str, Any]]:
        return [t.ready for t in self._templates if t.ready]

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for template in self._templates:
            template.close()
