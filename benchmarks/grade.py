"""How much faster ``filmkit grade`` autogrades than stock ``nbgrader autograde``, same scores.

One run builds a course once (a copy of ``assignments/``: ``nbgrader_config.py`` and ``source/``),
releases the assignment and hands in N submissions, copies of the specimens of
``tests/fixtures/specimens/`` (full-01, partial-01, …, full-02, …). The course is then copied
for each timed run, so every run starts from the same files and the same gradebook:

* stock: ``filmkit.grading.grade.stock_autograde``, nbgrader's own autograde through its API, one
  student at a time, a fresh kernel per notebook;
* filmkit: ``filmkit.grading.grade.main(force=True, jobs=J)``, nbgrader's Autograde with only the
  execution replaced by sandboxed fork-server workers.

Each time is the wall time of the whole call (start-up of its workers or kernels, gradebook
writes, everything), after the imports both need have been done once. filmkit is timed twice,
just before and just after stock, each time on its own copy, and its figure is the mean of the
two: this machine's speed drifts by up to 20 % over the minutes stock takes, and bracketing
stock that way lets neither side profit from a fast or a slow spell. Then every grade cell of
every submission is compared (auto_score, score, max_score, needs_manual_grade, failed_tests),
and each student's total, between stock and each filmkit run.

The true floor is what running the same notebooks costs with nothing around the cells: the N
sanitized notebooks (hidden tests included) that stock wrote to ``autograded/``, outputs cleared,
their code cells run by IPython's shell (recording outputs as a kernel's does,
``filmkit.capture``) in children forked from one warm process, J at a time, each in its
notebook's folder. The warm process has imported every module the notebooks import and done the
warm-ups filmkit's fork servers do (the corpus split, the quotation index, the vocabularies'
tables): no kernel protocol, no nbgrader, no sandbox, no judge, no gradebook. filmkit / floor says
how close filmkit is to that limit (aim: within 1.5x). (Bare nbclient with a fresh kernel per
notebook, the floor this script used before, is slower than filmkit itself: no limit at all.)

filmkit on a Dask cluster is ``grade.main(cluster=ADDRESS)`` against a ``distributed.LocalCluster``
on loopback with one worker process of J threads (the same cores), started beforehand as a
cluster would be running: its time includes the run's engine starting on the worker (fork servers,
warm-up), not the cluster's own start. Its scores are compared with stock's too.

The scale table grades N = 60 and 300 submissions (and 1,000 with ``--large``) with filmkit
locally and on the cluster, each run a ``filmkit grade`` in a process of its own: its wall time,
notebooks per minute, the grader's peak resident memory (that process's own ``ru_maxrss``; the
fork servers that run the cells are other processes, on the cluster other machines) and the
grader's own CPU time per notebook (nbgrader's sanitizing, scoring and gradebook writes, in one
process for the whole run: the ceiling on throughput however many workers grade).

The run fails (exit status 1) if any score differs or if filmkit is less than 8x as fast as stock.
filmkit runs as it grades a class: sandboxed, every test judged in the judge process; the judge's
cost per notebook (from a test's data reaching it to its verdict, summed over the notebook's
tests) is printed beside the run's figures.

Usage: uv run python benchmarks/grade.py [--submissions 60] [--jobs J] [--skip-stock]
       [--skip-floor] [--skip-cluster] [--skip-scale] [--large] [--keep] [--json PATH]
       (``make bench`` runs it with the defaults)
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TARGET = 8.0  # filmkit must grade at least this many times as fast as stock nbgrader
FLOOR_AIM = 1.5  # and aims to take at most this many times as long as the true floor
COMPARED = ["auto_score", "score", "max_score", "needs_manual_grade", "failed_tests"]
KEY = ["student", "notebook", "question"]
SIDES = {"left_only": "stock", "right_only": "filmkit"}
WARM_MODULES = (
    "nbformat",
    "nbclient",
    "nbgrader.api",
    "nbgrader.apps",
    "nbgrader.converters",
    "nbgrader.preprocessors",
    "filmkit.grading.fastgrade",
    "filmkit.grading.pool",
)


def quiet() -> None:
    """This is a script: hide the known noise of the Jupyter stack (deprecations, zmq)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", message=".*Proactor event loop.*")
    warnings.filterwarnings("ignore", message=".*Jupyter is migrating its paths.*")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- the course


def build_course(root: Path, assignment: str, submissions: int) -> list[str]:
    """A fresh course at ``root``, ``assignment`` released, ``submissions`` handed in."""
    from filmkit.course import release
    from filmkit.course.folder import CONFIG_FILE, load_course

    origin = load_course()
    root.mkdir(parents=True)
    shutil.copy2(origin.root / CONFIG_FILE, root / CONFIG_FILE)
    shutil.copytree(origin.step_dir("source"), root / "source")
    release.main([assignment], course=root)
    return hand_in_copies(root, assignment, submissions)


def hand_in_copies(root: Path, assignment: str, submissions: int) -> list[str]:
    """Hand in the specimens round-robin as students ``<specimen>-01``, ``-02``, …"""
    from filmkit.course.folder import load_course
    from filmkit.course.specimens import hand_in, load_specimens

    course = load_course(root)
    specimens = load_specimens(assignment)
    students = []
    for i in range(submissions):
        specimen = specimens[i % len(specimens)]
        student = f"{specimen.student}-{i // len(specimens) + 1:02d}"
        hand_in(course, dataclasses.replace(specimen, student=student))
        students.append(student)
    return students


def notebooks_per_submission(root: Path, assignment: str) -> int:
    return len(list((root / "release" / assignment).glob("*.ipynb")))


def warm_imports() -> None:
    """The one-off imports both graders need, so that neither time includes them."""
    import importlib

    for module in WARM_MODULES:
        importlib.import_module(module)


# --------------------------------------------------------------------------- the graders


def time_stock(root: Path, assignment: str) -> tuple[float, Any]:
    from filmkit.grading.grade import stock_autograde

    started = time.perf_counter()
    summary = stock_autograde(assignment, course=root)
    return time.perf_counter() - started, summary


@contextlib.contextmanager
def recording_templates() -> Iterator[list[dict[str, Any]]]:
    """What the worker pool says about its templates (start-up, warm-up), kept as it closes."""
    from filmkit.grading import pool

    seen: list[dict[str, Any]] = []
    original = pool.WorkerPool.close

    def close(self: Any) -> None:
        seen.extend(self.template_info())
        original(self)

    pool.WorkerPool.close = close  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        pool.WorkerPool.close = original  # type: ignore[method-assign]


def time_fast(root: Path, assignment: str, jobs: int) -> tuple[float, Any, list[dict[str, Any]]]:
    from filmkit.grading import grade

    with recording_templates() as templates:
        started = time.perf_counter()
        summary = grade.main(assignment, course=root, jobs=jobs, force=True)
        seconds = time.perf_counter() - started
    return seconds, summary, templates


def describe_templates(templates: list[dict[str, Any]]) -> str:
    if not templates:
        return "n/a"
    parts = []
    for t in templates:
        warmup = t.get("warmup") or {}
        warm = warmup.get("status", "")
        if warm:
            imported = ", ".join(
                f"{role} {warmup[role].get('count', 0)} more modules"
                for role in ("sandbox", "judge")
                if isinstance(warmup.get(role), dict)
            )
            warm = f", warm-up {warm}" + (f" ({imported})" if imported else "")
        parts.append(
            f"{t.get('role', '?')} start {t.get('spawn_s', 0):.2f} s "
            f"(preload {t.get('imports_s', t.get('judge_s', 0)):.2f} s){warm}"
        )
    return f"isolate={templates[0].get('isolate')}; " + "; ".join(parts)


@contextlib.contextmanager
def local_cluster(jobs: int) -> Iterator[str]:
    """A Dask cluster on loopback: one worker process with ``jobs`` threads; its address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=jobs,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=40,  # errors only: a benchmark's output stays its figures
    ) as cluster:
        yield cluster.scheduler_address


def time_cluster(root: Path, assignment: str, address: str) -> tuple[float, Any]:
    from filmkit.grading import grade

    started = time.perf_counter()
    summary = grade.main(assignment, course=root, force=True, cluster=address)
    return time.perf_counter() - started, summary


def grade_in_child(root: Path, assignment: str, jobs: int, cluster: str | None) -> dict[str, Any]:
    """One ``filmkit grade`` run in a process of its own: its seconds and peak memory."""
    import subprocess

    command = [sys.executable, __file__, "--child", str(root), "--assignment", assignment]
    command += ["--jobs", str(jobs)] + (["--cluster", cluster] if cluster else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"grading {root} failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def child(root: Path, assignment: str, jobs: int, cluster: str | None) -> None:
    """The child of :func:`grade_in_child`: grade, then print the figures as one JSON line."""
    import resource

    from filmkit.grading import grade

    started = time.perf_counter()
    summary = grade.main(assignment, course=root, jobs=jobs, force=True, cluster=cluster)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_mib": usage.ru_maxrss / 1024,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # the grader's own CPU
                "failed": len(summary.failed),
            }
        )
    )


def scale_table(
    scratch: Path, assignment: str, sizes: list[int], jobs: int, address: str | None
) -> list[dict[str, Any]]:
    """Each size graded locally and (with ``address``) on the cluster, in fresh processes."""
    rows = []
    for size in sizes:
        base = scratch / f"scale-{size}"
        say(f"scale: building a course of {size} submissions")
        build_course(base, assignment, size)
        notebooks = size * notebooks_per_submission(base, assignment)
        for where in ("local", "cluster") if address else ("local",):
            say(f"scale: {size} submissions, filmkit {where}")
            figures = grade_in_child(
                base, assignment, jobs, address if where == "cluster" else None
            )
            rows.append({"submissions": size, "notebooks": notebooks, "where": where, **figures})
        shutil.rmtree(base, ignore_errors=True)
    return rows


# --------------------------------------------------------------------------- the floor


def sanitized_notebooks(root: Path, assignment: str) -> list[tuple[str, str]]:
    """(notebook JSON with outputs cleared, its folder) of every notebook in ``autograded/``."""
    import nbformat

    found = []
    for path in sorted((root / "autograded").glob(f"*/{assignment}/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        found.append((nbformat.writes(nb), str(path.parent)))
    return found


def notebook_imports(notebooks: list[tuple[str, str]]) -> list[str]:
    """Every module an ``import`` of the notebooks' code cells names (what a warm process has
    imported before the first notebook)."""
    import ast

    names: set[str] = set()
    for nb_json, _ in notebooks:
        for cell in json.loads(nb_json)["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            try:
                tree = ast.parse(source)
            except SyntaxError:  # a student's broken cell: it imports nothing that counts
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module)
    return sorted(names)


def floor_run(notebooks: list[tuple[str, str]], jobs: int) -> tuple[float, int]:
    """In a fresh process: warm up, then run every notebook's code cells in a child forked
    from it, ``jobs`` children at a time. (wall time from the first fork to the last exit,
    children that did not exit cleanly)."""
    import importlib

    quiet()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it while it executes
    from filmkit import capture

    shell = capture.make_shell()  # IPython's shell recording outputs, as a kernel's does
    for name in notebook_imports(notebooks):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from filmkit import analysis, evidence
    from filmkit.corpus import load_corpus

    load_corpus()  # the same warm-up filmkit's fork servers do
    evidence.verify("warm up the index")
    analysis.warm()
    import plotly.io

    plotly.io.renderers.default = "plotly_mimetype"
    queue = list(notebooks)
    running: set[int] = set()
    failed = 0
    started = time.perf_counter()
    while queue or running:
        while queue and len(running) < jobs:
            nb_json, folder = queue.pop(0)
            pid = os.fork()
            if pid == 0:  # the child: the notebook's cells, then out
                status = 1
                try:
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, 1)
                    os.dup2(devnull, 2)
                    os.chdir(folder)
                    for cell in json.loads(nb_json)["cells"]:
                        source = "".join(cell["source"])
                        if cell["cell_type"] != "code" or not source.strip():
                            continue  # as nbclient and filmkit skip them
                        capture.SINK.begin()  # the cell's outputs, recorded as filmkit's are
                        with contextlib.suppress(capture.OutputLimitExceeded):
                            shell.run_cell(source, store_history=True)
                        capture.SINK.flush()
                    status = 0
                finally:
                    os._exit(status)
            running.add(pid)
        pid, code = os.wait()
        running.discard(pid)
        failed += code != 0
    return time.perf_counter() - started, failed


def time_floor(notebooks: list[tuple[str, str]], jobs: int) -> tuple[float, int]:
    """:func:`floor_run` in a process of its own (spawned: nothing of this one is inherited)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(floor_run, notebooks, jobs).result()


# --------------------------------------------------------------------------- the comparison


def compare(stock: Any, fast: Any) -> tuple[int, list[str]]:
    """(grade cells compared, one line per difference) between two GradeSummary's scores."""
    a, b = stock.scores, fast.scores
    merged = a.merge(b, on=KEY, how="outer", suffixes=("_stock", "_fast"), indicator=True)
    differences = [
        f"{'/'.join(map(str, row[KEY]))}: only in {SIDES[row['_merge']]}"
        for _, row in merged[merged["_merge"] != "both"].iterrows()
    ]
    both = merged[merged["_merge"] == "both"]
    for column in COMPARED:
        ours, theirs = both[f"{column}_fast"], both[f"{column}_stock"]
        same = (ours == theirs) | (ours.isna() & theirs.isna())
        for _, row in both[~same].iterrows():
            differences.append(
                f"{'/'.join(map(str, row[KEY]))}: {column} stock {row[f'{column}_stock']!r}, "
                f"filmkit {row[f'{column}_fast']!r}"
            )
    totals = stock.totals().merge(fast.totals(), on="student", suffixes=("_stock", "_fast"))
    for _, row in totals.iterrows():
        for column in ("score", "max_score"):
            if row[f"{column}_stock"] != row[f"{column}_fast"]:
                differences.append(
                    f"{row['student']} total {column}: stock {row[f'{column}_stock']}, "
                    f"filmkit {row[f'{column}_fast']}"
                )
    return len(both), differences


# --------------------------------------------------------------------------- the report


def row(label: str, seconds: float | None, notebooks: int, note: str = "") -> str:
    if seconds is None:
        return f"  {label:<34} {'skipped':>9}"
    each = seconds / notebooks
    return f"  {label:<34} {seconds:8.1f} s  {each:6.2f} s/notebook  {note}".rstrip()


def report(figures: dict[str, Any]) -> None:
    n = figures["notebooks"]
    stock, fast = figures["stock_s"], figures["filmkit_s"]
    floor = figures["floor_s"]
    jobs = figures["jobs"]
    print()
    print(
        f"{figures['assignment']}: {figures['submissions']} submissions, {n} notebooks "
        f"(specimens: {', '.join(figures['specimens'])})"
    )
    print(row("stock nbgrader autograde", stock, n))
    runs = " and ".join(f"{t:.1f}" for t in figures["filmkit_runs_s"])
    before_after = f"mean of {runs} s, before and after stock" if stock is not None else ""
    print(row(f"filmkit grade --jobs {jobs}", fast, n, before_after))
    print(row(f"true floor: {jobs} warm forks", floor, n, f"load {figures.get('load_floor')}"))
    cluster = figures.get("cluster_s")
    print(
        row(
            f"filmkit on Dask: 1 worker x {jobs}",
            cluster,
            n,
            figures.get("cluster_mode", ""),
        )
    )
    if stock is not None:
        print(
            f"  ratio stock / filmkit: {figures['ratio']:.1f}x "
            f"({n / stock * 60:.1f} vs {n / fast * 60:.1f} notebooks per minute)"
        )
    if floor is not None:
        print(
            f"  ratio filmkit / floor: {fast / floor:.2f}x (aim: within {FLOOR_AIM}x; the floor "
            "runs the same cells in forks of one warm process: no kernel protocol, nbgrader, "
            f"sandbox or judge; {figures['floor_failed']} fork(s) did not exit cleanly)"
        )
    if cluster is not None:
        print(f"  ratio cluster / filmkit local: {cluster / fast:.2f}x")
    if figures.get("scale"):
        print(
            "  scale (each run a filmkit grade process of its own; memory: the grader's peak RSS)"
        )
        print(
            f"    {'submissions':>11} {'notebooks':>9} {'where':<8} {'time':>8} {'nb/min':>7} "
            f"{'peak MiB':>8} {'grader CPU/nb':>13}"
        )
        for entry in figures["scale"]:
            per_minute = entry["notebooks"] / entry["seconds"] * 60
            print(
                f"    {entry['submissions']:>11} {entry['notebooks']:>9} {entry['where']:<8} "
                f"{entry['seconds']:>6.1f} s {per_minute:>7.1f} {entry['peak_mib']:>8.1f} "
                f"{entry['cpu_s'] / entry['notebooks'] * 1000:>10.0f} ms"
                + (f"  ({entry['failed']} failed)" if entry["failed"] else "")
            )
    if "judge_s_per_notebook" in figures:
        judge, wall = figures["judge_s_per_notebook"], figures["notebook_wall_s"]
        print(
            f"  judge: {judge * 1000:.0f} ms per notebook, of {wall * 1000:.0f} ms in its worker "
            f"({judge / wall:.0%}; from each test's data to its verdict, summed)"
        )
    print(f"  sandbox: {figures['sandbox']}")
    print(f"  workers: {figures['templates']}")
    print(f"  filmkit statuses: {figures['statuses']}")
    print(
        f"  machine: {figures['cpus']} CPUs, load average (1/5/15 min) "
        f"{figures['load_start']} at start, {figures['load_end']} at end"
    )


def verdict(figures: dict[str, Any], differences: list[str]) -> int:
    if figures["stock_s"] is None:
        print("stock nbgrader skipped: scores not compared, no ratio")
        return 0
    failed = 0
    print(
        f"grade cells compared: {figures['grade_cells_compared']}, differences: {len(differences)}"
    )
    for line in differences[:10]:
        print(f"  {line}")
    if differences:
        print(f"FAIL: {len(differences)} score difference(s) between stock nbgrader and filmkit")
        failed = 1
    ratio = figures["ratio"]
    if ratio < TARGET:
        print(f"FAIL: filmkit is {ratio:.1f}x as fast as stock nbgrader; the target is {TARGET}x")
        failed = 1
    if not failed:
        print(f"OK: identical scores, {ratio:.1f}x stock nbgrader's throughput (target {TARGET}x)")
    return failed


# --------------------------------------------------------------------------- main


def run(args: argparse.Namespace, scratch: Path) -> tuple[dict[str, Any], list[str]]:
    from filmkit.course.specimens import load_specimens

    figures: dict[str, Any] = {
        "assignment": args.assignment,
        "submissions": args.submissions,
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "load_start": load(),
        "specimens": [s.student for s in load_specimens(args.assignment)],
    }
    say(f"building the course with {args.submissions} submissions in {scratch}")
    build_course(scratch / "base", args.assignment, args.submissions)
    figures["notebooks"] = args.submissions * notebooks_per_submission(
        scratch / "base", args.assignment
    )
    runs = ("fast",) if args.skip_stock else ("fast", "stock", "fast-after")
    for copy in runs:
        shutil.copytree(scratch / "base", scratch / copy)
    warm_imports()

    say(f"filmkit grade, {args.jobs} jobs")
    figures["load_filmkit"] = load()
    fast_s, fast, templates = time_fast(scratch / "fast", args.assignment, args.jobs)
    figures.update(filmkit_s=round(fast_s, 2), filmkit_runs_s=[round(fast_s, 2)])
    figures.update(sandbox=fast.sandbox, templates=describe_templates(templates))
    walls = [r.wall_s for r in fast.runs]
    judged = [r.judge_s for r in fast.runs]
    if walls:
        figures["notebook_wall_s"] = round(sum(walls) / len(walls), 4)
        figures["judge_s_per_notebook"] = round(sum(judged) / len(judged), 4)
    statuses: dict[str, int] = {}
    for student in fast.students:
        status = fast.outcome(student).status
        statuses[status] = statuses.get(status, 0) + 1
    figures["statuses"] = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))

    differences: list[str] = []
    figures.update(stock_s=None, ratio=None)
    if not args.skip_stock:
        say("stock nbgrader autograde, one student at a time")
        figures["load_stock"] = load()
        stock_s, stock = time_stock(scratch / "stock", args.assignment)
        say(f"filmkit grade again, {args.jobs} jobs, on its own copy")
        after_s, after, _ = time_fast(scratch / "fast-after", args.assignment, args.jobs)
        mean_s = (fast_s + after_s) / 2
        figures.update(
            filmkit_s=round(mean_s, 2), filmkit_runs_s=[round(fast_s, 2), round(after_s, 2)]
        )
        figures.update(stock_s=round(stock_s, 2), ratio=round(stock_s / mean_s, 2))
        compared, differences = compare(stock, fast)
        differences += compare(stock, after)[1]
        figures["grade_cells_compared"], figures["differences"] = compared, differences

    figures.update(cluster_s=None, scale=[])
    with local_cluster(args.jobs) if not args.skip_cluster else contextlib.nullcontext() as address:
        if address:
            say(f"filmkit grade on a local Dask cluster (1 worker, {args.jobs} threads)")
            shutil.copytree(scratch / "base", scratch / "cluster")
            figures["load_cluster"] = load()
            cluster_s, on_cluster = time_cluster(scratch / "cluster", args.assignment, address)
            figures.update(cluster_s=round(cluster_s, 2), cluster_mode=on_cluster.sandbox)
            if not args.skip_stock:
                figures["differences"] = differences = differences + compare(stock, on_cluster)[1]
        if not args.skip_scale:
            sizes = [60, 300] + ([1000] if args.large else [])
            figures["scale"] = scale_table(scratch, args.assignment, sizes, args.jobs, address)

    figures.update(floor_s=None, floor_failed=0)
    if not args.skip_floor:
        graded = scratch / ("fast" if args.skip_stock else "stock")
        notebooks = sanitized_notebooks(graded, args.assignment)
        say(
            f"true floor: {len(notebooks)} notebooks in forks of one warm process, {args.jobs} at a time"
        )
        figures["load_floor"] = load()
        floor_s, failed = time_floor(notebooks, args.jobs)
        figures.update(floor_s=round(floor_s, 2), floor_failed=failed)
    figures["load_end"] = load()
    return figures, differences


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assignment", default="01-genre-shifts")
    parser.add_argument("--submissions", type=int, default=60, metavar="N")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-stock", action="store_true", help="time filmkit only")
    parser.add_argument("--skip-floor", action="store_true", help="no true-floor run")
    parser.add_argument("--skip-cluster", action="store_true", help="no Dask cluster runs")
    parser.add_argument("--skip-scale", action="store_true", help="no scale table")
    parser.add_argument("--large", action="store_true", help="the scale table with 1,000 too")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cluster", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures here")
    args = parser.parse_args()
    quiet()
    if args.child:
        child(args.child, args.assignment, args.jobs, args.cluster)
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="filmkit-bench-grade-"))
    try:
        figures, differences = run(args, scratch)
    finally:
        if args.keep:
            print(f"courses kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return verdict(figures, differences)


if __name__ == "__main__":
    sys.exit(main())
