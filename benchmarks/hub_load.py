"""A class arriving at once: N students start their servers, fetch and hand in through the hub.

As root (it makes N throwaway system users, removed at the end): a course with 01-genre-shifts
released to a fresh exchange; ``filmkit hub`` (``filmkit.course.hub.running``) on free loopback
ports, with the dummy authenticator (any password; benchmarks and tests only); the students'
environment is this project's lock file installed with the distribution's python3 into a folder
every user can read. Then, all at once (a thread per student), each student "logs in" (the
hub's API gives them a token of their own, as a login does), starts their server, fetches the
assignment and submits it through nbgrader's Assignments API behind the proxy, as the
Assignments tab does. The instructor then collects: every submission must be there.

Printed: the time from a student's login to their running server (median and slowest), the
memory of one student's server (the resident memory of all their processes, median), the whole
run's time, and how many submissions were collected. Exit status 1 if any is missing.

Usage: sudo uv run python benchmarks/hub_load.py [--students 30]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import pwd
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ASSIGNMENT = "01-genre-shifts"
REPO = Path(__file__).resolve().parents[1]


def resident_bytes(uid: int) -> int:
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)] and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0]) * 1024
    return total


def students_env(folder: Path) -> Path:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise SystemExit("uv is not on PATH: run this through `uv run`")
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(folder / "env"), UV_PYTHON="/usr/bin/python3")
    subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--no-editable", "--quiet"],
        cwd=REPO,
        env=env,
        check=True,
    )
    return folder / "env"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=30)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: it makes the students' system users")
    from filmkit.course import exchange, hub, release
    from filmkit.course.folder import CONFIG_FILE, load_course
    from filmkit.course.lab import free_port

    scratch = Path(tempfile.mkdtemp(prefix="filmkit-hub-load-"))
    scratch.chmod(0o755)
    names = [f"fkload{n:02d}{secrets.token_hex(2)}" for n in range(args.students)]
    try:
        env = students_env(scratch)
        exchange_dir = scratch / "exchange"
        exchange_dir.mkdir(mode=0o777)
        exchange_dir.chmod(0o777)
        course = scratch / "course"
        course.mkdir()
        shutil.copy2(REPO / "assignments" / CONFIG_FILE, course / CONFIG_FILE)
        shutil.copytree(
            REPO / "assignments" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT
        )
        with (course / CONFIG_FILE).open("a", encoding="utf-8") as config:
            config.write(f"\nc.Exchange.root = {str(exchange_dir)!r}\n")
            config.write("c.Exchange.path_includes_course = True\n")
        release.main([ASSIGNMENT], course=course)
        loaded = load_course(course)
        exchange.release(loaded, ASSIGNMENT)
        for name in names:
            subprocess.run(
                ["useradd", "--system", "--create-home", name], check=True, capture_output=True
            )
        settings = hub.HubSettings(
            loaded,
            share=scratch / "share",
            port=free_port(),
            hub_port=free_port(),
            proxy_api_port=free_port(),
            authenticator="dummy",
            students=tuple(names),
            environment=env,
        )
        os.environ[hub.TESTING_ENV] = "1"
        started = time.perf_counter()
        with hub.running(settings, secrets.token_hex(16), scratch / "hub.log") as running:

            def one(student: str) -> float:
                token = running.api("POST", f"/hub/api/users/{student}/tokens", {"note": "login"})
                login = time.perf_counter()
                running.start_server(student)
                ready = time.perf_counter() - login
                body = {"course_id": loaded.course_id, "assignment_id": ASSIGNMENT}
                own = token["token"]
                running.api("POST", f"/user/{student}/assignments/fetch", body, token=own)
                done = running.api("POST", f"/user/{student}/assignments/submit", body, token=own)
                if not done.get("success"):
                    raise RuntimeError(f"{student}'s submit failed: {done}")
                return ready

            with cf.ThreadPoolExecutor(len(names)) as class_:
                ready = list(class_.map(one, names))
            memory = [resident_bytes(pwd.getpwnam(n).pw_uid) for n in names]
            collected = exchange.collect(loaded, ASSIGNMENT).students
        whole = time.perf_counter() - started
    finally:
        for name in names:
            subprocess.run(["pkill", "-KILL", "-u", name], check=False, capture_output=True)
        time.sleep(0.5)
        for name in names:
            subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        if (scratch / "hub.log").is_file():
            shutil.copy2(scratch / "hub.log", Path(tempfile.gettempdir()) / "filmkit-hub-load.log")
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{len(names)} students at once on {os.cpu_count()} CPUs:")
    print(
        f"  login to running server: median {statistics.median(ready):.1f} s, slowest {max(ready):.1f} s"
    )
    print(f"  one student's server: {statistics.median(memory) / 2**20:.0f} MiB resident (median)")
    print(f"  whole run (hub start to everything collected): {whole:.1f} s")
    print(f"  collected: {len(collected)} of {len(names)}")
    return 0 if set(collected) == set(names) else 1


if __name__ == "__main__":
    sys.exit(main())
