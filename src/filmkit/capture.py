"""Running cells the way ipykernel does, recording nbformat outputs: shared by the sandbox and the judge.

:data:`SINK` collects the outputs of the cell being run: streams buffered and flushed like
ipykernel's ``OutStream`` (stdout before stderr, before any display, result or error, and 0.2 s
after the first pending write), display data, the execute result and errors, with a budget per
cell (exceeding it makes that cell an error) and per notebook (exceeding it ends the run).
:func:`make_shell` builds the IPython shell whose display publisher, display hook and traceback
go to :data:`SINK`. Both processes that run cells use them: the sandbox's executor
(:mod:`filmkit.sandbox.executor`) for the student's cells and the judge (:mod:`filmkit.judge`)
for the instructor's tests; each process has its own copy, and nothing here is shared at run time.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from typing import Any

Output = dict[str, Any]


class OutputLimitExceeded(BaseException):
    pass


class CellTimeoutError(BaseException):
    pass


class Sink:
    """Collects nbformat outputs of the current cell; enforces the output budget."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.pending: dict[str, str] = {"stdout": "", "stderr": ""}
        self.pending_since: float | None = None
        self.budget = 5 << 20  # per cell: exceeding it = an error in that cell
        self.nb_budget = 20 << 20  # per notebook: exceeding it ends the run
        self.used = 0
        self.cell_used = 0
        self.overflow = False  # notebook budget exceeded
        self.cell_overflow = False
        self.pending_clear = False

    def begin(self) -> None:
        self.outputs = []
        self.cell_used = 0
        self.cell_overflow = False
        self.pending_clear = False
        self.pending = {"stdout": "", "stderr": ""}
        self.pending_since = None

    def _charge(self, n: int) -> None:
        self.used += n
        self.cell_used += n
        if self.used > self.nb_budget:
            self.overflow = self.cell_overflow = True
            raise OutputLimitExceeded(f"notebook output limit of {self.nb_budget} bytes exceeded")
        if self.cell_used > self.budget:
            self.cell_overflow = True
            raise OutputLimitExceeded(f"cell output limit of {self.budget} bytes exceeded")

    def _append(self, out: Output) -> None:
        if self.pending_clear:
            self.outputs.clear()
            self.pending_clear = False
        self.outputs.append(out)

    def stream(self, name: str, text: str) -> None:
        """Buffered like ipykernel's OutStream: pending text is flushed (stdout first, then
        stderr) before any display/result/error, at the end of the cell, or 0.2 s after the
        first pending write.  So output order matches what nbclient records from ipykernel."""
        if not text:
            return
        if self.cell_overflow:
            raise OutputLimitExceeded("output limit exceeded")
        self._charge(len(text))
        self.pending[name] += text
        now = time.monotonic()
        if self.pending_since is None:
            self.pending_since = now
        elif now - self.pending_since > 0.2:
            self.flush()

    def flush(self) -> None:
        for name in ("stdout", "stderr"):
            text = self.pending[name]
            if not text:
                continue
            self.pending[name] = ""
            o = self.outputs[-1] if self.outputs and not self.pending_clear else None
            if o is not None and o["output_type"] == "stream" and o["name"] == name:
                o["text"] += text
            else:
                self._append({"output_type": "stream", "name": name, "text": text})
        self.pending_since = None

    def _size(self, data: Any) -> int:
        try:
            return len(json.dumps(data, default=str))
        except Exception:
            return 1 << 20

    def display(
        self, data: Any, metadata: Any, transient: Any = None, update: bool = False
    ) -> None:
        self.flush()
        self._charge(self._size(data))
        out = {
            "output_type": "display_data",
            "data": _jsonable(data),
            "metadata": _jsonable(metadata or {}),
        }
        did = (transient or {}).get("display_id")
        if update and did:
            for cell_outs in (self.outputs,):
                for o in cell_outs:
                    if o.get("_display_id") == did:
                        o["data"], o["metadata"] = out["data"], out["metadata"]
            return
        if did:
            out["_display_id"] = did
        self._append(out)

    def execute_result(self, data: Any, metadata: Any, count: int) -> None:
        self.flush()
        self._charge(self._size(data))
        self._append(
            {
                "output_type": "execute_result",
                "data": _jsonable(data),
                "metadata": _jsonable(metadata or {}),
                "execution_count": count,
            }
        )

    def error(self, ename: str, evalue: str, tb: Any) -> None:
        self.flush()
        self._append(
            {
                "output_type": "error",
                "ename": ename,
                "evalue": evalue,
                "traceback": [str(x) for x in (tb or [])][:200],
            }
        )

    def clear(self, wait: bool = False) -> None:
        self.flush()
        if wait:
            self.pending_clear = True
        else:
            self.outputs.clear()


def _jsonable(d: Any) -> Any:
    return json.loads(json.dumps(d, default=str))


SINK = Sink()


class CapStream(io.TextIOBase):
    """sys.stdout / sys.stderr replacement (like ipykernel's OutStream)."""

    def __init__(self, name: str, fd: int) -> None:
        self.name_ = name
        self._fd = fd

    @property
    def name(self) -> str:
        return f"<{self.name_}>"

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        SINK.stream(self.name_, s)
        return len(s)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def make_shell() -> Any:
    """The one IPython shell of this process, its outputs recorded in :data:`SINK`."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class CapDisplayPublisher(DisplayPublisher):
        def publish(
            self,
            data: Any,
            metadata: Any = None,
            source: Any = None,
            *,
            transient: Any = None,
            update: bool = False,
            **kw: Any,
        ) -> None:
            SINK.display(data, metadata, transient, update)

        def clear_output(self, wait: bool = False) -> None:
            SINK.clear(wait)

    class CapDisplayHook(DisplayHook):
        def start_displayhook(self) -> None:
            self._fmt: tuple[Any, Any] | None = None

        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict: Any, md_dict: Any = None) -> None:
            self._fmt = (format_dict, md_dict)

        def finish_displayhook(self) -> None:
            if self._fmt is not None:
                SINK.execute_result(self._fmt[0], self._fmt[1], self.prompt_count)
            self._fmt = None

    class GraderShell(InteractiveShell):
        display_pub_class = Type(CapDisplayPublisher)
        displayhook_class = Type(CapDisplayHook)

        def _showtraceback(self, etype: Any, evalue: Any, stb: Any) -> None:
            SINK.error(str(etype.__name__), str(evalue), stb)
            self._shown_error: tuple[Any, Any] | None = (evalue, stb)

        def _format_exception_for_storage(
            self, exception: Any, filename: Any = None, running_compiled_code: bool = False
        ) -> Any:
            # IPython formats each error of a cell a second time, for the history (only
            # %notebook reads it); the traceback just shown is that text, at half the cost
            shown: tuple[Any, Any] | None = getattr(self, "_shown_error", None)
            self._shown_error = None
            if shown is not None and shown[0] is exception:
                name = type(exception).__name__
                return {"ename": name, "evalue": str(exception), "traceback": shown[1]}
            stored = super()._format_exception_for_storage
            return stored(exception, filename, running_compiled_code)  # type: ignore[no-untyped-call]

        def enable_gui(self, gui: Any = None) -> None:
            pass

    from filmkit import tracebacks

    tracebacks.install()
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"  # as nbgrader passes to ipykernel; no saving thread
    cfg.InteractiveShell.colors = "nocolor"
    shell = GraderShell.instance(config=cfg)
    return shell


def imported_modules() -> list[str]:
    """The installed modules this process has imported (the environment's and filmkit's, never
    a module from the working folder): what a warm-up run reports for its fork server to import."""
    import filmkit

    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(filmkit.__file__))}
    prefixes = tuple({os.path.realpath(p) for p in roots} | roots)
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if isinstance(getattr(module, "__file__", None), str)
        and os.path.realpath(str(module.__file__)).startswith(prefixes)
    )
