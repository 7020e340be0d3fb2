"""`filmkit grade` run by a user who is not root: bubblewrap's unprivileged (user-namespace) mode.

Most instructors grade as themselves. CI runs as root, so the slow tests create a system user
(``useradd --system``, removed at teardown) and run grading as that user. The Python of the
machine may live where that user cannot reach it (below ``/root``, mode 0700): the user's commands
run in a private mount namespace made by root, where each folder on the way to the Python, the
venv and this checkout that others cannot enter is covered by a 0755 tmpfs holding only a bind
mount of what is needed. Nothing outside that namespace changes, and the user is deleted after.

The fast tests check the two argv shapes, the detection reasons (sysctls read from a fake
``/proc/sys``) and the NPROC allowance on old kernels.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import resource
import secrets
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

from filmkit.course import release
from filmkit.course.folder import CONFIG_FILE, load_course
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import bwrap, grade, pool
from filmkit.paths import project_root

ASSIGNMENT = "01-genre-shifts"
NOTEBOOK = "genre-shifts"
HONEST = ("full", "partial", "blank")
SNOOP = "snoop"  # blank answers, plus a cell that tries to read the grading user's home
REPO = project_root()


# ---------------------------------------------------------------------------------------------
# Fast: argv, detection reasons, NPROC


def test_the_two_modes_build_different_sandboxes() -> None:
    privileged = bwrap.bwrap_argv(uid=64001, mode=bwrap.PRIVILEGED)
    unprivileged = bwrap.bwrap_argv(uid=64001, mode=bwrap.UNPRIVILEGED)
    assert "--unshare-user" not in privileged and "/usr/bin/setpriv" in privileged
    assert "--reuid=64001" in privileged
    at = unprivileged.index("--unshare-user")
    assert unprivileged[at + 1 : at + 5] == ["--uid", "64001", "--gid", "64001"]
    assert "/usr/bin/setpriv" not in unprivileged and "--cap-add" not in unprivileged
    assert unprivileged[-3:] == ["--cap-drop", "ALL", "--"]
    for argv in (privileged, unprivileged):
        for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"):
            assert flag in argv
        for path in bwrap.python_paths():
            assert any(argv[k : k + 3] == ["--ro-bind", path, path] for k in range(len(argv)))
    expected = bwrap.UNPRIVILEGED if os.geteuid() else bwrap.PRIVILEGED
    assert bwrap.sandbox_mode() == expected
    assert (bwrap.bwrap_argv(uid=64001) == unprivileged) == (expected == bwrap.UNPRIVILEGED)


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty /proc/sys for bwrap.sysctl (a test writes the settings it wants)."""
    proc_sys = tmp_path / "sys"
    proc_sys.mkdir()
    monkeypatch.setattr(bwrap, "PROC_SYS", proc_sys)
    return proc_sys


def set_sysctl(proc_sys: Path, name: str, value: str) -> None:
    path = proc_sys / name.replace(".", "/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")


STDERR = "bwrap: No permissions to create a new namespace\n"


def test_reason_debian_sysctl(fake_proc: Path) -> None:
    set_sysctl(fake_proc, "kernel.unprivileged_userns_clone", "0")
    set_sysctl(fake_proc, "user.max_user_namespaces", "0")  # the first reason found wins
    reason = bwrap.diagnose(STDERR, executable="/usr/bin/bwrap", mode=bwrap.UNPRIVILEGED)
    assert "kernel.unprivileged_userns_clone = 0" in reason
    assert "sudo sysctl -w kernel.unprivileged_userns_clone=1" in reason
    assert "/etc/sysctl.d/" in reason and "run `filmkit grade` as root" in reason
    assert reason.endswith("bwrap said: bwrap: No permissions to create a new namespace")
    # as root the fix is the same sysctl, never "run as root"
    as_root = bwrap.diagnose(STDERR, executable="/usr/bin/bwrap", mode=bwrap.PRIVILEGED)
    assert "kernel.unprivileged_userns_clone = 0" in as_root and "as root" not in as_root
    assert "unprivileged worker" in as_root


def test_reason_max_user_namespaces(fake_proc: Path) -> None:
    set_sysctl(fake_proc, "kernel.unprivileged_userns_clone", "1")
    set_sysctl(fake_proc, "user.max_user_namespaces", "0")
    reason = bwrap.diagnose(STDERR, executable="/usr/bin/bwrap", mode=bwrap.UNPRIVILEGED)
    assert "user.max_user_namespaces = 0" in reason
    assert "sudo sysctl -w user.max_user_namespaces=15000" in reason
    set_sysctl(fake_proc, "user.max_user_namespaces", "3")
    used_up = bwrap.diagnose(
        "bwrap: Creating new namespace failed: No space left on device",
        executable="/usr/bin/bwrap",
        mode=bwrap.UNPRIVILEGED,
    )
    assert "(user.max_user_namespaces = 3) is used up" in used_up


def test_reason_apparmor(fake_proc: Path) -> None:
    set_sysctl(fake_proc, "user.max_user_namespaces", "15000")
    set_sysctl(fake_proc, "kernel.apparmor_restrict_unprivileged_userns", "1")
    reason = bwrap.diagnose(
        "bwrap: setting up uid map: Permission denied",
        executable="/usr/bin/bwrap",
        mode=bwrap.UNPRIVILEGED,
    )
    assert "kernel.apparmor_restrict_unprivileged_userns = 1" in reason
    assert "profile bwrap /usr/bin/bwrap flags=(unconfined) { userns, }" in reason
    assert "apparmor_parser -r /etc/apparmor.d/bwrap" in reason
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in reason
    assert "bwrap said: bwrap: setting up uid map: Permission denied" in reason


def test_reason_setuid_bwrap_no_userns_and_generic(
    fake_proc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("")
    fake.chmod(0o4755)
    reason = bwrap.diagnose(STDERR, executable=str(fake), mode=bwrap.UNPRIVILEGED)
    assert f"{fake} is installed setuid root" in reason
    assert f"sudo chmod u-s {fake}" in reason
    fake.chmod(0o755)
    generic = bwrap.diagnose("line one\nline two\n", executable=str(fake), mode=bwrap.UNPRIVILEGED)
    assert (
        generic == "bwrap failed its self-test (bwrap-userns mode); bwrap said: line one / line two"
    )
    monkeypatch.setattr(bwrap, "USERNS_FILE", tmp_path / "no-such-file")
    reason = bwrap.diagnose(STDERR, executable=str(fake), mode=bwrap.UNPRIVILEGED)
    assert "built without CONFIG_USER_NS" in reason


def test_reason_bwrap_missing_reaches_the_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bwrap, "_CHECKED", {})
    monkeypatch.setattr(shutil, "which", lambda *_args, **_kwargs: None)
    check = bwrap.check_sandbox()
    assert not check.usable and check.mode == "none"
    assert check.reason.startswith("bubblewrap (bwrap) is not installed")
    mode, warning = pool.choose_mode(True)
    assert mode == "none" and warning is not None
    assert warning.startswith(f"GRADING WITHOUT A SANDBOX: {check.reason}.")
    assert "/root" not in warning


def test_nproc_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bwrap, "threads_of_uid", lambda _uid: 300)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    # Linux >= 5.14 counts RLIMIT_NPROC per user namespace: every notebook has its own
    assert bwrap.nproc_allowance(64, bwrap.UNPRIVILEGED, release="6.1.0-18-amd64") == 64
    assert bwrap.nproc_allowance(64, bwrap.PRIVILEGED, release="5.10.0-28-amd64") == 64
    # older kernels count the instructor's uid, shared by everything it runs
    old = bwrap.nproc_allowance(64, bwrap.UNPRIVILEGED, release="5.10.0-28-amd64")
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    assert old == (364 if hard == resource.RLIM_INFINITY else min(364, hard))
    # unsandboxed and not root: the instructor's uid on any kernel
    assert bwrap.nproc_allowance(64, "none", release="6.1.0-18-amd64") == old
    monkeypatch.undo()
    assert bwrap.threads_of_uid(os.getuid()) >= 1


# ---------------------------------------------------------------------------------------------
# Slow: a real user, a real grading run

# Run by root: a private mount namespace (and, with "max_user_namespaces", a user namespace
# where that sysctl is set), the covers of the folders others cannot enter, then the user's
# command, as that user. argv[1] is the plan (JSON).
LAUNCHER = r"""
import ctypes, json, os, sys
plan = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 4096, 8192, 16384, 1 << 18

def ok(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")

def mount(src, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None
    ok(libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
       f"mount {target}")

if plan["max_user_namespaces"] is not None:
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    helper = os.fork()
    if helper == 0:  # still in the initial user namespace: writes the new one's maps
        os.read(go_r, 1)
        parent = os.getppid()
        top = plan["uid"] + 1
        with open(f"/proc/{parent}/uid_map", "w") as f:
            f.write(f"0 0 {top}")
        with open(f"/proc/{parent}/gid_map", "w") as f:
            f.write(f"0 0 {plan['gid'] + 1}")
        os.write(done_w, b"x")
        os._exit(0)
    ok(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    os.write(go_w, b"x")
    os.read(done_r, 1)
    os.waitpid(helper, 0)
ok(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
mount(None, "/", None, MS_REC | MS_PRIVATE)
for i, (cover, keep) in enumerate(plan["covers"]):
    staged = []
    for k, path in enumerate(keep):
        stage = os.path.join(plan["stage"], f"{i}-{k}")
        os.makedirs(stage, exist_ok=True)
        mount(path, stage, None, MS_BIND | MS_REC)
        staged.append((stage, path))
    mount("tmpfs", cover, "tmpfs", 0, "mode=0755,size=1m")
    for stage, path in staged:
        os.makedirs(path, mode=0o755, exist_ok=True)
        mount(stage, path, None, MS_MOVE)
for source, target in plan["lend"]:
    mount(source, target, None, MS_BIND)
if plan["max_user_namespaces"] is not None:
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write(str(plan["max_user_namespaces"]))
os.setgroups([plan["gid"]])
os.setresgid(plan["gid"], plan["gid"], plan["gid"])
os.setresuid(plan["uid"], plan["uid"], plan["uid"])
os.chdir(plan["home"])
os.execve(plan["argv"][0], plan["argv"], plan["env"])
"""


def covers(paths: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(folder others cannot enter, the needed paths below it) for each such topmost folder."""
    needed = sorted({os.path.realpath(p) for p in paths})
    needed = [p for p in needed if not any(p.startswith(q + "/") for q in needed if q != p)]
    found: dict[str, list[str]] = {}
    for path in needed:
        for folder in [*reversed(Path(path).parents), Path(path)]:
            if not folder.stat().st_mode & stat.S_IXOTH:
                if folder == Path(path):
                    pytest.skip(f"{path} is not readable by other users: cannot lend it")
                found.setdefault(str(folder), []).append(path)
                break
    return sorted(found.items())


@dataclass
class Grader:
    """A throwaway system user, and how to run a command as it."""

    name: str
    uid: int
    gid: int
    home: Path
    stage: Path  # root's: where the launcher stages bind mounts (in its own namespace only)
    plan_covers: list[tuple[str, list[str]]] = field(default_factory=list)

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        max_user_namespaces: int | None = None,
        lend: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as the user; ``lend`` bind-mounts root's folders (keys) onto the user's
        (values), in that run's namespace only."""
        plan = {
            "uid": self.uid,
            "gid": self.gid,
            "home": str(self.home),
            "stage": str(self.stage),
            "covers": self.plan_covers,
            "max_user_namespaces": max_user_namespaces,
            "lend": sorted((lend or {}).items()),
            "argv": list(argv),
            "env": {
                "HOME": str(self.home),
                "USER": self.name,
                "LOGNAME": self.name,
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "FILMKIT_ROOT": str(REPO),
                "PYTHONPATH": str(bwrap.package_src()),  # the filmkit this test imported
                **(env or {}),
            },
        }
        return subprocess.run(
            [sys.executable, "-c", LAUNCHER, json.dumps(plan)],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def python(self, code: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-c", code, *args], **kwargs)


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = entry.read_text().splitlines()
        except OSError:
            continue
        uids = next((line.split()[1:] for line in lines if line.startswith("Uid:")), [])
        if str(uid) in uids:
            pids.append(int(entry.parent.name))
    return pids


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grader]:
    if os.geteuid() != 0:
        pytest.skip("creates a system user and runs grading as it: needs root (CI runs as root)")
    for tool in ("useradd", "userdel"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} (the passwd package) is missing: cannot create a grading user")
    name = f"fkgrade{secrets.token_hex(4)}"
    subprocess.run(
        ["useradd", "--system", "--create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    try:
        entry = pwd.getpwnam(name)
        home = Path(entry.pw_dir)
        home.chmod(0o700)  # a private home, as instructors have
        stage = tmp_path_factory.mktemp("nonroot-stage")
        needed = [sys.base_prefix, sys.prefix, str(REPO), str(bwrap.package_src())]
        yield Grader(name, entry.pw_uid, entry.pw_gid, home, stage, covers(needed))
    finally:
        deadline = time.monotonic() + 10
        while (left := _pids_of(pwd.getpwnam(name).pw_uid)) and time.monotonic() < deadline:
            for pid in left:  # only this test's runs ever ran as this user
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            time.sleep(0.2)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        try:
            pwd.getpwnam(name)
            raise AssertionError(f"userdel left the test user {name} behind")
        except KeyError:
            pass


@pytest.mark.slow
def test_the_user_can_run_this_python_and_the_sandbox(grader: Grader) -> None:
    ran = grader.python(
        "import json, os, sys, filmkit.grading.bwrap as b; "
        "print(json.dumps([os.getuid(), sys.prefix, b.check_sandbox().__dict__]))"
    )
    assert ran.returncode == 0, ran.stderr
    uid, prefix, check = json.loads(ran.stdout)
    assert uid == grader.uid and prefix == sys.prefix
    assert check == {"usable": True, "reason": "ok", "mode": bwrap.UNPRIVILEGED}


@pytest.mark.slow
def test_a_kernel_without_user_namespaces_is_named(grader: Grader) -> None:
    """The real probe fails (user.max_user_namespaces = 0 where the user runs), and the reason
    says so, and the run warns with it."""
    ran = grader.python(
        "import json, filmkit.grading.bwrap as b, filmkit.grading.pool as p; "
        "print(json.dumps([b.check_sandbox().__dict__, p.choose_mode(True)]))",
        max_user_namespaces=0,
    )
    assert ran.returncode == 0, ran.stderr
    check, (mode, warning) = json.loads(ran.stdout)
    assert check["usable"] is False and mode == "none"
    assert "user.max_user_namespaces = 0" in check["reason"]
    assert "sudo sysctl -w user.max_user_namespaces=15000" in check["reason"]
    assert "bwrap said: " in check["reason"] and "ENOSPC" in check["reason"]
    assert warning.startswith(f"GRADING WITHOUT A SANDBOX: {check['reason']}")


@pytest.mark.slow
def test_a_setuid_bwrap_is_named(grader: Grader, tmp_path: Path) -> None:
    """A setuid-root copy of bwrap, first on the user's PATH (lent to that run alone)."""
    if os.statvfs(tmp_path).f_flag & os.ST_NOSUID:
        pytest.skip(f"{tmp_path} is on a nosuid file system: no setuid bwrap to try")
    lent = tmp_path / "bin"
    lent.mkdir(mode=0o755)
    lent.chmod(0o755)
    shutil.copy2(shutil.which("bwrap") or "/usr/bin/bwrap", lent / "bwrap")
    (lent / "bwrap").chmod(0o4755)
    target = grader.home / f"lent-{secrets.token_hex(4)}"
    target.mkdir()
    try:
        ran = grader.python(
            "import json, filmkit.grading.bwrap as b; print(json.dumps(b.check_sandbox().__dict__))",
            env={"PATH": f"{target}:/usr/bin:/bin"},
            lend={str(lent): str(target)},
        )
    finally:
        (lent / "bwrap").unlink()
        target.rmdir()
    assert ran.returncode == 0, ran.stderr
    check = json.loads(ran.stdout)
    assert check["usable"] is False
    assert check["reason"].startswith(f"{target}/bwrap is installed setuid root")
    assert f"sudo chmod u-s {target}/bwrap" in check["reason"]
    assert "bwrap said: bwrap: " in check["reason"]


# Run as the grading user: grade, and say how.
GRADE_AS_USER = r"""
import json, subprocess, sys, warnings
from pathlib import Path
course, marker = Path(sys.argv[1]), Path(sys.argv[2])
from filmkit.grading import grade
said = []
# more processes of this uid than a notebook may have: RLIMIT_NPROC must not count them
others = [subprocess.Popen(["sleep", "300"]) for _ in range(int(sys.argv[4]))]
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = grade.main(sys.argv[3], course=course, jobs=2, message=said.append)
finally:
    for other in others:
        other.kill()
        other.wait()
print(json.dumps({
    "marker_readable_outside": marker.read_text(),
    "sandbox": summary.sandbox,
    "warnings": [str(w.message) for w in caught],
    "messages": said,
    "scores": json.loads(summary.scores.to_json(orient="records")),
    "graded": list(summary.graded),
}))
"""

SNOOP_CELL = """\
import os, time
print("UID", os.getuid())
for _path in {paths!r}:
    try:
        with open(_path, encoding="utf-8", errors="replace") as _f:
            print("SNOOP", _path, "READ", _f.read()[:80])
    except (FileNotFoundError, PermissionError) as _e:
        print("SNOOP", _path, type(_e).__name__)
try:
    print("SNOOP LIST", sorted(os.listdir({home!r})))
except (FileNotFoundError, PermissionError) as _e:
    print("SNOOP LIST", type(_e).__name__)
_kids = []
for _ in range({tries}):
    try:
        _pid = os.fork()
    except BlockingIOError:
        break
    if _pid == 0:
        try:
            time.sleep(120)
        finally:
            os._exit(0)
    _kids.append(_pid)
print("FORKED", len(_kids))
for _pid in _kids:
    os.kill(_pid, 9)
    os.waitpid(_pid, 0)
"""


@dataclass(frozen=True)
class Graded:
    grader: Grader
    as_user: dict[str, Any]
    as_root: grade.GradeSummary
    user_course: Path
    token: str
    seconds: float


def _new_course(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy2(REPO / "assignments" / CONFIG_FILE, root / CONFIG_FILE)
    shutil.copytree(REPO / "assignments" / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    release.main([ASSIGNMENT], course=root, validate=False)
    return root


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    os.chown(top, uid, gid)
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, gid)


@pytest.fixture(scope="module")
def graded(grader: Grader, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    token = f"FILMKIT-PRIVATE-{secrets.token_hex(8)}"
    ssh = grader.home / ".ssh"
    ssh.mkdir(mode=0o700)
    (ssh / "id_ed25519").write_text(token)
    (ssh / "id_ed25519").chmod(0o600)
    (grader.home / "private-notes.txt").write_text(token)
    user_course = grader.home / "course"
    paths = [
        str(ssh / "id_ed25519"),
        str(grader.home / "private-notes.txt"),
        str(user_course / "gradebook.db"),
        str(user_course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
    ]

    root_course = _new_course(tmp_path_factory.mktemp("nonroot") / "course")
    course = load_course(root_course)
    specimens = {s.student: s for s in load_specimens(ASSIGNMENT)}
    for student in HONEST:
        hand_in(course, specimens[student])
    released = nbformat.read(
        course.step_dir("release") / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4
    )
    (blank_source,) = [
        c.source
        for c in released.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "genre_counts"
    ]
    tries = 2 * pool.Limits().nproc
    snoop = SNOOP_CELL.format(paths=paths, home=str(grader.home), tries=tries) + blank_source
    hand_in(course, replace(specimens["blank"], student=SNOOP, answers={"genre_counts": snoop}))
    shutil.copytree(root_course, user_course, symlinks=True)
    _chown_tree(grader.home, grader.uid, grader.gid)

    started = time.perf_counter()
    others = str(pool.Limits().nproc + 16)
    ran = grader.python(
        GRADE_AS_USER, str(user_course), str(ssh / "id_ed25519"), ASSIGNMENT, others
    )
    seconds = time.perf_counter() - started
    assert ran.returncode == 0, ran.stderr[-4000:]
    as_user = json.loads(ran.stdout.strip().splitlines()[-1])
    as_user["stderr"] = ran.stderr
    as_root = grade.main(ASSIGNMENT, course=root_course, jobs=2)
    return Graded(grader, as_user, as_root, user_course, token, seconds)


def per_cell(records: list[dict[str, Any]], student: str) -> dict[str, tuple[Any, ...]]:
    return {
        str(r["question"]): (r["score"], r["auto_score"], bool(r["needs_manual_grade"]))
        for r in records
        if r["student"] == student
    }


def _records(scores: pd.DataFrame) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(scores.to_json(orient="records"))
    return loaded


@pytest.mark.slow
def test_grading_as_a_user_is_sandboxed_in_unprivileged_mode(graded: Graded) -> None:
    user = graded.as_user
    assert user["marker_readable_outside"] == graded.token  # the user itself can read it
    assert user["sandbox"] == bwrap.UNPRIVILEGED
    assert graded.as_root.sandbox == bwrap.PRIVILEGED
    everything = "\n".join([*user["warnings"], *user["messages"], user["stderr"]])
    assert "GRADING WITHOUT A SANDBOX" not in everything
    assert user["warnings"] == []
    assert sorted(user["graded"]) == sorted([*HONEST, SNOOP])
    assert graded.seconds < 90, f"grading as the user took {graded.seconds:.0f} s"


@pytest.mark.slow
def test_scores_are_those_of_the_same_specimens_graded_as_root(graded: Graded) -> None:
    ours, theirs = graded.as_user["scores"], _records(graded.as_root.scores)
    for student in [*HONEST, SNOOP]:
        assert per_cell(ours, student) == per_cell(theirs, student), student
        assert per_cell(ours, student), student
    totals = pd.DataFrame(ours).groupby("student")["score"].sum()
    assert totals["full"] > totals["partial"] > totals["blank"] == 0
    # the snoop is the blank specimen plus its reads: it earns what blank earns
    assert per_cell(ours, SNOOP) == per_cell(ours, "blank")


@pytest.mark.slow
def test_a_submission_cannot_read_the_grading_users_home(graded: Graded) -> None:
    path = graded.user_course / "autograded" / SNOOP / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    (cell,) = [
        c
        for c in nb["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "genre_counts"
    ]
    text = "".join(
        "".join(o["text"]) if isinstance(o.get("text"), list) else o.get("text", "")
        for o in cell["outputs"]
    )
    lines = [line for line in text.splitlines() if line.startswith("SNOOP")]
    assert len(lines) == 5, text
    assert graded.token not in text and " READ " not in text
    for line in lines:
        assert line.endswith(("FileNotFoundError", "PermissionError")), line
    # RLIMIT_NPROC held for the notebook's own processes alone, though the user ran more
    # processes than that meanwhile (Linux >= 5.14 counts it per user namespace)
    forked = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("FORKED"))
    nproc = pool.Limits().nproc
    if bwrap.kernel_counts_nproc_per_userns():
        assert nproc - 8 <= forked < nproc, text
    else:
        assert 0 < forked < 2 * nproc, text
    # the notebook ran as the worker's uid inside the user namespace, not as the user
    uid = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("UID "))
    assert uid >= pool.FIRST_UID and uid != graded.grader.uid
