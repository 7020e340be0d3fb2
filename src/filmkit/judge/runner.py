"""The judge's process: run a notebook's judged cells on the data the sandbox sent.

``prepare(preload)`` runs once in the judge's fork server (imports, the corpus split, a pristine
IPython shell whose outputs go to :data:`filmkit.capture.SINK`); it never sees a job. ``run(job,
channel)`` runs in a child forked per notebook, which reads its own job: ``{"cells": {index:
source}}`` (the instructor's cells, hidden tests included) and, in its working folder, the
notebook as handed in (for the essays' evidence reports). Then, for each ``run`` record:

* every name's description becomes a value in the shell's namespace: ``data`` is decoded
  (:func:`filmkit.plaindata.decode`, strict: malformed data fails the test), ``callable`` becomes
  a :class:`StudentFunction`, ``module`` is imported here by its name; ``refused`` (not plain
  data) fails the test at once with the sandbox's message, which names the answer;
* the cell runs through IPython's ``run_cell`` with the cell time limit, as a kernel runs it
  (magics, the last expression's display, tracebacks);
* its outputs go back as ``judged``.

A name the test reads that the student's namespace lacks stays undefined, so the test fails with
the ``NameError`` a kernel would give.
"""

from __future__ import annotations

import builtins
import importlib
import io
import itertools
import keyword
import os
import signal
import sys
import time
import types
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, Final

from filmkit import capture, plaindata, protocol, tracebacks
from filmkit.capture import SINK, CellTimeoutError
from filmkit.judge.names import bound_names

J: dict[str, Any] = {}  # the fork server's prepared state, inherited by every child


class StudentError(Exception):
    """An exception the student's function raised in the sandbox that has no builtin name."""


class StudentFunction:
    """A student's function as the judge sees it: calling it runs it in the sandbox, on data."""

    _calls = itertools.count(1)

    def __init__(self, name: str, channel: protocol.Channel, job: str) -> None:
        self._name, self._channel, self._job = name, channel, job

    def __repr__(self) -> str:
        return f"<function {self._name} (the student's, run in the sandbox)>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = next(self._calls)
        try:
            payload = {
                "args": plaindata.encode(list(args), name=f"the arguments of {self._name}"),
                "kwargs": plaindata.encode(dict(kwargs), name=f"the arguments of {self._name}"),
            }
        except plaindata.NotPlainData as error:
            raise TypeError(f"a test can only pass data to {self._name}: {error}") from None
        record = {"ev": "call", "job": self._job, "call": call, "name": self._name, **payload}
        self._channel.send({**record, "scope": _scope()})
        reply = self._channel.recv()
        if reply is None or reply.get("call") != call:
            raise protocol.ProtocolError(f"no answer from the sandbox to a call of {self._name}")
        sys.stdout.write(str(reply.get("stdout", "")))
        sys.stderr.write(str(reply.get("stderr", "")))
        if reply.get("ev") == "raised":
            raise _exception(str(reply.get("ename", "")), str(reply.get("evalue", "")))
        return _returned(self._name, reply.get("value"))


_ABSENT: Final = object()


def _scope() -> dict[str, Any]:
    """What the test cell has done so far to the names it reads or binds: deleted them, or bound
    them to one of the student's functions, a module or data. In a kernel the student's functions
    see those changes (nbgrader's own example: ``del squares``, then ``sum_of_squares(1)`` must
    raise ``NameError``); the sandbox applies them for the length of the call. A name bound to
    anything else (the test's own function or object) is sent as ``unavailable``: student code
    that uses it during the call fails with a message saying why."""
    namespace, before = J["shell"].user_ns, J.get("before", {})
    scope: dict[str, Any] = {}
    for name, was in before.items():
        now = namespace.get(name, _ABSENT)
        if now is was:
            continue
        if now is _ABSENT:
            scope[name] = {"deleted": True}
        elif isinstance(now, StudentFunction):
            scope[name] = {"function": now._name}
        elif isinstance(now, types.ModuleType):
            scope[name] = {"module": now.__name__}
        else:
            try:
                scope[name] = {"data": plaindata.encode(now, name=name)}
            except plaindata.NotPlainData:
                scope[name] = {"unavailable": True}
    return scope


def _exception(ename: str, evalue: str) -> BaseException:
    """The builtin exception of that name (so a test's ``except ValueError`` works), else one
    named after it."""
    found = getattr(builtins, ename, None)
    if isinstance(found, type) and issubclass(found, Exception):
        try:
            return found(evalue)
        except Exception:
            pass
    name = ename if ename.isidentifier() and not keyword.iskeyword(ename) else "StudentError"
    named: type[StudentError] = type(name, (StudentError,), {"__module__": "student"})
    return named(evalue)


def _returned(name: str, described: object) -> Any:
    if isinstance(described, dict) and "data" in described:
        return plaindata.decode(described["data"])
    if isinstance(described, dict) and isinstance(described.get("refused"), str):
        raise TypeError(f"{name} returned a value that is not data: {described['refused']}")
    raise TypeError(f"{name} returned a function or a module; a test can only check data")


def prepare(preload: Sequence[str]) -> dict[str, float]:
    """Run once in the judge's fork server, before any fork."""
    started = time.perf_counter()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    shell = capture.make_shell()
    for module in preload:
        importlib.import_module(module)
    if "filmkit.corpus" in sys.modules:  # the answer key: verified and split once, inherited
        sys.modules["filmkit.corpus"].load_corpus()
    if "filmkit.evidence" in sys.modules:  # the quotation index, built once, inherited
        sys.modules["filmkit.evidence"].verify("warm up the index")
    if "filmkit.analysis" in sys.modules:  # the course vocabularies' tables, inherited
        sys.modules["filmkit.analysis"].warm()
    if "plotly.io" in sys.modules:
        sys.modules["plotly.io"].renderers.default = "plotly_mimetype"
    tracebacks.warm(modules=["filmkit.kernel.marking"])  # where a failed check raises
    J["shell"] = shell
    return {"judge_s": round(time.perf_counter() - started, 3)}


def _value(name: str, described: object, channel: protocol.Channel, job: str) -> Any:
    """The judge's value for one name; raises TypeError (with the message to show) if none."""
    if not isinstance(described, dict):
        raise TypeError(f"{name}: the sandbox sent no description of it")
    if "data" in described:
        try:
            return plaindata.decode(described["data"])
        except plaindata.MalformedData as error:
            raise TypeError(f"{name} could not be read as data ({error})") from None
    if described.get("callable") is True:
        return StudentFunction(name, channel, job)
    module = described.get("module")
    if isinstance(module, str) and all(part.isidentifier() for part in module.split(".")):
        try:
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                return importlib.import_module(module)
        except Exception:
            raise TypeError(f"{name} is a module the grader cannot import ({module})") from None
    refused = described.get("refused")
    raise TypeError(refused if isinstance(refused, str) else f"{name} is not plain data")


def _on_alarm(signum: int, frame: Any) -> None:
    raise CellTimeoutError("Cell execution timed out")


def run(job: Mapping[str, Any], channel: protocol.Channel) -> None:
    """Child side: judge the cells the grader sends, until ``end``."""
    shell = J["shell"]
    job_id = str(job.get("job"))
    raw_cells = job.get("cells")
    cells = {int(k): str(v) for k, v in raw_cells.items()} if isinstance(raw_cells, dict) else {}
    SINK.budget = int(job.get("max_output_bytes", 5 << 20))
    SINK.nb_budget = int(job.get("max_notebook_output_bytes", 4 * SINK.budget))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # C-level writes of the instructor's code are not outputs
        os.dup2(null, fd)
    sys.stdout, sys.stderr = capture.CapStream("stdout", 1), capture.CapStream("stderr", 2)
    signal.signal(signal.SIGALRM, _on_alarm)
    timeout = float(job.get("cell_timeout") or 0)
    cwd = os.getcwd()
    if cwd in sys.path:
        sys.path.remove(cwd)
    injected: set[str] = set()
    while True:
        op = channel.recv()
        if op is None or op.get("op") == "end":
            if op is not None and job.get("report_modules"):  # a warm-up: what got imported
                channel.send({"ev": "modules", "job": job_id, "names": capture.imported_modules()})
            break
        if op.get("op") != "run" or not isinstance(op.get("i"), int) or op["i"] not in cells:
            continue
        index, count = op["i"], op.get("execution_count")
        SINK.begin()
        sent = op.get("names")
        names: dict[str, Any] = sent if isinstance(sent, dict) else {}
        try:
            values = {str(n): _value(str(n), d, channel, job_id) for n, d in names.items()}
        except TypeError as refused:
            SINK.error("TypeError", str(refused), [f"TypeError: {refused}"])
        else:
            for name in injected - set(values):  # the student's namespace no longer has it
                shell.user_ns.pop(name, None)
            shell.user_ns.update(values)
            injected = set(values)
            # the names whose changes the student's functions will see (_scope), as they are now
            watched = set(values) | bound_names(cells[index])
            J["before"] = {n: shell.user_ns.get(n, _ABSENT) for n in watched}
            shell.execution_count = count if isinstance(count, int) else shell.execution_count
            try:
                if timeout:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                shell.run_cell(cells[index], store_history=True)
            except CellTimeoutError as error:
                SINK.error("CellTimeoutError", str(error), [f"CellTimeoutError: {error}"])
            except capture.OutputLimitExceeded:
                pass
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        SINK.flush()
        channel.send(
            {
                "ev": "judged",
                "job": job_id,
                "i": index,
                "execution_count": count,
                "outputs": SINK.outputs,
            }
        )
