"""What grading a tiny class costs: ``filmkit grade`` against stock ``nbgrader autograde``.

A run's fixed cost (starting workers, the sandbox, the judge) must not make filmkit slower than
stock nbgrader where there is almost nothing to grade: one or two students, as when an instructor
regrades a late submission or tries an assignment out. For each class size the course is built
once (as ``benchmarks/grade.py`` builds it: ``assignments/``'s config and sources, the assignment
released, copies of the specimens handed in), then both commands are run as an instructor types
them, each a whole process from its start (Python, imports, gradebook, workers or kernels):

* stock: ``nbgrader autograde ASSIGNMENT --force`` in the course folder;
* filmkit: ``filmkit grade ASSIGNMENT --force --course FOLDER`` (sandbox and judge on).

They alternate, ``--repeat`` times each, and the median of each is compared. The run fails (exit
status 1) if filmkit's median is above stock's for any class size.

Usage: uv run python benchmarks/small_run.py [--sizes 1,2] [--repeat 3] [--assignment A]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import grade as bench  # the course builder of the throughput benchmark


def timed(command: list[str], cwd: Path) -> float:
    env = dict(
        os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: a specimen that fails, as nbgrader reports it
        raise SystemExit(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assignment", default="01-genre-shifts")
    parser.add_argument("--sizes", default="1,2", help="class sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench.quiet()
    bin_dir = Path(sys.executable).parent
    failed = 0
    scratch = Path(tempfile.mkdtemp(prefix="filmkit-bench-small-"))
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            course = scratch / f"class-{size}"
            bench.build_course(course, args.assignment, size)
            commands = {
                "stock": [str(bin_dir / "nbgrader"), "autograde", args.assignment, "--force"],
                "filmkit": [
                    str(bin_dir / "filmkit"),
                    "grade",
                    args.assignment,
                    "--force",
                    "--course",
                    str(course),
                ],
            }
            times: dict[str, list[float]] = {side: [] for side in commands}
            for _ in range(args.repeat):
                for side, command in commands.items():
                    times[side].append(timed(command, course))
            stock, fast = (statistics.median(times[s]) for s in ("stock", "filmkit"))
            runs = {s: " ".join(f"{t:.2f}" for t in ts) for s, ts in times.items()}
            print(f"{args.assignment}, {size} student(s), median of {args.repeat}:")
            print(f"  stock nbgrader autograde   {stock:6.2f} s   ({runs['stock']})")
            print(f"  filmkit grade              {fast:6.2f} s   ({runs['filmkit']})")
            print(f"  filmkit / stock: {fast / stock:.2f}")
            if fast > stock:
                print(f"  FAIL: filmkit is slower than stock nbgrader on {size} student(s)")
                failed = 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {bench.load()}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
