"""Tracebacks as ipykernel formats them, without parsing source files nobody will read.

IPython formats a traceback (``VerboseTB.get_records``) in runs: a frame whose file is long
(more than ``ultratb.FAST_THRESHOLD`` lines) or that belongs to IPython is rendered raw or
skipped, and each run of the other frames goes through ``stack_data.FrameInfo.stack_data``.
That call walks the *whole remaining* chain and builds a ``stack_data.FrameInfo`` for every
frame in it, and building one parses the frame's file (``executing.Source``), before IPython
keeps only the frames of its run. So a ``KeyError`` from ``df["colum"]`` in a student's cell
parses ``pandas/core/frame.py`` (20 000 lines, ~150 ms) only to print it raw, and an error
passing through a magic parses IPython's ``interactiveshell.py`` only to skip it. On the
benchmark's submissions that was 40 % of the sandbox's CPU time per notebook (0.20 → 0.12 s).

:func:`install` makes ``stack_data.FrameInfo`` a subclass that parses a frame's file the first
time something reads it (:class:`LazyFrameInfo`): the frames IPython renders are parsed exactly
as before, the frames it drops never are, and the text is the same character for character
(``tests/test_tracebacks.py`` compares it with IPython's own).

:func:`warm` formats one traceback in a fork server before any fork, so every child inherits
the formatter's imports, its pygments lexer and ``inspect``'s map of module files (which
``inspect.getmodule`` otherwise rebuilds in every child for the modules imported since), and
parses the modules whose frames the tracebacks will show: the judge's failed tests raise in
``filmkit.kernel.marking`` (1 200 lines, 60 ms to parse), in a fifth of the benchmark's notebooks.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import stack_data
import stack_data.core


class LazyFrameInfo(stack_data.FrameInfo):  # type: ignore[misc]
    """A ``stack_data.FrameInfo`` that parses its frame's source only when it is read."""

    def __init__(self, frame_or_tb: Any, options: stack_data.Options | None = None) -> None:
        # the attributes stack_data.FrameInfo.__init__ sets, but for executing and source
        frame, self.lineno = stack_data.core.frame_and_lineno(frame_or_tb)
        self.frame = frame
        self.code = frame.f_code
        self.options = options or stack_data.Options()
        self._frame_or_tb = frame_or_tb

    @cached_property
    def executing(self) -> Any:
        return stack_data.core.Source.executing(self._frame_or_tb)

    @property
    def source(self) -> Any:
        return self.executing.source


def install() -> None:
    """Make this process's IPython tracebacks build :class:`LazyFrameInfo` (idempotent).

    IPython imports ``stack_data`` inside the function that formats and calls
    ``stack_data.FrameInfo.stack_data``, so the package's ``FrameInfo`` is what is rebound; a
    subclass, so every ``isinstance`` check on it still holds."""
    if stack_data.FrameInfo is not LazyFrameInfo:
        stack_data.FrameInfo = LazyFrameInfo


def warm(modules: Sequence[str] = ()) -> None:
    """Format one traceback through this process's shell (if it has one), so forks inherit
    what formatting loads, and parse the source of each of ``modules`` that is loaded, for the
    tracebacks that will show its frames. Call it after the last import before forking."""
    from IPython.core.interactiveshell import InteractiveShell

    for name in modules:
        path = getattr(sys.modules.get(name), "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            stack_data.core.Source.for_filename(path)
    if not InteractiveShell.initialized():
        return
    shell = InteractiveShell.instance()
    try:
        raise ValueError("warm-up")
    except ValueError as error:
        shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
