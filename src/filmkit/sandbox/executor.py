"""The notebook executor that runs inside each forked, sandboxed grading child.

`prepare_template(preload)` runs ONCE in the template process: heavy imports, a pristine
IPython shell (display publisher / display hook / traceback all captured as nbformat
outputs), snapshots of everything a submission could tamper with.  Nothing of a
submission ever runs in the template.

`run_notebook(job, emit)` runs in a forked, sandboxed child (one per notebook) and
executes the cells, emitting JSON records:
    {"ev": "start", "i": idx}
    {"ev": "done", "i": idx, "execution_count": n, "outputs": [...nbformat outputs...]}
    {"ev": "written", "files": {path: base64}, "skipped": n}  (the files the notebook created)
    {"ev": "end"}

Hardening (see FINDINGS.md):
* Before EVERY cell the IPython input transformers, AST transformers, sys.std*/hooks,
  trace/profile functions are restored to the template's pristine copies.
* Locked cells (nbgrader grade-but-not-solution cells and read-only cells) do NOT go
  through the shell's run_cell: they are transformed by a private TransformerManager,
  compiled and exec'd by executor code captured before any student code ran, and
  exceptions are caught in the executor's own frame.  So patching
  get_ipython().run_cell/run_code/_showtraceback/set_custom_exc/excepthook cannot
  hide a failing test.
* In locked cells `assert a == b` / `assert a != b` are rewritten to a guard that, when
  an operand involves a type whose __eq__/__ne__ did not exist in the template (i.e.
  code written by the submission), probes it against a fresh private object: an
  object that "equals everything" fails the assert.  Honest types are unaffected.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import ctypes
import functools
import importlib
import linecache
import os
import random as _random
import resource
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from filmkit import capture, plaindata, protocol, tracebacks
from filmkit.capture import SINK, CellTimeoutError, OutputLimitExceeded

Output = dict[str, Any]
DEFAULT_PRELOAD: Final = ("pandas", "plotly.express", "plotly.graph_objects")

# ------------------------------------------------------------------ template setup

T: dict[str, Any] = {}  # template state (pristine references), filled by prepare_template()


def prepare_template(preload: Sequence[str] = DEFAULT_PRELOAD) -> dict[str, float]:
    """Run in the template process before any fork."""
    t0 = time.perf_counter()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    from IPython.core.displayhook import DisplayHook
    from IPython.core.inputtransformer2 import TransformerManager
    from IPython.core.interactiveshell import InteractiveShell

    shell = capture.make_shell()
    t_shell = time.perf_counter() - t0

    import importlib

    for mod in preload:
        importlib.import_module(mod)
    if "filmkit.corpus" in sys.modules:  # split the texts once; every fork inherits the cache
        sys.modules["filmkit.corpus"].load_corpus()
    if "filmkit.evidence" in sys.modules:  # the quotation index, built once, inherited
        sys.modules["filmkit.evidence"].verify("warm up the index")
    if "filmkit.analysis" in sys.modules:  # the course vocabularies' tables, inherited
        sys.modules["filmkit.analysis"].warm()
    if "plotly.io" in sys.modules:  # what plotly picks under ipykernel (ZMQInteractiveShell)
        sys.modules["plotly.io"].renderers.default = "plotly_mimetype"
    t_imports = time.perf_counter() - t0 - t_shell

    tracebacks.warm()
    T.update(
        shell=shell,
        user_ns=shell.user_ns,
        tm_private=TransformerManager(),  # type: ignore[no-untyped-call]
        cleanup=list(shell.input_transformer_manager.cleanup_transforms),
        line=list(shell.input_transformer_manager.line_transforms),
        token=list(shell.input_transformer_manager.token_transformers),
        post=list(shell.input_transformers_post),
        ast_tf=list(shell.ast_transformers),
        tm=shell.input_transformer_manager,
        display_pub=shell.display_pub,
        displayhook=shell.displayhook,
        display_formatter=shell.display_formatter,
        plain_printers=dict(shell.display_formatter.formatters["text/plain"].type_printers),
        custom_exc=(shell.custom_exceptions, shell.CustomTB),
        sys_hooks=dict(excepthook=sys.excepthook, breakpointhook=sys.breakpointhook),
        builtins=dict(vars(builtins)),
        exec=builtins.exec,
        compile=builtins.compile,
        eval=builtins.eval,
        stb=shell.InteractiveTB.structured_traceback,
        fmt_exc=traceback.format_exception,
        semicolon=DisplayHook.semicolon_at_end_of_expression,
        run_cell=InteractiveShell.run_cell,
        trusted_eq=_snapshot_eq_impls(),
        timings=dict(shell_s=round(t_shell, 3), imports_s=round(t_imports, 3)),
    )
    timings: dict[str, float] = T["timings"]
    return timings


def _all_classes() -> Iterator[type]:
    seen, stack = set(), [object]
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        yield c
        try:
            stack.extend(type.__subclasses__(c))
        except TypeError:
            pass


def _snapshot_eq_impls() -> tuple[set[int], list[object]]:
    ids = set()
    keep = []
    for c in _all_classes():
        d = type.__dict__["__dict__"].__get__(c)
        for name in ("__eq__", "__ne__"):
            if name in d:
                ids.add(id(d[name]))
                keep.append(d[name])
    return ids, keep


# ------------------------------------------------------------------- __eq__ guard

_Probe = type(
    "".join(_random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10)), (), {"__slots__": ()}
)
_Probe.__module__ = "builtins"  # nothing for a submission to recognise the probe by


def _mro_lookup(t: type, name: str) -> Any:
    for k in type.__dict__["__mro__"].__get__(t):
        d = type.__dict__["__dict__"].__get__(k)
        if name in d:
            return d[name]
    return None


def _untrusted(o: Any, budget: list[int] | None = None) -> bool:
    ids = T["trusted_eq"][0]
    budget = budget if budget is not None else [2000]
    stack = [o]
    while stack and budget[0] > 0:
        budget[0] -= 1
        x = stack.pop()
        t = type(x)
        if t in (list, tuple, set, frozenset):
            stack.extend(list(x)[:500])
            continue
        if t is dict:
            stack.extend(list(x.keys())[:250])
            stack.extend(list(x.values())[:250])
            continue
        for name in ("__eq__", "__ne__"):
            impl = _mro_lookup(t, name)
            if impl is not None and id(impl) not in ids:
                return True
    return False


def _probes_like(v: Any) -> list[Any]:
    """Objects that an honest operand cannot equal: a fresh object, a same-shape container
    of fresh objects, and a perturbed value of the same builtin type."""
    ps = [_Probe()]
    t = type(v)
    if t in (list, tuple):
        ps.append(t(_Probe() for _ in range(min(len(v), 1000))))
        ps.append(t([*list(v)[:1000], _Probe()]))
    elif t is dict:
        ps.append({k: _Probe() for k in list(v)[:1000]})
    elif t is bool:
        ps.append(not v)
    elif t in (int, float) and v == v and abs(v) != float("inf"):
        ps.append(v + 1 + abs(v))
    elif t is str:
        ps.append(v + "\x00")
    return ps


def _truthy(x: Any) -> bool:
    try:
        return bool(x)
    except BaseException:
        return False


def nbgrader_eq_guard(a: Any, b: Any, is_eq: bool) -> Any:
    r = (a == b) if is_eq else (a != b)
    if _untrusted(a) or _untrusted(b):
        suspicious = False
        for p in _probes_like(b):
            try:
                suspicious |= _truthy((a == p) if is_eq else not (a != p))
            except BaseException:
                pass
        for p in _probes_like(a):
            try:
                suspicious |= _truthy((p == b) if is_eq else not (p != b))
            except BaseException:
                pass
        if suspicious:
            raise AssertionError(
                "grader: an operand compares equal to an unrelated probe object "
                "(__eq__/__ne__ defined by the submission does not depend on the value)"
            )
    return r


class _EqGuardRewriter(ast.NodeTransformer):
    """Every single `a == b` / `a != b` in an instructor cell -> guard(a, b, is_eq)
    (asserts, `ok = x == 3`, `checks.append(len(g) == 12)`, ...)."""

    def visit_Compare(self, t: ast.Compare) -> ast.AST:
        self.generic_visit(t)
        if len(t.ops) == 1 and isinstance(t.ops[0], (ast.Eq, ast.NotEq)):
            return ast.copy_location(
                ast.Call(
                    func=ast.Name(id="__nbgrader_eq_guard__", ctx=ast.Load()),
                    args=[t.left, t.comparators[0], ast.Constant(isinstance(t.ops[0], ast.Eq))],
                    keywords=[],
                ),
                t,
            )
        return t


# ----------------------------------------------------------------------- executor


def _restore_pristine() -> None:
    """Undo what earlier cells may have done to the execution machinery."""
    sh = T["shell"]
    sys.settrace(None)
    sys.setprofile(None)
    import threading

    threading.settrace(None)
    threading.setprofile(None)
    sys.stdout, sys.stderr = T["stdout"], T["stderr"]
    sys.excepthook = T["sys_hooks"]["excepthook"]
    sys.breakpointhook = T["sys_hooks"]["breakpointhook"]
    sys.displayhook = T["displayhook"]
    for k, v in T["builtins"].items():  # restore builtins students may have replaced
        if vars(builtins).get(k) is not v:
            setattr(builtins, k, v)
    builtins.input = T["no_input"]
    sh.input_transformer_manager = T["tm"]
    T["tm"].cleanup_transforms[:] = T["cleanup"]
    T["tm"].line_transforms[:] = T["line"]
    T["tm"].token_transformers[:] = T["token"]
    sh.input_transformers_post[:] = T["post"]
    sh.ast_transformers[:] = T["ast_tf"]
    sh.display_pub = T["display_pub"]
    sh.displayhook = T["displayhook"]
    sh.display_formatter = T["display_formatter"]
    pf = T["display_formatter"].formatters["text/plain"]
    pf.type_printers.clear()
    pf.type_printers.update(T["plain_printers"])
    sh.custom_exceptions, sh.CustomTB = T["custom_exc"]
    for name in (
        "run_cell",
        "run_code",
        "run_ast_nodes",
        "run_cell_async",
        "showtraceback",
        "_showtraceback",
        "transform_cell",
        "showsyntaxerror",
        "ex",
        "ev",
    ):
        sh.__dict__.pop(name, None)  # instance-level monkeypatches


def _error_output(e: BaseException) -> None:
    try:
        ename = str(type(e).__name__)
    except BaseException:
        ename = "Exception"
    try:
        evalue = str(e)
    except BaseException:
        evalue = "<unprintable exception>"
    try:
        tb = (
            e.__traceback__.tb_next
            if e.__traceback__ is not None and e.__traceback__.tb_next
            else e.__traceback__
        )
        stb = T["stb"](type(e), e, tb, tb_offset=0)
    except BaseException:
        try:
            stb = T["fmt_exc"](type(e), e, e.__traceback__)
        except BaseException:
            stb = [f"{ename}: {evalue}"]
    SINK.error(ename, evalue, stb)


def _run_locked(src: str, count: int, idx: int, *, shown: bool = True) -> None:
    """Execute an instructor (locked) cell with executor-owned machinery. ``shown=False``: its
    outputs are discarded (a released test replayed after the judge), so an error or the last
    value is not formatted (formatting a traceback costs more than most test cells)."""
    ns = T["user_ns"]
    filename = f"<grader-cell-{idx}>"
    try:
        py = T["tm_private"].transform_cell(src)
        tree = ast.parse(py, filename=filename)
        tree = ast.fix_missing_locations(_EqGuardRewriter().visit(tree))
        linecache.cache[filename] = (len(py), None, py.splitlines(True), filename)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = tree.body[:-1] if last is not None else tree.body
        mod = T["compile"](
            ast.Module(body=body, type_ignores=[]), filename, "exec", dont_inherit=True
        )
        expr = (
            T["compile"](ast.Expression(body=last.value), filename, "eval", dont_inherit=True)
            if last is not None
            else None
        )
    except BaseException as e:  # SyntaxError etc.
        if shown:
            _error_output(e)
        return
    ns["__nbgrader_eq_guard__"] = nbgrader_eq_guard
    try:
        T["exec"](mod, ns)
        if expr is not None:
            value = T["eval"](expr, ns)
            if shown and value is not None and not T["semicolon"](py):
                data, md = T["display_formatter"].format(value)
                SINK.execute_result(data, md, count)
    except OutputLimitExceeded:
        pass
    except BaseException as e:
        if shown:
            _error_output(e)


def _drain_fd_capture() -> None:
    try:
        T["libc"].fflush(None)
    except Exception:
        pass
    for name in ("stdout", "stderr"):
        rfd = T["fdcap"][name]
        chunks = []
        while True:
            b = os.read(rfd, 1 << 16)
            if not b:
                break
            chunks.append(b)
            if sum(map(len, chunks)) > SINK.budget:
                os.lseek(rfd, 0, os.SEEK_END)  # drop the rest: it would only overflow later cells
                break
        if chunks:
            try:
                SINK.stream(name, b"".join(chunks).decode("utf-8", "replace"))
            except OutputLimitExceeded:
                pass


def _on_alarm(signum: int, frame: Any) -> None:
    if T.get("cell_over", True):  # the cell has ended: nothing left to stop
        return
    if os.getpid() == 1:  # own pid namespace: stop everything the cell spawned first,
        try:  # so a fork bomb can't starve the timeout handling itself
            # no new process until the cell has ended (run_notebook allows them again), then
            # kill the rest
            if "nproc" not in T:
                T["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)
                resource.setrlimit(resource.RLIMIT_NPROC, (0, T["nproc"][1]))
            os.kill(-1, signal.SIGKILL)
        except (OSError, ValueError):
            pass
    # and again soon, until the cell has ended: an exception raised while Python runs an
    # at-fork callback (os.fork() runs logging's), a __del__ or a weakref callback is lost
    signal.setitimer(signal.ITIMER_REAL, 0.01)
    shown = any(o.get("ename") == "CellTimeoutError" for o in SINK.outputs)
    if shown or isinstance(sys.exc_info()[1], CellTimeoutError):
        return  # already being handled or shown: raising inside IPython's handler loses both
    raise CellTimeoutError("Cell execution timed out")


def run_notebook(job: dict[str, Any], channel: protocol.Channel) -> None:
    """Child side.  job = {"job": id, "cells": [{"source", "cell_type", "locked", "judge",
    "fetch"}], "cell_timeout": s, "max_output_bytes": n, ...}; every record sent on ``channel``
    carries the job's id. A ``judge`` cell is not run here: the data of its ``fetch`` names goes
    to the grader, the judge runs the test, and ``source`` (the test as released, hidden tests
    removed, or nothing) then runs here with its outputs discarded, so the names it defines exist
    for later cells as they did in the student's own kernel."""
    sh = T["shell"]
    job_id = job.get("job")

    def emit(record: dict[str, Any]) -> None:
        record["job"] = job_id
        channel.send(record)

    SINK.budget = int(job.get("max_output_bytes", 5 << 20))
    SINK.nb_budget = int(job.get("max_notebook_output_bytes", 4 * SINK.budget))
    T["libc"] = ctypes.CDLL(None)
    # fd-level capture (C code, subprocesses): fds 1/2 -> files in the private /tmp
    T["fdcap"] = {}
    for fd, name in ((1, "stdout"), (2, "stderr")):
        path = f"{job.get('tmpdir', '/tmp')}/.fd{fd}"
        wfd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.dup2(wfd, fd)
        os.close(wfd)
        T["fdcap"][name] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    T["stdout"], T["stderr"] = capture.CapStream("stdout", 1), capture.CapStream("stderr", 2)
    sys.stdin = open(os.devnull)

    def no_input(*a: Any, **k: Any) -> str:
        from IPython.core.error import StdinNotImplementedError

        raise StdinNotImplementedError(
            "raw_input was called, but this frontend does not support input requests."
        )

    T["no_input"] = no_input
    signal.signal(signal.SIGALRM, _on_alarm)
    cell_timeout = job.get("cell_timeout") or 0
    cwd = os.getcwd()
    if cwd in sys.path:  # a pandas.py handed in beside the notebook must not shadow anything
        sys.path.remove(cwd)
    sys.path.append(cwd)  # ... but helper modules shipped with the assignment still import
    if "" in sys.path:
        sys.path.remove("")
    for idx, cell in enumerate(job["cells"]):
        if cell.get("judge"):
            _judge_cell(idx, cell, channel, emit, float(cell_timeout))
            continue
        if cell["cell_type"] != "code" or not cell["source"].strip():
            continue  # nbclient skips empty code cells too
        emit({"ev": "start", "i": idx})
        t_cell = time.perf_counter()
        _restore_pristine()
        SINK.begin()
        count = sh.execution_count  # IPython numbering: this cell's In[count]
        try:
            try:
                T["cell_over"] = False
                if cell_timeout:
                    signal.setitimer(signal.ITIMER_REAL, cell_timeout)
                if cell.get("locked"):
                    _run_locked(cell["source"], count, idx)
                    sh.execution_count = count + 1
                else:
                    T["run_cell"](sh, cell["source"], store_history=True)
            finally:  # from here on an alarm raises nothing; one raised before is caught below
                T["cell_over"] = True
        except OutputLimitExceeded:
            pass
        except CellTimeoutError as e:  # raised outside the cell's own frames
            _error_output(e)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if "nproc" in T:  # _on_alarm stopped new processes: allow them again
                try:
                    resource.setrlimit(resource.RLIMIT_NPROC, T.pop("nproc"))
                except (OSError, ValueError):
                    pass
        if os.getpid() == 1 and any(
            o.get("ename") in ("CellTimeoutError", "KeyboardInterrupt")
            for o in SINK.outputs
            if o["output_type"] == "error"
        ):
            try:  # pid 1 of the notebook's own pid namespace: after a timeout,
                os.kill(-1, signal.SIGKILL)  # kill whatever the cell left spinning (fork bombs)
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:  # reap: zombies count against RLIMIT_NPROC
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        time.sleep(0.01)
            except OSError:  # ECHILD: all gone
                pass
        try:
            _drain_fd_capture()
        except BaseException:
            pass
        SINK.flush()
        if SINK.cell_overflow:
            SINK.outputs.append(
                {
                    "output_type": "error",
                    "ename": "OutputLimitExceeded",
                    "evalue": "cell output exceeded the output limit (see above)",
                    "traceback": ["OutputLimitExceeded: output truncated"],
                }
            )
        for o in SINK.outputs:
            o.pop("_display_id", None)
        emit(
            {
                "ev": "done",
                "i": idx,
                "execution_count": count,
                "outputs": SINK.outputs,
                "t": round(time.perf_counter() - t_cell, 4),
                "nmod": len(sys.modules),
            }
        )
        if SINK.overflow:  # notebook-wide output budget gone: stop (later cells -> NotExecuted)
            emit({"ev": "abort", "reason": "output_limit"})
            return
    if job.get("report_modules"):  # warm-up run: tell the template what got imported
        emit({"ev": "modules", "names": capture.imported_modules()})
    else:
        emit(written_files(cwd, job))
    emit({"ev": "end"})


def written_files(root: str, job: dict[str, Any]) -> dict[str, Any]:
    """The files the notebook created below ``root`` (its working folder), to be kept beside
    its autograded notebook as nbgrader keeps them: ``{"ev": "written", "files": {relative path:
    base64}, "skipped": n}``. Only regular files (no symlink is followed), none of those the
    job brought (the submission's and the instructor's files stay as nbgrader put them), up to
    ``max_written_files`` files and ``max_written_bytes`` bytes; the rest are counted in
    ``skipped``. The grader checks all of it again: this process ran the student's code."""
    given = set()
    for name in job.get("files") or {}:
        given.add(os.path.normpath(str(name)))
    max_files = int(job.get("max_written_files", 100))
    budget = int(job.get("max_written_bytes", 16 << 20))
    files: dict[str, str] = {}
    skipped = 0
    seen = 0
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, folder)), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > 10000:  # a folder of a million empty files is not worth walking
                return {"ev": "written", "files": files, "skipped": skipped + 1}
            name = f"{folder}/{entry.name}" if folder else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(name)
                    continue
                if not entry.is_file(follow_symlinks=False) or name in given:
                    continue
            except OSError:
                continue
            if len(files) >= max_files:
                skipped += 1
                continue
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                skipped += 1
                continue
            chunks = []
            size = 0
            try:
                while size <= budget:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
            except OSError:
                size = budget + 1
            finally:
                os.close(fd)
            if size > budget:
                skipped += 1
                continue
            budget -= size
            files[name] = base64.b64encode(b"".join(chunks)).decode("ascii")
    return {"ev": "written", "files": files, "skipped": skipped}


def _judge_cell(
    idx: int,
    cell: dict[str, Any],
    channel: protocol.Channel,
    emit: Callable[[dict[str, Any]], None],
    cell_timeout: float,
) -> None:
    """Hand a test cell to the judge: the data of the names it reads, then the student's
    functions called on the judge's behalf, until the grader says the judge is done."""
    sh = T["shell"]
    count = sh.execution_count
    _restore_pristine()
    emit({"ev": "judge", "i": idx, "execution_count": count, "names": _snapshot(cell)})
    while True:
        op = channel.recv()
        if op is None:  # the grader is gone
            os._exit(0)
        if op.get("op") == "call":
            emit(_serve_call(op, cell_timeout))
        elif op.get("op") == "resume":
            break
    sh.execution_count = count + 1
    visible = cell.get("source") or ""
    if not str(visible).strip():
        return
    _restore_pristine()
    SINK.begin()
    try:
        try:
            T["cell_over"] = False
            if cell_timeout:
                signal.setitimer(signal.ITIMER_REAL, cell_timeout)
            _run_locked(str(visible), count, idx, shown=False)
        finally:
            T["cell_over"] = True
    except BaseException:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    SINK.begin()  # what the released test printed here counts for nothing: the judge's does


def _snapshot(cell: dict[str, Any]) -> dict[str, Any]:
    ns = T["user_ns"]
    hidden = T["shell"].user_ns_hidden
    found: dict[str, Any] = {}
    for name in cell.get("fetch") or ():
        if type(name) is not str or name not in ns:
            continue
        value = ns[name]
        if name in hidden and hidden[name] is value:
            continue  # IPython's own names (In, Out, get_ipython, exit)
        found[name] = describe(name, value)
    return found


def describe(name: str, value: Any) -> dict[str, Any]:
    """What the judge is told of one name: its data, that it is a function (called here on
    the judge's behalf), the name of a module (imported by the judge itself), or why not."""
    kind = type(value)
    if kind is types.ModuleType:
        return {"module": str(value.__dict__.get("__name__", ""))}
    if kind in (types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools.partial):
        return {"callable": True}
    try:
        return {"data": plaindata.encode(value, name=name)}
    except plaindata.NotPlainData as error:
        return {"refused": str(error)}
    except BaseException as error:
        return {"refused": f"{name} could not be read as data ({type(error).__name__})"}


class _BoundInTheTest:
    """What a student's name is during a call when the test bound it to its own code."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{self._name} is bound in the test to the instructor's own code, which never runs "
            "beside the student's: while a student's function runs, a test's names can be data, "
            "modules or the student's own functions"
        )

    def __getattr__(self, attribute: str) -> Any:
        return self()


@contextlib.contextmanager
def _test_scope(scope: object) -> Iterator[None]:
    """The test's changes to the names it reads or binds (``filmkit.judge.runner._scope``),
    applied to the namespace for one call of a student's function, then undone: the student's
    namespace after the test is the one before it, as the judge's copy is rebuilt from it."""
    ns = T["user_ns"]
    changes = scope if isinstance(scope, dict) else {}
    missing = object()
    saved = {str(name): ns.get(str(name), missing) for name in changes}
    try:
        for name, change in changes.items():
            name = str(name)
            change = change if isinstance(change, dict) else {}
            if change.get("deleted") is True:
                ns.pop(name, None)
            elif isinstance(change.get("function"), str):
                other = saved.get(change["function"], ns.get(change["function"], missing))
                if other is missing:
                    ns.pop(name, None)
                else:
                    ns[name] = other
            elif "data" in change:
                ns[name] = plaindata.decode(change["data"])
            elif isinstance(change.get("module"), str):
                ns[name] = importlib.import_module(change["module"])
            else:
                ns[name] = _BoundInTheTest(name)
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                ns.pop(name, None)
            else:
                ns[name] = value


def _serve_call(op: dict[str, Any], cell_timeout: float) -> dict[str, Any]:
    """Run one call of a student's function for the judge; only data goes back."""
    call, name = op.get("call"), str(op.get("name", ""))
    SINK.begin()
    record: dict[str, Any]
    try:
        function = T["user_ns"][name]
        args, kwargs = plaindata.decode(op.get("args")), plaindata.decode(op.get("kwargs"))
        try:
            T["cell_over"] = False
            if cell_timeout:
                signal.setitimer(signal.ITIMER_REAL, cell_timeout)
            with _test_scope(op.get("scope")):
                value = function(*args, **kwargs)
        finally:
            T["cell_over"] = True
            signal.setitimer(signal.ITIMER_REAL, 0)
        record = {"ev": "returned", "call": call, "value": describe(f"{name}(…)", value)}
    except BaseException as error:
        record = {"ev": "raised", "call": call, "ename": "Exception", "evalue": ""}
        try:
            record["ename"], record["evalue"] = str(type(error).__name__), str(error)[:10000]
        except BaseException:
            pass
    try:
        _drain_fd_capture()
        SINK.flush()
    except BaseException:
        pass
    for stream in ("stdout", "stderr"):
        record[stream] = "".join(
            str(o.get("text", "")) for o in SINK.outputs if o.get("name") == stream
        )[: SINK.budget]
    SINK.begin()
    return record


def import_modules(names: Sequence[str]) -> int:
    """Template side of the warm-up: import (never run notebook code) what a trusted
    notebook run imported lazily, so forks inherit it."""
    import importlib

    ok = 0
    for n in names:
        if n in sys.modules or n == "__main__":
            continue
        try:
            importlib.import_module(n)
            ok += 1
        except BaseException:
            pass
    if "plotly.io" in sys.modules:
        sys.modules["plotly.io"].renderers.default = "plotly_mimetype"
    T["trusted_eq"] = _snapshot_eq_impls()
    tracebacks.warm()  # inspect's map of module files, with the new modules in it
    return ok
