"""What one notebook may use when ``filmkit grade`` runs it: configurable in nbgrader_config.py.

    c.GradingLimits.memory_bytes = 1 << 30   # the whole notebook: all its processes and files
    c.GradingLimits.pids = 32

:class:`GradingLimits` holds one trait per limit, its default and its meaning; ``to_limits()``
gives the :class:`~filmkit.grading.pool.Limits` the worker pool and the fork server take.
:meth:`GradingLimits.enforcement` says what this machine guarantees: with control groups
(:mod:`filmkit.grading.cgroups`) memory and processes are bounded for the whole notebook; without
them only per process, by rlimits.
"""

from __future__ import annotations

from typing import Any

from traitlets import Enum, Float, Int, default
from traitlets.config import Configurable
from traitlets.config.loader import DeferredConfig

from filmkit.grading import cgroups as cg
from filmkit.grading.pool import Limits

# Where nbgrader reads its cell timeout (most specific first): ``c.Execute.timeout``
TIMEOUT_SECTIONS = ("Execute", "ExecutePreprocessor", "NotebookClient")
OFF = cg.Support(0, "turned off by c.GradingLimits.cgroups = 'off'")
TMPFS_FOLDERS = 3  # /tmp, the working folder and the read-only copy of the submission


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.3g} {unit}"
    return f"{n} B"


class GradingLimits(Configurable):
    """The limits of one notebook run by ``filmkit grade`` (``c.GradingLimits.<name> = …``)."""

    cell_timeout = Float(
        60.0,
        min=0.1,
        help="Seconds one cell may run; then it is an error (scored 0) and the next cell runs. "
        "Default: nbgrader's own cell timeout, c.Execute.timeout, when it is set to a positive "
        "number, else 60. `filmkit grade --cell-timeout` overrides both.",
    ).tag(config=True)
    grace = Float(
        2.0,
        min=0.0,
        help="Seconds a cell that ignores its timeout (catches the interrupt, blocks signals) "
        "is given before its notebook's processes are killed.",
    ).tag(config=True)
    nb_timeout = Float(
        300.0,
        min=1.0,
        help="Seconds the whole notebook may run; then the running cell and every later one "
        "are errors.",
    ).tag(config=True)
    memory_bytes = Int(
        2 << 30,
        min=1 << 20,
        help="Bytes of memory the notebook may use: ALL its processes together, with the files "
        "it writes into its RAM-backed folders (tmpfs), where control groups are available "
        "(cgroup v2, or v1 as root); a notebook past it has a process killed and is marked "
        "'limit'. Each process is also bounded by it (RLIMIT_AS, address space: a too large "
        "allocation raises MemoryError). Without control groups only that per-process bound "
        "holds, up to pids × memory_bytes in all, and files by disk_bytes.",
    ).tag(config=True)
    pids = Int(
        64,
        min=1,
        help="Processes (threads count) the notebook may have at once; a fork bomb stops "
        "here. With control groups, the notebook's own; otherwise RLIMIT_NPROC of its "
        "worker's uid.",
    ).tag(config=True)
    disk_bytes = Int(
        256 << 20,
        min=1 << 20,
        help="Bytes each of the notebook's RAM-backed folders (tmpfs: /tmp, its working folder, "
        "the copy of its submission) may hold. Their files count towards memory_bytes too "
        "where control groups are available.",
    ).tag(config=True)
    file_bytes = Int(
        64 << 20,
        min=1 << 10,
        help="Bytes of the largest file the notebook may write (RLIMIT_FSIZE; a larger write "
        "fails with 'File too large').",
    ).tag(config=True)
    cell_output_bytes = Int(
        5 << 20,
        min=1 << 10,
        help="Bytes of output one cell may produce (text, images, …); the rest is cut and the "
        "cell reports OutputLimitExceeded.",
    ).tag(config=True)
    notebook_output_bytes = Int(
        20 << 20,
        min=1 << 10,
        help="Bytes of output the whole notebook may produce; then the run ends and the cells "
        "not run are errors.",
    ).tag(config=True)
    cgroups = Enum(
        ["auto", "require", "off"],
        "auto",
        help="Control groups, which bound memory and processes of the whole notebook: 'auto' "
        "uses them where they work (else grades with rlimits only, with a warning), "
        "'require' refuses to grade without them, 'off' never uses them.",
    ).tag(config=True)

    @default("cell_timeout")
    def _cell_timeout_default(self) -> float:
        for section in TIMEOUT_SECTIONS:
            found = self.config.get(section)
            value = found.get("timeout") if found is not None else None
            if isinstance(value, DeferredConfig):  # from the command line: --Execute.timeout=2
                try:
                    value = value.get_value(Float(allow_none=True))
                except Exception:
                    value = None
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return float(value)
        return float(type(self).cell_timeout.default_value)  # the 60 above

    def to_limits(self) -> Limits:
        """The :class:`~filmkit.grading.pool.Limits` the pool and the fork server take."""
        return Limits(
            cell_timeout=self.cell_timeout,
            grace=self.grace,
            nb_timeout=self.nb_timeout,
            mem_bytes=self.memory_bytes,
            nproc=self.pids,
            max_output_bytes=self.cell_output_bytes,
            max_notebook_output_bytes=self.notebook_output_bytes,
            fsize=self.file_bytes,
            scratch_bytes=self.disk_bytes,
        )

    def cgroup_support(self) -> cg.Support:
        """The control groups grading will use (``version`` 0 when none); raises
        :class:`~filmkit.grading.cg.CgroupError` when they are required but unusable."""
        found = OFF if self.cgroups == "off" else cg.detect()
        if self.cgroups == "require" and not found.usable:
            raise cg.CgroupError(
                f"c.GradingLimits.cgroups = 'require', but control groups are unusable: "
                f"{found.reason}"
            )
        return found

    def enforcement(self, support: cg.Support | None = None) -> str:
        """One line: what these limits guarantee on this machine (``support``: as detected)."""
        if support is None:
            support = OFF if self.cgroups == "off" else cg.detect()
        memory, pids = _size(self.memory_bytes), self.pids
        per_file = (
            f"each tmpfs folder ≤ {_size(self.disk_bytes)}, each file ≤ {_size(self.file_bytes)}"
        )
        if support.usable:
            return (
                f"cgroup v{support.version}: memory and processes of the whole notebook "
                f"({memory} for all its processes and tmpfs files, {pids} processes); "
                f"per process ≤ {memory} of address space; {per_file}"
            )
        total = _size(self.memory_bytes * self.pids)
        return (
            f"rlimits only ({support.reason}): memory per process (up to pids × memory = "
            f"{pids} × {memory} = {total} in all, plus {TMPFS_FOLDERS} tmpfs folders of "
            f"{_size(self.disk_bytes)}); {pids} processes per worker uid; {per_file}"
        )

    def warning(self, support: cg.Support | None = None) -> str | None:
        """The warning to show when the notebook's memory is bounded per process only."""
        support = support or self.cgroup_support()
        if support.usable:
            return None
        return (
            f"NOTEBOOK MEMORY IS BOUNDED PER PROCESS ONLY: {support.reason}. A notebook may "
            f"hold {_size(self.memory_bytes)} in each of its processes (up to {self.pids}) "
            f"and {_size(self.disk_bytes)} in each of its {TMPFS_FOLDERS} tmpfs folders; "
            "grade as root (cgroup v1) or in a delegated cgroup v2 subtree to bound the whole "
            "notebook, or set c.GradingLimits.cgroups = 'require' to refuse to grade without."
        )

    def describe(self) -> dict[str, Any]:
        """Every limit by its configuration name."""
        return {name: getattr(self, name) for name in sorted(self.class_own_traits(config=True))}
