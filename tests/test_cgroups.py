"""Control groups around a grading worker (filmkit.grading.cgroups) and GradingLimits.

The cgroup tests use the real kernel: a process tree put in a WorkerGroup the way the pool puts
a template there (``Popen(preexec_fn=group.preexec)``), then armed. They are skipped, with the
detection's reason, where this process cannot use cgroups. Each allocates at most ~210 MiB at a
time (a group armed at 200 MiB) and ends in a few seconds. The v2 paths the kernel here cannot
show (this machine is v1) are checked on a fake cgroup tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from filmkit.grading import cgroups
from filmkit.grading.cgroups import Support, WorkerGroup
from filmkit.grading.limits import GradingLimits
from filmkit.grading.pool import Limits

from .conftest import REPO

MiB = 1 << 20
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")  # an unprivileged user


@pytest.fixture
def support() -> Support:
    found = cgroups.detect()
    if not found.usable:
        pytest.skip(f"cgroups unusable here: {found.reason}")
    return found


@pytest.fixture
def group(support: Support) -> Iterator[WorkerGroup]:
    made = WorkerGroup.create(support)
    yield made
    made.remove()
    assert not any(d.exists() for d in made.dirs.values())


def start(group: WorkerGroup, script: str, *prefix: str) -> subprocess.Popen[str]:
    """A "template" in ``group``, started as the pool starts one."""
    return subprocess.Popen(
        [*prefix, sys.executable, "-c", textwrap.dedent(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=group.preexec,
    )


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for its parent counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(pids: set[int], timeout: float = 5.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(not gone(p) for p in pids):
        time.sleep(0.02)
    return {p for p in pids if not gone(p)}


def test_preexec_puts_the_template_and_all_it_forks_in_the_group(group: WorkerGroup) -> None:
    script = """
        import os, sys, time
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        print(pid, flush=True)
        sys.stdin.readline()
    """
    with start(group, script) as template:
        assert template.stdout is not None and template.stdin is not None
        child = int(template.stdout.readline())
        assert group.procs() == {template.pid, child}
        template.stdin.close()
        template.wait(5)
    group.kill()
    assert not wait_gone({child})


# Three children of 150 MiB in a notebook allowed 200 MiB: not all of them live.
THREE_CHILDREN = """
    import json, os, sys, time
    from filmkit.grading.cgroups import prefer_oom_kill
    print("ready", flush=True)
    sys.stdin.readline()
    kids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            prefer_oom_kill()
            block = b"\\x01" * (150 << 20)  # written: every page is charged
            time.sleep(1.5)
            os._exit(0)
        kids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in kids]
    print(json.dumps(codes), flush=True)
"""


def test_children_together_are_bounded_and_oom_kills_are_counted(group: WorkerGroup) -> None:
    with start(group, THREE_CHILDREN) as template:
        assert template.stdout is not None and template.stdin is not None
        assert template.stdout.readline().strip() == "ready"
        armed = group.arm(200 * MiB, pids=20)
        assert armed.memory_limit >= armed.baseline + 200 * MiB - 4096
        assert group.usage().memory_limit == armed.memory_limit
        template.stdin.write("go\n")
        template.stdin.flush()
        codes = json.loads(template.stdout.readline())
        template.stdin.close()
        assert template.wait(5) == 0  # the template survived and reported
    assert -9 in codes, codes  # SIGKILLed by the OOM killer
    assert codes.count(0) <= 1, codes  # at most one 150 MiB child fits in 200 MiB
    assert group.oom_kills_since_arm() >= 1


# The template holds more than its child; the child asks for more than the group has left.
TEMPLATE_AND_CHILD = """
    import json, os, sys, time
    from filmkit.grading.cgroups import prefer_oom_kill
    print("ready", flush=True)
    sys.stdin.readline()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        if PREFER:
            prefer_oom_kill()
        os.read(r, 1)  # until the template holds its 120 MiB
        chunks = [b"\\x01" * (1 << 20) for _ in range(200)]
        time.sleep(1)
        os._exit(0)
    os.close(r)
    held = b"\\x01" * (120 << 20)
    os.write(w, b"x")
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print(json.dumps(code), flush=True)
"""


@pytest.mark.parametrize("prefer", [True, False], ids=["prefer_oom_kill", "without"])
def test_the_template_survives_the_oom_of_a_child_that_prefers_oom_kill(
    group: WorkerGroup, prefer: bool
) -> None:
    with start(group, TEMPLATE_AND_CHILD.replace("PREFER", str(prefer))) as template:
        assert template.stdout is not None and template.stdin is not None
        assert template.stdout.readline().strip() == "ready"
        group.arm(200 * MiB, pids=20)
        template.stdin.write("go\n")
        template.stdin.flush()
        report = template.stdout.readline()
        template.stdin.close()
        code = template.wait(10)
        if prefer:
            assert (code, json.loads(report)) == (0, -9)  # the child was the one killed
        else:  # the control: by size alone the kernel takes the template
            assert code == -9
            group.kill()
    assert group.oom_kills_since_arm() >= 1


LOWER_AGAIN = """
    import os, sys
    print("ready", flush=True)
    sys.stdin.readline()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)  # the "notebook": runs once the grader has set its score
        def lower():
            try:
                with open("/proc/self/oom_score_adj", "w") as f:
                    f.write("0")
            except PermissionError:
                pass
            return open("/proc/self/oom_score_adj").read().strip()
        grandchild = os.fork()
        if grandchild == 0:
            print("grandchild", lower(), flush=True)
            os._exit(0)
        os.waitpid(grandchild, 0)
        print("child", lower(), flush=True)
        os._exit(0)
    os.close(r)
    print(pid, flush=True)
    sys.stdin.readline()
    os.write(w, b"x")
    os.waitpid(pid, 0)
    print("template", open("/proc/self/oom_score_adj").read().strip(), flush=True)
"""


def test_the_grader_sets_the_score_of_the_notebook_and_its_floor(group: WorkerGroup) -> None:
    """``oom_score_adj`` raised by the notebook itself could be lowered again; set by a grader
    with CAP_SYS_RESOURCE (``prefer_oom_kill_of_new``) it is the floor of the notebook and all
    it forks. (Root without that capability, as in some containers, sets the score only.)"""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv(1) for an unprivileged template")
    with start(group, LOWER_AGAIN, *NOBODY) as template:
        assert template.stdout is not None and template.stdin is not None
        assert template.stdout.readline().strip() == "ready"
        group.arm(200 * MiB, pids=20)
        template.stdin.write("fork\n")
        template.stdin.flush()
        child = int(template.stdout.readline())
        assert group.prefer_oom_kill_of_new() == {child}  # not the template
        template.stdin.write("run\n")
        template.stdin.flush()
        report = template.stdout.read().split()
        assert template.wait(5) == 0
    lowered = "1000" if cgroups.can_pin_oom_floor() else "0"
    assert report == ["grandchild", lowered, "child", lowered, "template", "0"]


# Files the notebook writes into a tmpfs of its own count towards its memory.
FILL_TMPFS = """
    import os, sys
    from filmkit.grading.cgroups import prefer_oom_kill
    prefer_oom_kill()
    chunk = b"\\x01" * (1 << 20)
    written = 0
    try:
        with open(os.path.join(sys.argv[1], "fill"), "wb", buffering=0) as f:
            for mib in range(1, 301):
                f.write(chunk)
                written = mib
                if mib == 100:
                    print("100", flush=True)
                    sys.stdin.readline()  # the test reads the group's usage
                elif mib > 100 and mib % 10 == 0:
                    print(mib, flush=True)
    except OSError as error:
        print("error", error.errno, written, flush=True)
        sys.exit(0)
    print("done", written, flush=True)
"""


def test_tmpfs_pages_are_charged_to_the_notebook(group: WorkerGroup, tmp_path: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to mount a tmpfs in a mount namespace")
    mountpoint = tmp_path / "scratch"
    mountpoint.mkdir()
    # a private mount namespace: the tmpfs (400 MiB: larger than the limit) is only in there
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs -o size=400m tmpfs "$1" && exec "$2" -c "$3" "$1"',
        "sh",
        str(mountpoint),
        sys.executable,
        textwrap.dedent(FILL_TMPFS),
    ]
    with subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=group.preexec
    ) as writer:
        assert writer.stdout is not None and writer.stdin is not None
        before = group.arm(200 * MiB, pids=20).baseline
        assert writer.stdout.readline().strip() == "100"
        held = group.usage().memory - before
        assert held >= 100 * MiB, f"100 MiB of tmpfs files, but the group holds {held} bytes"
        writer.stdin.write("on\n")
        writer.stdin.flush()
        lines = writer.stdout.read().split("\n")
        writer.stdin.close()
        code = writer.wait(10)
    last = [line for line in lines if line.strip()][-1]
    assert not last.startswith("done"), "300 MiB of files fitted in a 200 MiB notebook"
    written = int(last.split()[-1])
    assert written < 220, lines
    if code == -9:  # killed while writing
        assert group.oom_kills_since_arm() >= 1
    else:  # or the write failed
        assert last.startswith("error"), lines
    assert not (mountpoint / "fill").exists()  # never in the grader's mount namespace


FORK_LOOP = """
    import os, sys, time
    sys.stdin.readline()
    made, error = 0, ""
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError as e:
            error = type(e).__name__
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    print(made, error, flush=True)
    sys.stdin.readline()
"""


def test_the_pids_limit_stops_a_fork_loop_and_remove_kills_everything(
    support: Support,
) -> None:
    group = WorkerGroup.create(support)
    try:
        with start(group, FORK_LOOP) as template:
            assert template.stdout is not None and template.stdin is not None
            armed = group.arm(200 * MiB, pids=20)
            assert armed.pids_baseline == 1  # the template
            template.stdin.write("go\n")
            template.stdin.flush()
            made, error = template.stdout.readline().split()
            assert int(made) == 20 and error == "BlockingIOError"
            assert group.pids_refused_since_arm() >= 1
            members = group.procs()
            assert len(members) == 21 and template.pid in members
            group.remove()
            assert template.wait(5) == -9
            template.stdin.close()
    finally:
        group.remove()
    assert group.removed
    assert not any(d.exists() for d in group.dirs.values())
    assert not wait_gone(members), "processes outlived remove()"
    group.remove()  # again: nothing to do


DAEMON = """
    import os, time
    if os.fork() == 0:          # a daemon: double fork and setsid, out of the template's tree
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        os._exit(0)
    os.wait()
    print("ready", flush=True)
    time.sleep(30)
"""


def test_remove_leaves_no_directory_and_no_process(support: Support) -> None:
    group = WorkerGroup.create(support)
    with start(group, DAEMON) as template:
        assert template.stdout is not None
        assert template.stdout.readline().strip() == "ready"
        members = group.procs()
        assert len(members) == 2  # the template and its daemon
        group.remove()
        assert template.wait(5) == -9
    assert not any(d.exists() for d in group.dirs.values())
    assert not wait_gone(members)
    with pytest.raises(cgroups.CgroupError, match="removed"):
        group.arm(MiB, 1)


CRASHING_GRADER = """
    import json, os, subprocess
    from filmkit.grading.cgroups import WorkerGroup
    group = WorkerGroup.create()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sleeper = subprocess.Popen(["sleep", "30"], preexec_fn=group.preexec, **quiet)
    print(json.dumps({"dirs": [str(d) for d in group.dirs.values()], "pid": sleeper.pid}))
    os._exit(0)  # no remove(), no atexit: as if killed
"""


def test_sweep_stale_removes_the_groups_of_a_dead_grader(group: WorkerGroup) -> None:
    crashed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASHING_GRADER)],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    left = json.loads(crashed.stdout)
    stale = [Path(d) for d in left["dirs"]]
    assert all(d.is_dir() for d in stale) and not gone(left["pid"])
    removed = cgroups.sweep_stale()
    assert set(stale) <= set(removed)
    assert not any(d.exists() for d in stale)
    assert not wait_gone({left["pid"]})
    assert all(d.is_dir() for d in group.dirs.values()), "a live grader's group was swept"


def test_a_grader_that_exits_normally_removes_its_groups() -> None:
    script = """
        import json
        from filmkit.grading.cgroups import WorkerGroup, detect
        if detect().usable:
            group = WorkerGroup.create()
            print(json.dumps([str(d) for d in group.dirs.values()]))
        else:
            print("[]")
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    dirs = [Path(d) for d in json.loads(done.stdout)]
    if not dirs:
        pytest.skip(f"cgroups unusable here: {cgroups.detect().reason}")
    assert not any(d.exists() for d in dirs)


def test_without_write_access_detection_says_why() -> None:
    if os.geteuid() != 0 or cgroups.detect().version != 1:
        pytest.skip("needs root and cgroup v1 to look as an unprivileged user")
    # a forked child that drops to uid 65534 asks, so nothing of the checkout (which may sit in a
    # folder only root can enter, as a mktemp -d clone does) has to be readable by that user
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.write(write, cgroups.detect(refresh=True).reason.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        reason = pipe.read()
    os.waitpid(pid, 0)
    assert reason.startswith("cgroup v1 memory controller is not writable by uid 65534 (")


# ---------------------------------------------------------------- detection on given texts


def fake_v2(
    tmp_path: Path, *, procs: str, subtree: str = "", delegated: str = "memory pids"
) -> str:
    """A fake unified hierarchy at tmp_path/cg with this process in /grader; its mountinfo."""
    root = tmp_path / "cg"
    (root / "grader").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "grader" / "cgroup.controllers").write_text(delegated + "\n")
    (root / "grader" / "cgroup.subtree_control").write_text(subtree + "\n")
    (root / "grader" / "cgroup.procs").write_text(procs)
    (root / "grader" / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    return f"30 1 0:26 / {root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_probe_v2_delegated_subtree(tmp_path: Path) -> None:
    mountinfo = fake_v2(tmp_path, procs="", subtree="memory pids")
    found = cgroups.probe(mountinfo, "0::/grader\n")
    assert (found.version, found.reason, found.evacuate) == (2, "ok", False)
    assert found.parents == {"unified": tmp_path / "cg" / "grader" / "filmkit"}


def test_probe_v2_alone_in_its_group_moves_to_a_leaf(tmp_path: Path) -> None:
    found = cgroups.probe(fake_v2(tmp_path, procs=f"{os.getpid()}\n"), "0::/grader\n")
    assert (found.version, found.evacuate) == (2, True)


def test_probe_v2_refusals_say_why(tmp_path: Path) -> None:
    busy = cgroups.probe(fake_v2(tmp_path / "a", procs="1\n2\n"), "0::/grader\n")
    assert busy.version == 0 and "holds 2 other process(es)" in busy.reason
    bare = cgroups.probe(fake_v2(tmp_path / "b", procs="", delegated="cpu"), "0::/grader\n")
    assert bare.version == 0 and "not delegated to" in bare.reason
    ro = fake_v2(tmp_path / "c", procs="").replace("rw,nosuid", "ro,nosuid")
    assert "read-only" in cgroups.probe(ro, "0::/grader\n").reason
    nothing = cgroups.probe("22 1 0:20 / /proc rw - proc proc rw\n", "0::/\n")
    assert nothing.reason == "no cgroup memory and pids controller is mounted"


def test_probe_hybrid_uses_v1(tmp_path: Path) -> None:
    """As on this machine: cgroup2 mounted with no controllers, memory and pids on v1."""
    for name in ("unified", "memory/grader", "pids"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "unified" / "cgroup.controllers").write_text("hugetlb\n")
    mountinfo = (
        f"30 1 0:26 / {tmp_path}/unified rw - cgroup2 cgroup2 rw\n"
        f"31 1 0:27 / {tmp_path}/memory rw - cgroup cgroup rw,memory\n"
        f"32 1 0:28 / {tmp_path}/pids rw - cgroup cgroup rw,pids\n"
    )
    found = cgroups.probe(mountinfo, "4:memory:/grader\n8:pids:/\n0::/\n")
    assert found.version == 1
    assert found.bases == {"memory": tmp_path / "memory" / "grader", "pids": tmp_path / "pids"}
    ro = mountinfo.replace(f"{tmp_path}/memory rw", f"{tmp_path}/memory ro")
    assert "mounted read-only" in cgroups.probe(ro, "4:memory:/grader\n8:pids:/\n").reason


def test_v2_create_arm_and_counters_on_a_fake_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The v2 file protocol (this kernel is v1): evacuation, subtree_control, memory.max,
    memory.swap.max, pids.max, memory.events."""
    found = cgroups.probe(fake_v2(tmp_path, procs=f"{os.getpid()}\n"), "0::/grader\n")

    def make_group(path: Path) -> None:  # what the kernel would show in a new group
        path.mkdir()
        files = {
            "memory.current": "1000000",
            "memory.stat": "anon 600000\nactive_file 200000\ninactive_file 100000\n",
            "memory.max": "max",
            "memory.swap.max": "max",
            "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
            "pids.current": "3",
            "pids.max": "max",
            "pids.events": "max 0\n",
        }
        for name, text in files.items():
            (path / name).write_text(text + "\n")

    monkeypatch.setattr(cgroups, "_make_group", make_group)
    group = WorkerGroup.create(found)
    try:
        base = tmp_path / "cg" / "grader"
        leaf = base / f"filmkit-{os.getpid()}-grader"
        assert (leaf / "cgroup.procs").read_text() == str(os.getpid())
        assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"
        assert (base / "filmkit" / "cgroup.subtree_control").read_text() == "+memory +pids"
        folder = group.dirs["unified"]
        assert folder.parent == base / "filmkit" and group.name.startswith(
            f"filmkit-{os.getpid()}-"
        )
        armed = group.arm(10 * MiB, pids=5)
        assert armed == cgroups.Armed(700000, 700000 + 10 * MiB, 3, 8)
        assert (folder / "memory.max").read_text() == str(700000 + 10 * MiB)
        assert (folder / "memory.swap.max").read_text() == "0"
        assert (folder / "pids.max").read_text() == "8"
        assert group.oom_kills_since_arm() == 0
        (folder / "memory.events").write_text("max 9\noom 2\noom_kill 3\n")
        (folder / "pids.events").write_text("max 4\n")
        assert (group.oom_kills_since_arm(), group.pids_refused_since_arm()) == (2, 4)
        assert group.usage() == cgroups.Usage(1000000, 700000 + 10 * MiB, 3, 8)
    finally:
        group.removed = True  # a fake tree: nothing for remove() or atexit to do
        cgroups._LIVE.discard(group)
        cgroups._PREPARED.discard(tmp_path / "cg" / "grader")


def test_prefer_oom_kill_sets_the_score_of_the_caller_only() -> None:
    script = """
        from filmkit.grading.cgroups import prefer_oom_kill
        assert prefer_oom_kill()
        print(open("/proc/self/oom_score_adj").read().strip())
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    assert done.stdout.strip() == "1000"
    assert Path("/proc/self/oom_score_adj").read_text().strip() != "1000"


# ---------------------------------------------------------------- GradingLimits


def test_grading_limits_defaults_are_the_pool_defaults() -> None:
    assert GradingLimits().to_limits() == Limits()


def test_grading_limits_from_a_config_file(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        textwrap.dedent(
            """
            c = get_config()
            c.Execute.timeout = 45
            c.GradingLimits.memory_bytes = 1 << 30
            c.GradingLimits.pids = 16
            c.GradingLimits.disk_bytes = 64 << 20
            c.GradingLimits.notebook_output_bytes = 1 << 20
            """
        )
    )
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    limits = GradingLimits(config=config)
    assert limits.cell_timeout == 45  # nbgrader's cell timeout, as grading used before
    assert limits.to_limits() == Limits(
        cell_timeout=45,
        mem_bytes=1 << 30,
        nproc=16,
        scratch_bytes=64 << 20,
        max_notebook_output_bytes=1 << 20,
    )
    config.GradingLimits.cell_timeout = 20  # its own setting wins over Execute.timeout
    assert GradingLimits(config=config).cell_timeout == 20
    assert GradingLimits(config=config, cell_timeout=7).cell_timeout == 7  # --cell-timeout
    unlimited = Config()
    unlimited.Execute.timeout = None  # nbgrader's "no cell timeout": ours stays
    assert GradingLimits(config=unlimited).cell_timeout == 60


def test_every_limit_has_help_and_the_course_config_documents_them_right() -> None:
    traits = GradingLimits.class_traits(config=True)
    assert {"memory_bytes", "pids", "disk_bytes", "cell_timeout", "nb_timeout", "grace"} <= set(
        traits
    )
    for name, trait in traits.items():
        assert len(trait.help) > 40, f"GradingLimits.{name} has no help"
    # the commented example block of the course's nbgrader_config.py, uncommented, gives the
    # defaults and names every trait
    text = (REPO / "assignments" / "nbgrader_config.py").read_text()
    lines = [line[2:] for line in text.splitlines() if line.startswith("# c.GradingLimits.")]
    c = Config()
    exec("\n".join(lines), {"c": c})
    assert set(c.GradingLimits) == set(traits)
    assert GradingLimits(config=c).to_limits() == Limits()


def test_enforcement_says_what_is_guaranteed(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = GradingLimits(memory_bytes=1 << 30, pids=8)
    whole = limits.enforcement(Support(1, "ok", {}))
    assert whole.startswith("cgroup v1: memory and processes of the whole notebook (1 GiB")
    reason = "cgroup v1 memory controller is not writable by uid 1000"
    alone = limits.enforcement(Support(0, reason))
    assert alone.startswith(f"rlimits only ({reason}): memory per process (up to pids × memory")
    assert "8 × 1 GiB = 8 GiB in all" in alone
    assert limits.warning(Support(1, "ok", {})) is None
    warning = limits.warning(Support(0, reason))
    assert warning is not None and reason in warning
    assert GradingLimits(cgroups="off").enforcement().startswith("rlimits only (turned off")
    monkeypatch.setattr(cgroups, "detect", lambda refresh=False: Support(0, reason))
    with pytest.raises(cgroups.CgroupError, match="require"):
        GradingLimits(cgroups="require").cgroup_support()
    assert not GradingLimits(cgroups="auto").cgroup_support().usable
