"""The bubblewrap sandbox that every grading worker runs in.

bwrap is started by root in privileged mode (no user namespace): the Python of this machine
lives below ``/root`` (mode 0700), which only root can resolve. Every capability is dropped
except the three ``setpriv`` needs to become an unprivileged uid (one per worker) with an empty
bounding set and ``no_new_privs``. The uid must not be root: the kernel does not enforce
``RLIMIT_NPROC`` for uid 0, and that limit is what stops a fork bomb.

Visible inside: ``/usr``, the Python and its virtual environment, the filmkit package and the
source texts, all read-only; a private ``/tmp``; no network (only ``lo``). The gradebook,
``source/``, ``release/`` and every student's folder are not there at all: a submission's own
files reach its forked child over a pipe (:mod:`~filmkit.sandbox.forkserver`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import filmkit
from filmkit.paths import source_texts_dir

# Where the package and the texts appear inside the sandbox (FILMKIT_ROOT points there).
SANDBOX_ROOT: Final = "/opt/filmkit"
# Each notebook's private tmpfs mounts: its working folder (a scratch copy of the submission's
# files) and a read-only copy. Not /work or /home: the host's venv may live below those.
WORK_DIR: Final = "/grading/work"
SUBMISSION_DIR: Final = "/grading/submission"
INSTALL_HINT: Final = "install it with `apt-get install -y bubblewrap` (Debian/Ubuntu)"


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


def bwrap_argv(
    *,
    uid: int,
    texts: Path | None = None,
    tmp_size: int = 256 << 20,
    extra_env: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv prefix ``bwrap … setpriv … --``: append the command to run inside."""
    executable = shutil.which("bwrap") or "/usr/bin/bwrap"
    argv = [
        executable,
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
    argv += [
        "--chdir",
        "/",
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
    return argv


@dataclass(frozen=True)
class SandboxCheck:
    usable: bool
    reason: str  # why not, or "ok"


_CHECKED: dict[str, SandboxCheck] = {}


def check_sandbox() -> SandboxCheck:
    """Whether bubblewrap can run here (tried once per process)."""
    if "bwrap" in _CHECKED:
        return _CHECKED["bwrap"]
    if not shutil.which("bwrap"):
        found = SandboxCheck(False, f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    elif os.geteuid() != 0:
        found = SandboxCheck(
            False,
            "the grading sandbox starts bubblewrap as root (the Python lives below /root); "
            "run `filmkit grade` as root",
        )
    elif not Path("/usr/bin/setpriv").exists():
        found = SandboxCheck(False, "setpriv (util-linux) is missing from /usr/bin")
    else:
        probe = subprocess.run(
            [*bwrap_argv(uid=64000), sys.executable, "-c", "pass"],
            capture_output=True,
            text=True,
            check=False,
        )
        ok = probe.returncode == 0
        found = SandboxCheck(
            ok, "ok" if ok else f"bwrap failed its self-test: {probe.stderr.strip()}"
        )
    _CHECKED["bwrap"] = found
    return found


UNSANDBOXED_WARNING: Final = (
    "GRADING WITHOUT A SANDBOX: {reason}. Submissions will run as this user, able to read the "
    "gradebook, source/ (hidden tests) and other students' work, and to use the network; the "
    "time and output limits still apply. Grade only submissions you trust, or {fix}."
)


def unsandboxed_warning(reason: str) -> str:
    return UNSANDBOXED_WARNING.format(reason=reason, fix=INSTALL_HINT)
