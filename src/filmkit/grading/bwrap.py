"""The bubblewrap sandbox that every grading worker runs in, in one of two modes.

**Privileged** (:data:`PRIVILEGED`, when ``filmkit grade`` runs as root): bwrap starts without a
user namespace. Every capability is dropped except the three ``setpriv`` needs to become an
unprivileged uid (one per worker) with an empty bounding set and ``no_new_privs``. The uid must
not be root: the kernel does not enforce ``RLIMIT_NPROC`` for uid 0, and that limit is what stops
a fork bomb.

**Unprivileged** (:data:`UNPRIVILEGED`, any other user): bwrap starts in a user namespace of its
own (``--unshare-user``) that maps the worker's uid inside to the invoking user outside, with
every capability dropped; no setpriv, nothing setuid. The kernel must allow unprivileged user
namespaces: :func:`check_sandbox` tries, and says why not and what to do when it cannot.

Both: visible inside are ``/usr``, the Python and its virtual environment, the filmkit package
and the source texts, all read-only; a private ``/tmp``; no network (only ``lo``); private pid,
IPC and host-name namespaces. The gradebook, ``source/``, ``release/``, every student's folder and
the rest of the home folder are not there at all: a submission's own files reach its forked child
over a pipe (:mod:`~filmkit.sandbox.forkserver`), which runs each notebook in further user,
mount, pid, IPC and host-name namespaces of its own (nested in bwrap's, in both modes).

What unprivileged mode gives up: outside the namespaces every worker is the instructor's uid,
not a uid of its own (the namespaces, not the uid, keep a submission from the instructor's other
processes and files); ``RLIMIT_NPROC`` is exact per notebook only on Linux ≥ 5.14
(:func:`nproc_allowance`); cgroup limits (:mod:`filmkit.grading.cgroups`) need a delegated
cgroup v2 subtree, which a non-root user may not have (never under cgroup v1).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import filmkit
from filmkit.paths import source_texts_dir

# The two modes, as GradeSummary.sandbox reports them.
PRIVILEGED: Final = "bwrap"  # as root: no user namespace, setpriv to a uid per worker
UNPRIVILEGED: Final = "bwrap-userns"  # anyone else: bubblewrap in a user namespace
MODES: Final = (PRIVILEGED, UNPRIVILEGED)
# Where the package and the texts appear inside the sandbox (FILMKIT_ROOT points there).
SANDBOX_ROOT: Final = "/opt/filmkit"
# Each notebook's private tmpfs mounts: its working folder (a scratch copy of the submission's
# files) and a read-only copy. Not /work or /home: the host's venv may live below those.
WORK_DIR: Final = "/grading/work"
SUBMISSION_DIR: Final = "/grading/submission"
INSTALL_HINT: Final = "install it with `apt-get install -y bubblewrap` (Debian/Ubuntu)"
PROBE_UID: Final = 64000  # the self-test's worker uid (the workers use 64001 and up)
PROC_SYS: Path = Path("/proc/sys")  # where the sysctls are read (a test points it elsewhere)
USERNS_FILE: Path = Path("/proc/self/ns/user")


def package_src() -> Path:
    """The folder holding the ``filmkit`` package (``src/`` of the checkout)."""
    return Path(filmkit.__file__).resolve().parent.parent


def python_paths() -> list[str]:
    """Folders that must be visible (read-only) for this Python and its venv to run."""
    return sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)})


def sandbox_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        "PATH": f"{sys.prefix}/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONPATH": f"{SANDBOX_ROOT}/src",
        "FILMKIT_ROOT": SANDBOX_ROOT,
        # BLAS thread pools do not survive fork(): one thread each
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "IPYTHONDIR": "/tmp/.ipython",
        "MPLCONFIGDIR": "/tmp/.mpl",
        "NBGRADER_EXECUTION": "autograde",
    }
    env.update(extra or {})
    return env


def sandbox_mode() -> str:
    """The mode this process starts bwrap in: :data:`PRIVILEGED` as root, else
    :data:`UNPRIVILEGED`."""
    return PRIVILEGED if os.geteuid() == 0 else UNPRIVILEGED


def bwrap_argv(
    *,
    uid: int,
    texts: Path | None = None,
    tmp_size: int = 256 << 20,
    extra_env: Mapping[str, str] | None = None,
    mode: str | None = None,
) -> list[str]:
    """The argv prefix ``bwrap … --``: append the command to run inside (as ``uid``).

    ``mode`` defaults to :func:`sandbox_mode`. Privileged: the command runs through ``setpriv``
    as ``uid``. Unprivileged: bwrap maps ``uid`` (inside) to the invoking user (outside), so the
    command sees itself as ``uid`` too, and the forkserver's nested uid_map ``"uid uid 1"`` holds.
    """
    mode = mode or sandbox_mode()
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}: use one of {MODES}")
    executable = shutil.which("bwrap") or "/usr/bin/bwrap"
    argv = [executable]
    if mode == UNPRIVILEGED:
        argv += ["--unshare-user", "--uid", str(uid), "--gid", str(uid)]
    argv += [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",  # setsid(): no TIOCSTI into the grader's terminal
        "--hostname",
        "grader",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/sbin",
        "/sbin",
        "--ro-bind-try",
        "/etc/alternatives",
        "/etc/alternatives",
        "--ro-bind-try",
        "/etc/localtime",
        "/etc/localtime",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        str(tmp_size),
        "--tmpfs",
        "/tmp",
        "--dir",
        WORK_DIR,
        "--dir",
        SUBMISSION_DIR,
    ]
    binds = [(p, p) for p in python_paths()]
    binds.append((str(package_src()), f"{SANDBOX_ROOT}/src"))
    binds.append((str(texts or source_texts_dir()), f"{SANDBOX_ROOT}/source_texts"))
    made = {"/", "/tmp", "/usr", "/grading", WORK_DIR, SUBMISSION_DIR}
    for _, target in binds:
        # bwrap makes missing parents mode 0700, which the unprivileged uid cannot enter
        for parent in reversed(Path(target).parents):
            if str(parent) not in made:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
    for source, target in binds:
        argv += ["--ro-bind", source, target]
    argv.append("--clearenv")
    for key, value in sandbox_env(extra_env).items():
        argv += ["--setenv", key, value]
    argv += ["--chdir", "/"]
    if mode == UNPRIVILEGED:
        # no capability inside either (bwrap drops them for a non-zero uid anyway): the
        # forkserver's child needs none to make its own, nested, user namespace
        return [*argv, "--cap-drop", "ALL", "--"]
    return [
        *argv,
        # privileged bwrap keeps every capability unless told otherwise; setpriv needs these 3
        "--cap-drop",
        "ALL",
        "--cap-add",
        "CAP_SETUID",
        "--cap-add",
        "CAP_SETGID",
        "--cap-add",
        "CAP_SETPCAP",
        "--",
        "/usr/bin/setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


# ---------------------------------------------------------------------------------------------
# RLIMIT_NPROC


def kernel_counts_nproc_per_userns(release: str | None = None) -> bool:
    """Whether this kernel counts ``RLIMIT_NPROC`` per user namespace (Linux ≥ 5.14, "ucounts"),
    rather than per real uid across the whole machine."""
    found = re.match(r"(\d+)\.(\d+)", release or os.uname().release)
    return found is not None and (int(found[1]), int(found[2])) >= (5, 14)


def threads_of_uid(uid: int, proc: Path = Path("/proc")) -> int:
    """How many tasks (threads) run with real uid ``uid``: what ``RLIMIT_NPROC`` counts."""
    count = 0
    for status in proc.glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
        except (OSError, KeyError, ValueError, IndexError):
            continue  # gone meanwhile
    return count


def nproc_allowance(limit: int, mode: str, *, release: str | None = None) -> int:
    """The ``RLIMIT_NPROC`` to give one notebook that may run ``limit`` processes.

    Every notebook runs in a user namespace of its own (:func:`forkserver.child_main`), and
    since Linux 5.14 the kernel counts the limit per user namespace: ``limit`` then counts that
    notebook's processes alone, in both modes. Older kernels count every process of the real
    uid. In privileged mode that is the worker's own uid (its template and its notebook), so
    ``limit`` still holds; in unprivileged mode it is the instructor's uid, shared by every
    worker and everything else the instructor runs, so the notebook gets what that uid runs now
    plus ``limit`` (capped by the hard limit): a fork bomb still stops, but the margin is shared
    with whatever else that uid starts meanwhile. So too unsandboxed (any other ``mode``) when not
    root, on any kernel: there the notebook has no user namespace of its own.
    """
    shared = mode == UNPRIVILEGED and not kernel_counts_nproc_per_userns(release)
    # unsandboxed ("none") and not root: no namespace at all, the instructor's uid on any kernel
    shared |= mode not in MODES and os.geteuid() != 0
    if not shared:
        return limit
    allowance = threads_of_uid(os.getuid()) + limit
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    return allowance if hard == resource.RLIM_INFINITY else min(allowance, hard)


# ---------------------------------------------------------------------------------------------
# Can the sandbox run here?


@dataclass(frozen=True)
class SandboxCheck:
    usable: bool
    reason: str  # why not, and what to do; or "ok"
    mode: str = "none"  # PRIVILEGED or UNPRIVILEGED when usable


_CHECKED: dict[str, SandboxCheck] = {}

# Run inside the sandbox by the self-test: what forkserver.child_main does for every notebook
# (nested user, mount, pid, IPC and host-name namespaces; uid and gid maps; a tmpfs; a pid 1).
NESTED_PROBE: Final = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
uid, gid = os.getuid(), os.getgid()
def step(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        sys.stderr.write(f"a notebook's own namespaces failed: {what}: {os.strerror(e)} (errno {e})\\n")
        os._exit(1)
pid = os.fork()
if pid == 0:
    step(libc.unshare(0x10000000 | 0x00020000 | 0x20000000 | 0x08000000 | 0x04000000),
         "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWIPC|CLONE_NEWUTS)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        try:
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        except OSError as e:
            sys.stderr.write(f"a notebook's own namespaces failed: writing {name}: {e}\\n")
            os._exit(1)
    step(libc.mount(None, b"/", None, ctypes.c_ulong(16384 | (1 << 18)), None), "make / private")
    step(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", ctypes.c_ulong(6), b"size=1m"), "mount a tmpfs")
    init = os.fork()
    if init == 0:
        os._exit(0 if os.getpid() == 1 else 1)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(init, 0)[1]))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def check_sandbox() -> SandboxCheck:
    """Whether bubblewrap can run here, in :func:`sandbox_mode` (tried once per process): a real
    sandbox runs :data:`NESTED_PROBE`; when it fails, :func:`diagnose` says why."""
    if "bwrap" in _CHECKED:
        return _CHECKED["bwrap"]
    mode = sandbox_mode()
    executable = shutil.which("bwrap")
    if not executable:
        found = SandboxCheck(False, f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    elif mode == PRIVILEGED and not Path("/usr/bin/setpriv").exists():
        found = SandboxCheck(False, "setpriv (util-linux) is missing from /usr/bin")
    else:
        try:
            probe = subprocess.run(
                [*bwrap_argv(uid=PROBE_UID, mode=mode), sys.executable, "-c", NESTED_PROBE],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            failed = "" if probe.returncode == 0 else probe.stderr or f"exit {probe.returncode}"
        except (OSError, subprocess.TimeoutExpired) as error:
            failed = str(error)
        if failed:
            found = SandboxCheck(False, diagnose(failed, executable=executable, mode=mode))
        else:
            found = SandboxCheck(True, "ok", mode)
    _CHECKED["bwrap"] = found
    return found


def sysctl(name: str) -> str | None:
    """The value of sysctl ``name`` (e.g. ``user.max_user_namespaces``), None if absent."""
    try:
        return (PROC_SYS / name.replace(".", "/")).read_text().strip()
    except OSError:
        return None


def _persist(setting: str) -> str:
    return (
        f"`sudo sysctl -w {setting}` (and, to keep it after a reboot, "
        f"`echo {setting} | sudo tee /etc/sysctl.d/60-filmkit-userns.conf`)"
    )


def diagnose(stderr: str, *, executable: str, mode: str) -> str:
    """Why the self-test failed, and what to do, from the kernel's settings and bwrap's stderr.

    Both modes need unprivileged user namespaces: every notebook gets one of its own, made by
    the (unprivileged) worker; in unprivileged mode bwrap needs one too.
    """
    said = " / ".join(line.strip() for line in stderr.strip().splitlines() if line.strip())
    said = f"bwrap said: {said[:600]}"
    as_root = "" if mode == PRIVILEGED else ", or run `filmkit grade` as root"
    who = (
        "every notebook runs in a user namespace of its own, made by its unprivileged worker"
        if mode == PRIVILEGED
        else "the sandbox runs in user namespaces when `filmkit grade` is not run as root"
    )
    if not USERNS_FILE.exists():
        return f"this kernel has no user namespaces (built without CONFIG_USER_NS); {who}; {said}"
    if sysctl("kernel.unprivileged_userns_clone") == "0":
        return (
            "the kernel forbids unprivileged user namespaces "
            f"(kernel.unprivileged_userns_clone = 0) and {who}: allow them with "
            f"{_persist('kernel.unprivileged_userns_clone=1')}{as_root}; {said}"
        )
    limit = sysctl("user.max_user_namespaces")
    if limit == "0":
        return (
            f"user namespaces are turned off (user.max_user_namespaces = 0) and {who}: allow "
            f"them with {_persist('user.max_user_namespaces=15000')}{as_root}; {said}"
        )
    if limit is not None and ("ENOSPC" in stderr or "No space left on device" in stderr):
        return (
            f"the limit on user namespaces (user.max_user_namespaces = {limit}) is used up; "
            f"each grading worker needs 2 (bwrap's, and one per notebook): raise it with "
            f"{_persist('user.max_user_namespaces=15000')}; {said}"
        )
    if sysctl("kernel.apparmor_restrict_unprivileged_userns") == "1":
        return (
            "AppArmor restricts unprivileged user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu's default since 24.04) "
            f"and {who}: give {executable} an AppArmor profile that allows them, e.g. "
            f"/etc/apparmor.d/bwrap holding `abi <abi/4.0>, include <tunables/global> profile "
            f"bwrap {executable} flags=(unconfined) {{ userns, }}`, loaded with `sudo "
            "apparmor_parser -r /etc/apparmor.d/bwrap`; or lift the restriction with "
            f"{_persist('kernel.apparmor_restrict_unprivileged_userns=0')}{as_root}; {said}"
        )
    if mode == UNPRIVILEGED and _is_setuid(executable):
        return (
            f"{executable} is installed setuid root (as distributions do where unprivileged "
            "user namespaces are not available), and in setuid mode bubblewrap refuses part of "
            "what the sandbox needs: enable unprivileged user namespaces (see your distribution) "
            f"and `sudo chmod u-s {executable}`{as_root}; {said}"
        )
    return f"bwrap failed its self-test ({mode} mode); {said}"


def _is_setuid(executable: str) -> bool:
    try:
        return bool(os.stat(executable).st_mode & stat.S_ISUID)
    except OSError:
        return False


UNSANDBOXED_WARNING: Final = (
    "GRADING WITHOUT A SANDBOX: {reason}. Submissions will run as this user, able to read the "
    "gradebook, source/ (hidden tests) and other students' work, and to use the network; the "
    "time and output limits still apply. Grade only submissions you trust."
)


def unsandboxed_warning(reason: str) -> str:
    """The warning shown when grading unsandboxed; ``reason`` says why and what to do."""
    return UNSANDBOXED_WARNING.format(reason=reason)
