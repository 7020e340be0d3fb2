"""The fork server ("template") of one grading worker, in the sandbox's or the judge's role.

    python -m filmkit.sandbox.forkserver --role sandbox|judge --control-fd N
                                         [--preload pandas,plotly.express] [--isolate ns|uid|none]
                                         [--uid N]

It prepares once (heavy imports, a pristine IPython shell, the corpus split; the judge also the
test runner), then serves its control socket (:mod:`filmkit.protocol`): for each ``fork`` it receives
one descriptor, the child's channel to the grader, forks a child that keeps only that descriptor,
and closes its own copy. **It never reads a job**: the child reads its own job after the fork,
so no notebook, solution, hidden test or student's work ever enters the template's memory, and
no child can inherit a remnant of another. ``kill`` ends a child's whole run; ``exited`` reports
each child's end.

Per job the child (``--isolate ns``, inside bwrap) unshares USER+NS+PID+IPC+UTS namespaces
(unprivileged), mounts private tmpfs on /tmp, /grading/work (scratch copy, read-write) and
/grading/submission (read-only copy), then forks the runner as pid 1 of the new pid namespace
(its exit kills every process the submission left behind), drops all capabilities, sets
no_new_privs + rlimits, and runs :func:`filmkit.sandbox.executor.run_notebook` (sandbox role) or
:func:`filmkit.judge.runner.run` (judge role). --isolate uid (no bwrap, template is root): scratch
in a temp dir, child setuid()s to --uid; leftovers are killed with kill(-1) from a helper running
as that uid.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import gc
import os
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

from filmkit import protocol
from filmkit.grading.bwrap import SUBMISSION_DIR, WORK_DIR
from filmkit.grading.cgroups import prefer_oom_kill
from filmkit.sandbox import executor

Job = dict[str, Any]

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 16384, 1 << 18
MS_BIND = 4096
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 4, 38, 24


def _check(rc: int, what: str) -> None:
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def mount(
    src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(
        libc.mount(
            src and src.encode(),
            target.encode(),
            fstype and fstype.encode(),
            ctypes.c_ulong(flags),
            data and data.encode(),
        ),
        f"mount {target}",
    )


class _CapHdr(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_all_caps() -> None:
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last cap: ignore
    hdr, data = _CapHdr(0x20080522, 0), (_CapData * 2)()
    _check(libc.capset(ctypes.byref(hdr), data), "capset")


# ---------------------------------------------------------------- child side


def write_files(root: str, files: dict[str, str]) -> None:
    os.makedirs(root, exist_ok=True)
    for rel, b64 in files.items():
        rel = os.path.normpath(rel)
        if rel.startswith("..") or os.path.isabs(rel):
            continue
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(base64.b64decode(b64))


def vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def set_limits(job: Job) -> None:
    rl = resource.setrlimit
    rl(resource.RLIMIT_CORE, (0, 0))
    if job.get("mem_bytes"):
        lim = vm_size() + int(job.get("process_mem_bytes") or job["mem_bytes"])
        rl(resource.RLIMIT_AS, (lim, lim))
    if job.get("nproc"):
        rl(resource.RLIMIT_NPROC, (job["nproc"], job["nproc"]))
    rl(resource.RLIMIT_FSIZE, (job.get("fsize", 64 << 20),) * 2)
    rl(resource.RLIMIT_NOFILE, (1024, 1024))
    if job.get("nb_timeout"):
        cpu = int(job["nb_timeout"]) + 1
        rl(resource.RLIMIT_CPU, (cpu, cpu + 1))


def runner_main(job: Job, role: str, channel: protocol.Channel) -> None:
    """Runs the notebook (sandbox) or its tests (judge) on the channel at CHILD_FD; never returns."""
    code = 0
    try:
        set_limits(job)
        if role == "judge":
            from filmkit.judge import runner

            runner.run(job, channel)
        else:
            executor.run_notebook(job, channel)
    except BaseException as e:  # pragma: no cover - reported to the grader
        try:
            channel.send({"ev": "crash", "job": job.get("job"), "error": repr(e)[:2000]})
        except BaseException:
            pass
        code = 3
    os._exit(code)


def _keep_only_channel(fd: int) -> None:
    """Close every inherited descriptor (the template's control socket, its log, anything a
    library left open) except the standard three and this child's channel, moved to CHILD_FD."""
    if fd != protocol.CHILD_FD:
        os.dup2(fd, protocol.CHILD_FD)
        os.close(fd)
    os.set_inheritable(protocol.CHILD_FD, True)
    os.closerange(protocol.CHILD_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    if null != 0:
        os.close(null)


def read_job(channel: protocol.Channel, job_id: str) -> Job:
    """The child's own job, read from its channel after the fork."""
    job = channel.recv(timeout=120)
    if not isinstance(job, dict) or job.get("op") != "job" or job.get("job") != job_id:
        raise protocol.ProtocolError("the first record on a child's channel must be its job")
    return job


def child_main(fd: int, job_id: str, role: str, isolate: str, uid: int, scratch: str) -> None:
    """Forked from the template per notebook; never returns."""
    channel: protocol.Channel | None = None
    try:
        os.setsid()
        prefer_oom_kill()  # cgroups: the OOM killer takes the notebook, not the template
        _keep_only_channel(fd)
        # one Connection for the child's life: a discarded one closes its descriptor
        channel = protocol.Channel(protocol.CHILD_FD)
        job = read_job(channel, job_id)
        job["_scratch"] = scratch
        if isolate == "ns":
            gid = os.getgid()
            libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # else /proc/self/*_map are root-owned
            _check(
                libc.unshare(
                    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
                ),
                "unshare",
            )
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"{gid} {gid} 1")
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            sz = job.get("scratch_bytes", 256 << 20)
            # the Python install / venv may live below /tmp: keep them visible over the new /tmp
            keep = sorted(
                {
                    p
                    for p in (
                        sys.prefix,
                        sys.base_prefix,
                        os.path.realpath(sys.prefix),
                        os.path.realpath(sys.base_prefix),
                        os.path.dirname(executor.__file__),
                    )
                    if p.startswith(("/tmp/", "/grading/"))
                }
            )
            fds = [os.open(p, os.O_PATH) for p in keep]
            for d in ("/tmp", WORK_DIR, SUBMISSION_DIR):
                mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, f"size={sz},mode=0755")
            for p, fd in zip(keep, fds, strict=True):
                os.makedirs(p, exist_ok=True)
                mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
                os.close(fd)
            libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
            write_files(SUBMISSION_DIR, job["files"])
            mount(None, SUBMISSION_DIR, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            write_files(WORK_DIR, job["files"])
            os.chdir(WORK_DIR)
            job["tmpdir"] = "/tmp"
            pid = os.fork()  # pid 1 of the new pid namespace
            if pid == 0:
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
                drop_all_caps()
                runner_main(job, role, channel)
            os.close(protocol.CHILD_FD)
            _, st = os.waitpid(pid, 0)
            os._exit(
                os.waitstatus_to_exitcode(st) & 0xFF if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
            )
        else:
            d = job["_scratch"]
            write_files(os.path.join(d, "work"), job["files"])
            os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
            if os.geteuid() == 0 and uid:
                for root, dirs, files in os.walk(d):
                    for n in dirs + files:
                        os.lchown(os.path.join(root, n), uid, uid)
                os.chown(d, uid, uid)
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            os.chdir(os.path.join(d, "work"))
            job["tmpdir"] = os.path.join(d, "tmp")
            runner_main(job, role, channel)
    except BaseException as e:
        try:
            import traceback

            traceback.print_exc()  # to the worker log
            record = {"ev": "crash", "job": job_id, "error": "setup: " + repr(e)[:2000]}
            if channel is not None:
                channel.send(record)
        except BaseException:
            pass
    os._exit(4)


def kill_uid_leftovers(uid: int) -> None:
    """--isolate uid: kill every process of `uid` (what the submission left running)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


# ---------------------------------------------------------------- template side


class Template:
    """The fork server's loop: fork on request, kill on request, report every exit."""

    def __init__(self, control: socket.socket, role: str, isolate: str, uid: int) -> None:
        self.control, self.role, self.isolate, self.uid = control, role, isolate, uid
        self.children: dict[str, tuple[int, str]] = {}  # job → (pid, scratch folder or "")
        # a child's exit wakes the loop at once (the grader waits for "exited" before the
        # slot's next notebook): SIGCHLD writes a byte to this socket
        self.wake, wake_w = socket.socketpair()
        self.wake.setblocking(False)
        wake_w.setblocking(False)
        self._wake_w = wake_w
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)

    def serve(self) -> None:
        while True:
            wait = 1.0 if self.children else None  # a safety net: SIGCHLD wakes it sooner
            readable, _, _ = select.select([self.control, self.wake], [], [], wait)
            if self.wake in readable:
                with contextlib.suppress(BlockingIOError):
                    self.wake.recv(4096)
            if self.control in readable:
                record, fds = protocol.recv_control(self.control)
                if record is None:
                    break
                self.handle(record, fds)
            self.reap()
        for pid, _ in self.children.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def handle(self, record: protocol.Record, fds: list[int]) -> None:
        op, job = record.get("op"), str(record.get("job", ""))
        if op == "fork" and len(fds) == 1 and job and job not in self.children:
            scratch = tempfile.mkdtemp(prefix="nb-") if self.isolate != "ns" else ""
            # everything the template holds goes to the collector's permanent generation, so
            # a child's collections never walk (and so copy) the template's pages: forked
            # pages are copied only as the child really writes them
            gc.freeze()
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for sock in (self.control, self.wake, self._wake_w):
                    sock.close()
                child_main(fds[0], job, self.role, self.isolate, self.uid, scratch)
            os.close(fds[0])
            self.children[job] = (pid, scratch)
            protocol.send_control(self.control, {"ev": "forked", "job": job, "pid": pid})
            return
        for fd in fds:
            os.close(fd)
        if op == "kill" and job in self.children:
            try:
                os.kill(self.children[job][0], signal.SIGKILL)
            except OSError:
                pass
        elif op == "import":
            names = record.get("modules")
            if isinstance(names, list):
                took = time.perf_counter()
                count = executor.import_modules([str(n) for n in names])
                seconds = round(time.perf_counter() - took, 3)
                protocol.send_control(
                    self.control, {"ev": "imported", "count": count, "s": seconds}
                )

    def reap(self) -> None:
        for job, (pid, scratch) in list(self.children.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
            del self.children[job]
            if self.isolate == "uid" and self.uid:
                kill_uid_leftovers(self.uid)
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
            code = os.waitstatus_to_exitcode(status)
            protocol.send_control(self.control, {"ev": "exited", "job": job, "exit_code": code})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["sandbox", "judge"], default="sandbox")
    ap.add_argument("--control-fd", type=int, required=True)
    ap.add_argument("--preload", default="pandas,plotly.express,plotly.graph_objects")
    ap.add_argument("--isolate", choices=["ns", "uid", "none"], default="ns")
    ap.add_argument("--uid", type=int, default=0)
    a = ap.parse_args()
    control = socket.socket(fileno=a.control_fd)
    os.dup2(2, 1)  # stray prints go to the worker's log
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children (same uid) can't ptrace / read our memory
    t0 = time.perf_counter()
    preload = [m for m in a.preload.split(",") if m]
    if a.role == "judge":
        from filmkit.judge import runner

        timings = runner.prepare(preload)
    else:
        timings = executor.prepare_template(preload)
    uid = 0 if a.isolate == "none" else (a.uid or os.getuid())
    ready = {"ev": "ready", "pid": os.getpid(), "uid": os.getuid(), "role": a.role}
    ready.update(isolate=a.isolate, template_s=round(time.perf_counter() - t0, 3), **timings)
    protocol.send_control(control, ready)
    Template(control, a.role, a.isolate, uid).serve()


if __name__ == "__main__":
    main()
