"""The template process ("fork server") of one grading worker.

    python -m filmkit.sandbox.forkserver [--preload pandas,plotly.express]
                                                  [--isolate ns|uid|none] [--uid N] [--once]

Protocol on stdin/stdout: frames of 4-byte big-endian length + JSON.
  parent -> template : {"id", "cells": [{"source","cell_type","locked"}], "files": {rel: base64},
                        "cell_timeout", "nb_timeout", "mem_bytes", "nproc", "max_output_bytes"}
  template -> parent : {"ev": "ready", ...} once, then one {"ev": "result", ...} per job.

Per job the template forks a child.  --isolate ns (used inside bwrap): the child unshares
USER+NS+PID+IPC namespaces (unprivileged), mounts private tmpfs on /tmp, /grading/work
(scratch copy, read-write) and /grading/submission (read-only copy), then forks the executor as pid 1 of
the new pid namespace (its exit kills every process the submission left behind), drops
all capabilities, sets no_new_privs + rlimits, and runs executor.run_notebook.
--isolate uid (no bwrap, template is root): scratch in a temp dir, child setuid()s to
--uid; leftovers are killed with kill(-1) from a helper running as that uid.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
from typing import Any

from filmkit.grading.bwrap import SUBMISSION_DIR, WORK_DIR
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


# ---------------------------------------------------------------- framing


def send(fd: int, obj: Any) -> None:
    b = json.dumps(obj).encode()
    _write_all(fd, struct.pack(">I", len(b)) + b)


def _write_all(fd: int, b: bytes) -> None:
    while b:
        n = os.write(fd, b)
        b = b[n:]


def recv(fd: int) -> Any:
    h = _read_exact(fd, 4)
    if h is None:
        return None
    body = _read_exact(fd, struct.unpack(">I", h)[0])
    return None if body is None else json.loads(body)


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        c = os.read(fd, n - len(buf))
        if not c:
            return None
        buf += c
    return buf


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
        lim = vm_size() + int(job["mem_bytes"])
        rl(resource.RLIMIT_AS, (lim, lim))
    if job.get("nproc"):
        rl(resource.RLIMIT_NPROC, (job["nproc"], job["nproc"]))
    rl(resource.RLIMIT_FSIZE, (job.get("fsize", 64 << 20),) * 2)
    rl(resource.RLIMIT_NOFILE, (1024, 1024))
    if job.get("nb_timeout"):
        cpu = int(job["nb_timeout"]) + 1
        rl(resource.RLIMIT_CPU, (cpu, cpu + 1))


def executor_main(job: Job, wfd: int) -> None:
    """Runs the notebook; never returns."""
    code = 0
    try:
        hi = os.dup2(wfd, 1000)  # result pipe on a high, close-on-exec fd
        os.set_inheritable(hi, False)
        if wfd != hi:
            os.close(wfd)

        def emit(rec: Any) -> None:
            _write_all(hi, json.dumps(rec).encode() + b"\n")

        set_limits(job)
        executor.run_notebook(job, emit)
    except BaseException as e:  # pragma: no cover - reported to the template
        try:
            _write_all(1000, json.dumps({"ev": "crash", "error": repr(e)[:2000]}).encode() + b"\n")
        except BaseException:
            pass
        code = 3
    os._exit(code)


def child_main(job: Job, wfd: int, isolate: str, uid: int) -> None:
    """Forked from the template per notebook; never returns."""
    try:
        os.setsid()
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
                executor_main(job, wfd)
            os.close(wfd)
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
            executor_main(job, wfd)
    except BaseException as e:
        try:
            _write_all(
                wfd,
                json.dumps({"ev": "crash", "error": "setup: " + repr(e)[:2000]}).encode() + b"\n",
            )
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


def run_job(job: Job, isolate: str, uid: int) -> Job:
    t0 = time.perf_counter()
    if isolate != "ns":
        job["_scratch"] = tempfile.mkdtemp(prefix="nb-")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        child_main(job, w, isolate, uid)
    os.close(w)
    cell_timeout = float(job.get("cell_timeout") or 30)
    grace = float(job.get("grace", 2.0))
    nb_deadline = t0 + float(job.get("nb_timeout") or 600)
    cell_deadline = float("inf")
    max_bytes = int(
        job.get("max_notebook_output_bytes", 4 * int(job.get("max_output_bytes", 5 << 20)))
    ) * 2 + (1 << 20)
    cells, running, status, buf, nread, crash = {}, None, None, b"", 0, None
    first_start = None
    modules: list[str] = []
    while status is None:
        timeout = min(nb_deadline, cell_deadline) - time.perf_counter()
        if timeout <= 0:
            status = "timeout"
            break
        rl, _, _ = select.select([r], [], [], timeout)
        if not rl:
            continue
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        nread += len(chunk)
        if nread > max_bytes:
            status = "output_limit"
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                rec = json.loads(line)
            except ValueError:
                status = "protocol_error"
                break
            ev = rec.get("ev")
            if ev == "start":
                running = rec["i"]
                first_start = first_start or time.perf_counter()
                cell_deadline = time.perf_counter() + cell_timeout + grace
            elif ev == "done":
                cells[rec["i"]] = {
                    "execution_count": rec.get("execution_count"),
                    "outputs": rec.get("outputs", []),
                    "t": rec.get("t"),
                    "nmod": rec.get("nmod"),
                }
                running, cell_deadline = None, float("inf")
            elif ev == "end":
                status = "ok"
            elif ev == "abort":
                status = str(rec.get("reason", "aborted"))
            elif ev == "modules":
                modules = rec.get("names") or []
            elif ev == "crash":
                crash = rec.get("error")
    if status != "ok":
        os.kill(pid, signal.SIGKILL)  # child; its pid-1 grandchild dies via PDEATHSIG
        # every process of the run inherited the result pipe: EOF == they are all gone
        # (pid-namespace teardown of e.g. 60 spinning fork-bomb processes takes ~1 s)
        t_end = time.perf_counter() + 10
        while time.perf_counter() < t_end:
            rl, _, _ = select.select([r], [], [], 0.2)
            if rl and not os.read(r, 1 << 16):
                break
    os.close(r)
    # wait for the child (after "end" it exits at once)
    deadline = time.perf_counter() + 5
    exit_code = None
    while True:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            exit_code = os.waitstatus_to_exitcode(st)
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline += 5
        time.sleep(0.002)
    if isolate == "uid" and uid:
        kill_uid_leftovers(uid)
    if job.get("_scratch"):
        shutil.rmtree(job["_scratch"], ignore_errors=True)
    if status is None:
        status = "crash" if crash else "died"
    if job.get("report_modules") and status == "ok":
        t1 = time.perf_counter()
        n = executor.import_modules(modules)
        crash = f"warm-up imported {n} modules in {time.perf_counter() - t1:.2f}s"
    return {
        "ev": "result",
        "id": job.get("id"),
        "status": status,
        "cells": cells,
        "running": running,
        "exit_code": exit_code,
        "crash": crash,
        "wall_s": round(time.perf_counter() - t0, 4),
        "setup_s": round((first_start or time.perf_counter()) - t0, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preload", default="pandas,plotly.express,plotly.graph_objects")
    ap.add_argument("--isolate", choices=["ns", "uid", "none"], default="ns")
    ap.add_argument("--uid", type=int, default=0)
    ap.add_argument("--once", action="store_true")
    a = ap.parse_args()
    out_fd = os.dup(1)  # protocol channel; fd 1 -> stderr so stray prints can't corrupt it
    os.dup2(2, 1)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children (same uid) can't ptrace / read our memory
    t0 = time.perf_counter()
    timings = executor.prepare_template([m for m in a.preload.split(",") if m])
    uid = 0 if a.isolate == "none" else (a.uid or os.getuid())
    send(
        out_fd,
        {
            "ev": "ready",
            "pid": os.getpid(),
            "uid": os.getuid(),
            "isolate": a.isolate,
            "template_s": round(time.perf_counter() - t0, 3),
            **timings,
        },
    )
    while True:
        job = recv(0)
        if job is None:
            break
        send(out_fd, run_job(job, a.isolate, uid))
        if a.once:
            break


if __name__ == "__main__":
    main()
