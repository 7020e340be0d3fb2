"""Control groups around the grading workers: a notebook's processes and files, bounded whole.

Specification
=============

Why
---
rlimits are per process: RLIMIT_AS bounds each process's address space, RLIMIT_NPROC the
processes of a uid, ``size=`` each tmpfs. A notebook that forked three children of 1 GiB each
and wrote files into its RAM-backed tmpfs held 4 GB while "the limit" said 2 GiB. A control
group bounds every process in it *together*, and a tmpfs page is charged to the memory cgroup
of the process that wrote it (it stays charged there until the file is deleted or the tmpfs
unmounted), so a group around the notebook bounds its processes and its files as one.

Layout
------
One group per grading worker (:class:`WorkerGroup`). It holds the worker's whole process tree:
bubblewrap, the template (:mod:`filmkit.sandbox.forkserver`) and, while a notebook runs, every
process of that notebook, all of which the template forks. Groups are made below the grader's
*own* cgroup, or below the cgroup ``$FILMKIT_CGROUP`` names (a path as in ``/proc/self/cgroup``),
so whatever limit holds the grader still holds its workers::

    <base>/filmkit/filmkit-<grader pid>-<n>     v1: under memory/ and under pids/
                                                v2: once, on the unified hierarchy

Detection (:func:`detect`, cached per process; :func:`probe` is the same on given texts)
-----------------------------------------------------------------------------------------
From ``/proc/self/mountinfo`` and ``/proc/self/cgroup``:

- **cgroup v2** when a ``cgroup2`` mount lists ``memory`` and ``pids`` in its
  ``cgroup.controllers`` (pure unified mode; in hybrid mode they are on v1). The base must list
  both in its own ``cgroup.controllers`` (delegated to it), be writable by us, and be able to
  pass them on: already in its ``cgroup.subtree_control``, or it is the root, or it holds no
  process, or it holds only the grader, which then moves itself into the leaf
  ``<base>/filmkit-<pid>-grader`` (the "no internal processes" rule; what a service with
  ``Delegate=yes`` is expected to do).
- **cgroup v1** when hierarchies with ``memory`` and ``pids`` are mounted and the grader's group
  in each is writable by us (normally: we are root).
- else **none**, with a one-line reason, e.g. "cgroup v1 memory controller is not writable by
  uid 1000 (/sys/fs/cgroup/memory/user.slice)". Grading then relies on rlimits alone
  (:mod:`filmkit.grading.limits` says what that guarantees).

Use
---
``WorkerGroup.create()`` makes the group (unlimited). ``group.preexec`` is passed as
``subprocess.Popen(preexec_fn=...)``: the started process moves itself into the group before it
execs, so everything it forks later is inside. Before each notebook, ``group.arm(memory_bytes,
pids)`` sets

- the memory limit to the template's baseline (current usage less reclaimable page cache, so
  files read by earlier notebooks do not raise it) plus ``memory_bytes``; no swap: v1
  ``memory.memsw.limit_in_bytes`` (when the kernel accounts swap) is set equal, v2
  ``memory.swap.max`` to 0;
- the process limit (``pids.max``, which counts threads) to the current count plus ``pids``;

and remembers the group's out-of-memory kill counter. After the notebook,
``group.oom_kills_since_arm()`` > 0 means the kernel killed a process of it for memory (v1
``memory.oom_control``'s ``oom_kill``, or ``memory.failcnt`` on kernels before 4.13 without
it; v2 ``memory.events``'s ``oom_kill``): report "ran out of its memory limit".
``group.pids_refused_since_arm()`` counts forks refused by ``pids.max``; ``group.usage()``
gives memory and tasks now, with their limits; ``group.disarm()`` lifts the limits again.
Arm when the previous notebook's processes are gone (its tmpfs is freed with them), before
the template forks the next one; arming costs well under a millisecond.

Which process the OOM killer takes
----------------------------------
A group out of memory kills its "worst" process, by resident size. The template must not be the
one: the notebook's first process calls :func:`prefer_oom_kill` (``oom_score_adj`` = 1000, which
any process may raise, and its descendants inherit). Alone that is a preference: an
unprivileged process may lower its score again, down to the floor last set by a privileged
writer. So the grader also calls ``group.prefer_oom_kill_of_new()`` once the template has
forked the notebook's process and before the notebook's code runs: written by a process with
CAP_SYS_RESOURCE (root, unless a container took it away: :func:`can_pin_oom_floor`), 1000
becomes the floor too, inherited by everything the notebook forks, and it cannot make the
template the victim. Without that capability a hostile notebook could; the worker would die
and be restarted (``sandbox_died``), the notebook still stopped at its limit.

Cleanup
-------
``group.remove()`` kills whatever is left in the group (v2 ``cgroup.kill`` where present; each
process through a pidfd checked to still be in the group, so a reused pid is never signalled)
and removes its directories, and the parent when that is empty. It raises
:class:`CgroupError` rather than return with a directory left. Groups still live when the
grader exits normally are removed by an ``atexit`` hook. After a crash, :func:`sweep_stale`
(call it before creating groups) kills what is left in the ``filmkit-<pid>-<n>`` groups of
graders that are no longer running, and removes them (a group whose owner's pid has been
reused is kept until that process exits). A v2 grader that moved into its own leaf leaves
that leaf (empty) when it exits; ``sweep_stale`` removes it, as systemd does with a delegated
unit's subtree.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import itertools
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

PARENT: Final = "filmkit"
ENV_BASE: Final = "FILMKIT_CGROUP"  # a cgroup path (as in /proc/self/cgroup) to use as base
NEEDED: Final = frozenset({"memory", "pids"})
UNLIMITED: Final = 1 << 62  # v1 prints "no limit" as 9223372036854771712
GROUP_NAME: Final = re.compile(r"filmkit-(\d+)-(\d+|grader)")


class CgroupError(Exception):
    """A control group could not be made, armed or removed."""


# ---------------------------------------------------------------- detection


@dataclass(frozen=True)
class Support:
    version: int  # 2, 1, or 0: no cgroups here
    reason: str  # "ok", or why not, in one line
    # the base cgroup's directory per hierarchy: v1 {"memory": …, "pids": …}, v2 {"unified": …}
    bases: Mapping[str, Path] = field(default_factory=dict)
    evacuate: bool = False  # v2: the grader first moves itself from its base into a leaf

    @property
    def usable(self) -> bool:
        return self.version > 0

    @property
    def parents(self) -> dict[str, Path]:
        return {key: base / PARENT for key, base in self.bases.items()}

    def summary(self) -> str:
        return f"cgroup v{self.version}" if self.usable else f"no cgroups: {self.reason}"


@dataclass(frozen=True)
class _Mount:
    root: str  # the folder of the hierarchy this mount shows
    point: Path
    fstype: str
    options: frozenset[str]  # the mount's own (ro/rw, …)
    superoptions: frozenset[str]  # v1: the controllers of the hierarchy


def _unescape(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), text)


def _mounts(mountinfo: str) -> list[_Mount]:
    found = []
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 6 or len(tail) < 3 or not tail[0].startswith("cgroup"):
            continue
        found.append(
            _Mount(
                _unescape(fields[3]),
                Path(_unescape(fields[4])),
                tail[0],
                frozenset(fields[5].split(",")),
                frozenset(tail[2].split(",")),
            )
        )
    return found


def _own_groups(proc_cgroup: str) -> dict[str, str]:
    """controller → this process's cgroup path ("" for the v2 line ``0::/path``)."""
    groups = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for name in parts[1].split(",") if parts[1] else [""]:
                groups[name] = parts[2]
    return groups


def _folder(mount: _Mount, path: str) -> Path | None:
    """The directory of cgroup ``path`` on ``mount``, or None when the mount does not show it."""
    if mount.root != "/":
        if path != mount.root and not path.startswith(mount.root.rstrip("/") + "/"):
            return None
        path = path[len(mount.root) :]
    parts = [p for p in path.split("/") if p]
    if ".." in parts:  # outside our cgroup namespace
        return None
    return mount.point.joinpath(*parts)


def _words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _pids_in(path: Path) -> set[int]:
    """The pids in a ``cgroup.procs``; never 0 (a process outside our pid namespace is listed
    as 0, and kill(0) would signal our own process group)."""
    try:
        return {pid for pid in map(int, path.read_text().split()) if pid > 0}
    except (OSError, ValueError):
        return set()


def _writable(*paths: Path) -> bool:
    return all(os.access(p, os.W_OK) for p in paths if p.exists())


def probe(
    mountinfo: str, proc_cgroup: str, *, base: str | None = None, uid: int | None = None
) -> Support:
    """What cgroups this process can use, from the texts of ``/proc/self/mountinfo`` and
    ``/proc/self/cgroup`` (``base``: a cgroup path to use instead of our own)."""
    uid = os.geteuid() if uid is None else uid
    mounts = _mounts(mountinfo)
    own = _own_groups(proc_cgroup)
    unified = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if unified is not None and NEEDED.issubset(_words(unified.point / "cgroup.controllers")):
        return _probe_v2(unified, base or own.get(""), uid)
    v1 = {
        name: next((m for m in mounts if m.fstype == "cgroup" and name in m.superoptions), None)
        for name in sorted(NEEDED)
    }
    missing = [name for name, mount in v1.items() if mount is None]
    if missing:
        where = "" if unified is None else f"; cgroup v2 at {unified.point} lacks them too"
        return Support(0, f"no cgroup {' and '.join(missing)} controller is mounted{where}")
    bases = {}
    for name, mount in v1.items():
        assert mount is not None
        path = base or own.get(name)
        if path is None:
            return Support(0, f"/proc/self/cgroup names no cgroup v1 {name} group")
        folder = _folder(mount, path)
        if folder is None:
            return Support(0, f"cgroup v1 {name} mount {mount.point} does not show group {path}")
        if not folder.is_dir():
            return Support(0, f"cgroup v1 {name} group {folder} does not exist")
        if "ro" in mount.options:
            return Support(0, f"cgroup v1 {name} hierarchy is mounted read-only at {mount.point}")
        if not _writable(folder, folder / PARENT):
            return Support(
                0, f"cgroup v1 {name} controller is not writable by uid {uid} ({folder})"
            )
        bases[name] = folder
    return Support(1, "ok", bases)


def _probe_v2(mount: _Mount, path: str | None, uid: int) -> Support:
    if path is None:
        return Support(0, "/proc/self/cgroup names no cgroup v2 group")
    folder = _folder(mount, path)
    if folder is None or not folder.is_dir():
        return Support(0, f"cgroup v2 mount {mount.point} does not show group {path}")
    delegated = _words(folder / "cgroup.controllers")
    if not NEEDED.issubset(delegated):
        return Support(
            0,
            f"cgroup v2: the memory and pids controllers are not delegated to {folder} "
            f"(its cgroup.controllers: {' '.join(sorted(delegated)) or 'none'})",
        )
    if "ro" in mount.options:
        return Support(0, f"cgroup v2 is mounted read-only at {mount.point}")
    control = folder / "cgroup.subtree_control"
    if not _writable(folder, control, folder / "cgroup.procs", folder / PARENT):
        return Support(
            0,
            f"cgroup v2 group {folder} is not writable by uid {uid} (not delegated to it: "
            "start the grader with `systemd-run --scope -p Delegate=yes …` or set "
            f"${ENV_BASE} to a delegated cgroup)",
        )
    bases = {"unified": folder}
    if NEEDED.issubset(_words(control)):
        return Support(2, "ok", bases)
    is_root = not (folder / "cgroup.events").exists()  # the root has no cgroup.events
    inside = _pids_in(folder / "cgroup.procs")
    if is_root or not inside:
        return Support(2, "ok", bases)
    if inside == {os.getpid()}:
        return Support(2, "ok", bases, evacuate=True)
    return Support(
        0,
        f"cgroup v2: {folder} holds {len(inside - {os.getpid()})} other process(es), so it "
        "cannot pass its memory and pids controllers to groups below it (the no-internal-"
        "processes rule): start the grader alone in a delegated cgroup "
        f"(`systemd-run --scope -p Delegate=yes filmkit grade …`) or set ${ENV_BASE} to an "
        "empty delegated cgroup",
    )


_LOCK = threading.RLock()
_DETECTED: dict[str, Support] = {}


def detect(*, refresh: bool = False) -> Support:
    """What cgroups this process can use (probed once per process unless ``refresh``)."""
    with _LOCK:
        if refresh or "support" not in _DETECTED:
            try:
                mountinfo = Path("/proc/self/mountinfo").read_text()
                proc_cgroup = Path("/proc/self/cgroup").read_text()
            except OSError as error:
                found = Support(0, f"cannot read /proc/self ({error.strerror})")
            else:
                found = probe(mountinfo, proc_cgroup, base=os.environ.get(ENV_BASE) or None)
            _DETECTED["support"] = found
        return _DETECTED["support"]


# ---------------------------------------------------------------- worker groups


@dataclass(frozen=True)
class Usage:
    memory: int  # bytes charged now: processes, tmpfs files, page cache
    memory_limit: int | None  # None: unlimited
    pids: int  # tasks (threads count) in the group
    pids_limit: int | None


@dataclass(frozen=True)
class Armed:
    baseline: int  # bytes the worker held before the notebook (less reclaimable page cache)
    memory_limit: int  # baseline + the notebook's memory_bytes (page-rounded by the kernel)
    pids_baseline: int
    pids_limit: int


_COUNTER = itertools.count(1)
_LIVE: set[WorkerGroup] = set()  # created by this process and not removed: for atexit
_PREPARED: set[Path] = set()  # v2 bases whose controllers this process enabled


def _read(path: Path) -> str:
    return path.read_text().strip()


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _counter(path: Path, key: str) -> int:
    """The value of ``key`` in a flat-keyed file (``memory.events``, ``pids.events``, …)."""
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _prepare_v2(support: Support) -> None:
    base = support.bases["unified"]
    if base in _PREPARED:
        return
    if support.evacuate and os.getpid() in _pids_in(base / "cgroup.procs"):
        leaf = base / f"filmkit-{os.getpid()}-grader"
        leaf.mkdir(exist_ok=True)
        _write(leaf / "cgroup.procs", str(os.getpid()))
    if not NEEDED.issubset(_words(base / "cgroup.subtree_control")):
        _write(base / "cgroup.subtree_control", "+memory +pids")
    _PREPARED.add(base)


def _make_parent(version: int, parent: Path) -> None:
    parent.mkdir(exist_ok=True)
    if version == 2 and not NEEDED.issubset(_words(parent / "cgroup.subtree_control")):
        _write(parent / "cgroup.subtree_control", "+memory +pids")


def _make_group(path: Path) -> None:
    path.mkdir()


class WorkerGroup:
    """The control group of one grading worker (see the module's specification)."""

    def __init__(self, version: int, name: str, dirs: Mapping[str, Path]) -> None:
        """Use :meth:`create`; ``dirs``: the group's directory per hierarchy."""
        self.version, self.name, self.dirs = version, name, dict(dirs)
        self.owner = os.getpid()
        self.armed: Armed | None = None
        self.removed = False
        self._procs_files = tuple(os.fsencode(d / "cgroup.procs") for d in self.dirs.values())
        self._oom_at_arm = self._pids_refused_at_arm = 0
        self._procs_at_arm: set[int] = set()
        with _LOCK:
            _LIVE.add(self)

    @property
    def _memory(self) -> Path:
        return self.dirs["unified" if self.version == 2 else "memory"]

    @property
    def _pids(self) -> Path:
        return self.dirs["unified" if self.version == 2 else "pids"]

    def __repr__(self) -> str:
        return f"<WorkerGroup {self.name} v{self.version} {list(self.dirs.values())}>"

    def __enter__(self) -> WorkerGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    @classmethod
    def create(cls, support: Support | None = None) -> WorkerGroup:
        """A new, unlimited group (raises :class:`CgroupError` when cgroups are unusable)."""
        support = support or detect()
        if not support.usable:
            raise CgroupError(support.reason)
        with _LOCK:
            try:
                if support.version == 2:
                    _prepare_v2(support)
            except OSError as error:
                raise CgroupError(f"cannot delegate the cgroup v2 controllers: {error}") from error
            for _attempt in range(10):
                name = f"filmkit-{os.getpid()}-{next(_COUNTER)}"
                made: dict[str, Path] = {}
                try:
                    for key, parent in support.parents.items():
                        _make_parent(support.version, parent)
                        _make_group(parent / name)
                        made[key] = parent / name
                except (FileExistsError, FileNotFoundError):
                    # a stale group of an earlier process with our pid, or another grader just
                    # removed the (empty) parent: try the next name
                    _rmdirs(made.values())
                    continue
                except OSError as error:
                    _rmdirs(made.values())
                    raise CgroupError(f"cannot create cgroup {name}: {error}") from error
                return cls(support.version, name, made)
        raise CgroupError(f"cannot create a cgroup below {list(support.parents.values())}")

    # -- membership

    def preexec(self) -> None:
        """For ``subprocess.Popen(preexec_fn=group.preexec)``: move the calling process (the
        child, before it execs) into the group. Raising makes Popen fail: nothing unbounded
        starts."""
        pid = str(os.getpid()).encode()
        for path in self._procs_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) into the group."""
        for path in self._procs_files:
            _write(Path(os.fsdecode(path)), str(pid))

    def procs(self) -> set[int]:
        """The processes in the group now (pids of the grader's pid namespace)."""
        found: set[int] = set()
        for folder in self.dirs.values():
            found |= _pids_in(folder / "cgroup.procs")
        return found

    # -- limits

    def arm(self, memory_bytes: int, pids: int) -> Armed:
        """Bound what runs next: memory to the baseline + ``memory_bytes`` (no swap), tasks to
        the current count + ``pids``; restart the OOM-kill and refused-fork counts."""
        if memory_bytes <= 0 or pids <= 0:
            raise ValueError(f"arm() needs positive limits, not {memory_bytes=} {pids=}")
        self._require_live()
        try:
            for attempt in range(3):
                usage = self._memory_usage()
                stat = self._memory / "memory.stat"
                cache = _counter(stat, "active_file") + _counter(stat, "inactive_file")
                baseline = max(usage - cache, 0)
                try:
                    limit = self._set_memory_limit(baseline + memory_bytes)
                    break
                except OSError as error:  # EBUSY: usage could not be brought below the limit
                    if error.errno != errno.EBUSY or attempt == 2:
                        raise
            pids_now = int(_read(self._pids / "pids.current"))
            _write(self._pids / "pids.max", str(pids_now + pids))
        except OSError as error:
            raise CgroupError(f"cannot set the limits of cgroup {self.name}: {error}") from error
        self._oom_at_arm = self._oom_count()
        self._pids_refused_at_arm = _counter(self._pids / "pids.events", "max")
        self._procs_at_arm = self.procs()
        self.armed = Armed(baseline, limit, pids_now, pids_now + pids)
        return self.armed

    def _memory_usage(self) -> int:
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        return int(_read(self._memory / name))

    def _set_memory_limit(self, limit: int) -> int:
        folder = self._memory
        if self.version == 2:
            _write(folder / "memory.max", str(limit))
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", "0")
            return int(_read(folder / "memory.max"))
        memory, memsw = folder / "memory.limit_in_bytes", folder / "memory.memsw.limit_in_bytes"
        # memory ≤ memory+swap at every step: raise memsw first, lower memory first
        order = [memory]
        if memsw.exists():
            order = [memsw, memory] if limit >= int(_read(memory)) else [memory, memsw]
        for path in order:
            _write(path, str(limit))
        return int(_read(memory))

    def disarm(self) -> None:
        """No limits again (e.g. for a trusted warm-up run)."""
        self._require_live()
        try:
            if self.version == 2:
                _write(self._memory / "memory.max", "max")
                _write(self._pids / "pids.max", "max")
            else:
                memory, memsw = (
                    self._memory / "memory.limit_in_bytes",
                    self._memory / "memory.memsw.limit_in_bytes",
                )
                for path in [memsw, memory] if memsw.exists() else [memory]:
                    _write(path, "-1")
                _write(self._pids / "pids.max", "max")
        except OSError as error:
            raise CgroupError(f"cannot lift the limits of cgroup {self.name}: {error}") from error
        self.armed = None

    def usage(self) -> Usage:
        memory = self._memory_usage()
        pids = int(_read(self._pids / "pids.current"))
        if self.version == 2:
            raw = _read(self._memory / "memory.max")
            memory_limit = None if raw == "max" else int(raw)
        else:
            value = int(_read(self._memory / "memory.limit_in_bytes"))
            memory_limit = None if value >= UNLIMITED else value
        raw = _read(self._pids / "pids.max")
        return Usage(memory, memory_limit, pids, None if raw == "max" else int(raw))

    def _oom_count(self) -> int:
        if self.version == 2:
            return _counter(self._memory / "memory.events", "oom_kill")
        control = self._memory / "memory.oom_control"
        if "oom_kill" in _read(control).split():
            return _counter(control, "oom_kill")
        return int(_read(self._memory / "memory.failcnt"))  # kernels before 4.13

    def oom_kills_since_arm(self) -> int:
        """Processes of the group the kernel killed for memory since :meth:`arm`."""
        try:
            return self._oom_count() - self._oom_at_arm
        except OSError:
            return 0

    def pids_refused_since_arm(self) -> int:
        """Forks (and threads) refused by the process limit since :meth:`arm`."""
        return _counter(self._pids / "pids.events", "max") - self._pids_refused_at_arm

    def prefer_oom_kill_of_new(self) -> set[int]:
        """Set ``oom_score_adj`` = 1000 on every process that joined the group since
        :meth:`arm` (the notebook's, forked by the template); the pids set. Written with
        CAP_SYS_RESOURCE (:func:`can_pin_oom_floor`) this is also their floor, which they and
        what they fork cannot lower: call it after the template forked the notebook's process,
        before the notebook's code runs."""
        done: set[int] = set()
        for pid in sorted(self.procs() - self._procs_at_arm):
            try:  # an open /proc/<pid> file names one process; is it (still) in the group?
                fd = os.open(f"/proc/{pid}/oom_score_adj", os.O_WRONLY)
            except OSError:
                continue
            try:
                if pid in self.procs():
                    os.write(fd, b"1000")
                    done.add(pid)
            except OSError:  # it exited
                pass
            finally:
                os.close(fd)
        return done

    # -- cleanup

    def kill(self) -> int:
        """SIGKILL every process in the group now; how many were signalled."""
        if self.version == 2 and (self._memory / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self._memory / "cgroup.kill", "1")
        return _kill_members(self.dirs.values())

    def remove(self, timeout: float = 10.0) -> None:
        """Kill what is left in the group and remove its directories (and the empty parent).
        Raises :class:`CgroupError` if processes outlive ``timeout``."""
        if self.removed:
            return
        if not _kill_and_remove(list(self.dirs.values()), timeout, self.kill):
            raise CgroupError(
                f"cgroup {self.name} still holds processes {sorted(self.procs())} after "
                f"{timeout:g}s"
            )
        self.removed = True
        with _LOCK:
            _LIVE.discard(self)
        _rmdirs(folder.parent for folder in self.dirs.values())

    def _require_live(self) -> None:
        if self.removed:
            raise CgroupError(f"cgroup {self.name} was removed")


def _rmdirs(folders: Iterable[Path]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _kill_members(folders: Iterable[Path]) -> int:
    """SIGKILL the processes in ``folders``' cgroup.procs, each through a pidfd opened while it
    was listed and used only if it is listed again after (a pidfd names one process; a pid
    may be reused), so no process outside the group is ever signalled."""
    folders = list(folders)
    listed: set[int] = set()
    for folder in folders:
        listed |= _pids_in(folder / "cgroup.procs")
    handles: dict[int, int] = {}
    for pid in listed:
        try:
            handles[pid] = os.pidfd_open(pid)
        except ProcessLookupError:
            pass
        except OSError:  # no pidfds (Linux < 5.3): only plain kill below
            handles[pid] = -1
    still: set[int] = set()
    for folder in folders:
        still |= _pids_in(folder / "cgroup.procs")
    killed = 0
    for pid, handle in handles.items():
        try:
            if pid in still:
                if handle >= 0:
                    signal.pidfd_send_signal(handle, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                killed += 1
        except ProcessLookupError:
            pass
        finally:
            if handle >= 0:
                os.close(handle)
    return killed


def _kill_and_remove(
    folders: list[Path], timeout: float, kill: Callable[[], object] | None = None
) -> bool:
    """Kill the members of the groups ``folders`` and rmdir them; False if not done in time."""
    deadline = time.monotonic() + timeout
    while True:
        if kill is not None:
            kill()
        else:
            _kill_members(folders)
        left = []
        for folder in folders:
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError:  # EBUSY: processes still exiting
                left.append(folder)
        if not left:
            return True
        folders = left
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(name: str, ours: set[str]) -> bool:
    """Whether group ``name`` belongs to a grader that is gone (``ours``: our live groups)."""
    match = GROUP_NAME.fullmatch(name)
    if match is None:
        return False
    owner = int(match[1])
    if owner == os.getpid():  # one of ours, or of an earlier process that had our pid
        return name not in ours and match[2] != "grader"
    return not _alive(owner)


def sweep_stale(support: Support | None = None, timeout: float = 5.0) -> list[Path]:
    """Remove the groups of graders that are gone (killed, crashed), killing what was left in
    them; also the empty grader leaves of v2 evacuation. Returns the directories removed.

    A group whose owner's pid now belongs to another process is kept until that one exits."""
    support = support or detect()
    if not support.usable:
        return []
    removed: list[Path] = []
    with _LOCK:
        ours = {group.name for group in _LIVE}
        for parent in support.parents.values():
            try:
                entries = sorted(p for p in parent.iterdir() if p.is_dir())
            except OSError:
                continue
            for entry in entries:
                if _stale(entry.name, ours) and _kill_and_remove([entry], timeout):
                    removed.append(entry)
            _rmdirs([parent])
        if support.version == 2:  # leaves of dead graders that moved out of their base
            for base in support.bases.values():
                for entry in sorted(base.glob("filmkit-*-grader")):
                    if _stale(entry.name, ours):
                        try:
                            entry.rmdir()  # only if empty: never kill in a grader's leaf
                            removed.append(entry)
                        except OSError:
                            pass
    return removed


@atexit.register
def _remove_live() -> None:
    with _LOCK:
        groups = list(_LIVE)
    for group in groups:
        if group.owner == os.getpid() and not group.removed:
            with contextlib.suppress(CgroupError, OSError):
                group.remove(timeout=2.0)


# ---------------------------------------------------------------- in the notebook's process


CAP_SYS_RESOURCE: Final = 24


def can_pin_oom_floor() -> bool:
    """Whether this process has CAP_SYS_RESOURCE, so that an ``oom_score_adj`` it writes for
    another process is also that process's floor (:meth:`WorkerGroup.prefer_oom_kill_of_new`)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def prefer_oom_kill() -> bool:
    """Make the calling process (and what it forks later) the OOM killer's first choice:
    ``oom_score_adj`` = 1000. For the template's forked child, before any notebook code runs,
    so a group out of memory kills the notebook, not the template. True if it was set."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    except OSError:
        return False
    try:
        os.write(fd, b"1000")
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
