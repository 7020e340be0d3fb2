"""`filmkit grade --cluster`: grading on a real Dask cluster's workers, as local grading grades.

Real clusters on loopback: ``distributed.LocalCluster`` (a scheduler, and worker processes under
nannies) and the scheduler and workers ``filmkit cluster`` starts as separate processes, over TLS
with certificates from ``filmkit cluster certs``. Each course is handed in twice from the same
specimens, one copy graded by this machine's workers, the other on the cluster: every grade cell
must score the same. Then the faults: a worker that differs from the grader (other source texts),
a worker killed mid-run, the scheduler killed mid-run and the run resumed; the rule that a
cluster off loopback needs TLS. Several hosts (network namespaces): ``test_grade_cluster_hosts``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster
from distributed.security import Security

from filmkit.cli import main as cli
from filmkit.corpus import load_corpus
from filmkit.course.folder import CONFIG_FILE, load_course
from filmkit.course.specimens import hand_in, load_specimens
from filmkit.grading import grade
from filmkit.grading.cluster import (
    ClusterError,
    ClusterLost,
    InsecureCluster,
    WorkersRefused,
    check_secure,
    client_security,
)
from filmkit.grading.cluster_worker import PLUGIN, GradingEngine, WorkerRefused
from filmkit.grading.identity import this_machine
from filmkit.grading.staging import Staging
from filmkit.grading.tls import make_certificates
from filmkit.provenance import count_words, sha256_text

from .conftest import REPO
from .test_grade_fast import ASSIGNMENTS, new_course

KEY = ["student", "notebook", "question"]
COMPARED = ["auto_score", "score", "max_score", "needs_manual_grade", "failed_tests"]
FILMKIT = [sys.executable, "-m", "filmkit.cli"]
ASSIGNMENT = ASSIGNMENTS[0]


# --- courses ---------------------------------------------------------------------------------


def hand_in_class(root: Path, assignment: str, copies: int) -> list[str]:
    """Every specimen of ``assignment`` handed in ``copies`` times (students ``<specimen>-k``)."""
    course = load_course(root)
    students = []
    for k in range(copies):
        for specimen in load_specimens(assignment):
            student = f"{specimen.student}-{k}"
            hand_in(course, dataclasses.replace(specimen, student=student))
            students.append(student)
    return students


def class_course(base: Path, assignments: list[str], copies: int = 1) -> Path:
    """A course with ``assignments`` released and their specimens handed in ``copies`` times."""
    root = new_course(base, assignments)
    for assignment in assignments:
        hand_in_class(root, assignment, copies)
    return root


class LocalReference:
    """The same classes graded by this machine's workers, once per module: what every grade on
    a cluster is compared with."""

    def __init__(self, base: Path) -> None:
        self.base, self.graded = base, dict[tuple[str, int], grade.GradeSummary]()

    def grades(self, assignment: str, copies: int = 1) -> grade.GradeSummary:
        if (assignment, copies) not in self.graded:
            root = class_course(self.base / f"{assignment}-{copies}", [assignment], copies)
            self.graded[assignment, copies] = grade.main(assignment, course=root, jobs=2)
        return self.graded[assignment, copies]


def grade_cells(summary: grade.GradeSummary) -> pd.DataFrame:
    table = summary.scores[KEY + COMPARED].sort_values(KEY).reset_index(drop=True)
    return table.astype({"failed_tests": str})


def assert_same_grades(remote: grade.GradeSummary, here: grade.GradeSummary) -> None:
    assert len(remote.scores) > 0
    pd.testing.assert_frame_equal(grade_cells(remote), grade_cells(here))
    statuses = remote.totals()[["student", "status"]].sort_values("student")
    expected = here.totals()[["student", "status"]].sort_values("student")
    assert statuses.values.tolist() == expected.values.tolist()


# --- clusters --------------------------------------------------------------------------------


def local_cluster(workers: int = 2) -> LocalCluster:
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # never 8787 on every interface
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def filmkit_process(
    args: list[str], env: Mapping[str, str] | None = None, *, prefix: list[str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``filmkit <args>`` (a scheduler or a worker) running until the block ends: the process
    and the address it printed once listening; killed with its process group at the end."""
    process = subprocess.Popen(
        [*(prefix or []), *FILMKIT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "filmkit cluster scheduler at tls://…"
        assert " at " in line, f"{args} printed {line!r} (exit status {process.poll()})"
        yield process, line.rsplit(" at ", 1)[1].strip()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def tls_args(certs: Mapping[str, Path], role: str) -> list[str]:
    return ["--tls-ca-file", str(certs["ca"]), "--tls-cert", str(certs[role])]


def use_client_certificates(root: Path, certs: Mapping[str, Path]) -> None:
    """The course's nbgrader_config.py names the grader's certificates, as an instructor's would."""
    with (root / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write(
            f"\nc.GradingCluster.tls_ca_file = {str(certs['ca'])!r}\n"
            f"c.GradingCluster.tls_cert_file = {str(certs['client'])!r}\n"
        )


def workers_of(address: str, security: object = None) -> set[str]:
    with Client(address, security=security, set_as_default=False) as client:
        return set(client.scheduler_info()["workers"])


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> LocalReference:
    return LocalReference(tmp_path_factory.mktemp("local-reference"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with local_cluster() as running:
        yield running


# --- grading on a cluster --------------------------------------------------------------------


@pytest.mark.slow
def test_scores_on_a_cluster_equal_local_grading_cell_by_cell(
    cluster: LocalCluster, local: LocalReference, tmp_path: Path
) -> None:
    on_cluster = class_course(tmp_path / "course", ASSIGNMENTS)
    graded_on: set[str] = set()
    for assignment in ASSIGNMENTS:
        remote = grade.main(assignment, course=on_cluster, cluster=cluster.scheduler_address)
        here = local.grades(assignment)
        assert remote.sandbox.startswith(f"dask cluster at {cluster.scheduler_address}: 2 worker")
        assert "bwrap" in remote.sandbox
        assert not remote.failed
        assert_same_grades(remote, here)
        assert {r.student for r in remote.runs} == set(remote.students)
        graded_on |= {r.worker for r in remote.runs}
    assert graded_on == workers_of(cluster.scheduler_address)  # both workers graded
    with Client(cluster.scheduler_address, set_as_default=False) as client:  # the run is over:
        engines = client.run(lambda dask_worker: PLUGIN in dask_worker.plugins)
    assert engines == dict.fromkeys(graded_on, False)  # its engines and fork servers are gone
    # nbgrader's files, where nbgrader puts them: the same as local grading's
    for assignment in ASSIGNMENTS:
        reference = local.base / f"{assignment}-1"
        for step in ("autograded", "submitted"):
            pattern = f"{step}/*/{assignment}/**/*"
            ours = sorted(p.relative_to(on_cluster) for p in on_cluster.glob(pattern))
            assert ours == sorted(p.relative_to(reference) for p in reference.glob(pattern))


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing_and_commits_nothing_twice(
    local: LocalReference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = local.grades(ASSIGNMENT, copies=2)
    on_cluster = class_course(tmp_path / "course", [ASSIGNMENT], copies=2)
    commits = Counter[str]()
    original = Staging.commit

    def counted(self: Staging, student: str, record: object = None) -> None:
        if self.root.is_relative_to(on_cluster):  # not the local twin's
            commits[student] += 1
        original(self, student, record)  # type: ignore[arg-type]

    monkeypatch.setattr(Staging, "commit", counted)
    killed: list[str] = []
    with local_cluster() as running, Client(running) as client:

        def kill_a_busy_worker(student: str, done: int, total: int) -> None:
            if killed:
                return
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(busy[0])

        remote = grade.main(
            ASSIGNMENT,
            course=on_cluster,
            cluster=running.scheduler_address,
            progress=kill_a_busy_worker,
        )
        client.wait_for_workers(2, timeout=60)  # its nanny started a new one
    assert killed, "no worker was busy when the first student was committed"
    assert_same_grades(remote, here)
    assert not remote.failed
    assert set(commits) == set(remote.students) and set(commits.values()) == {1}


@pytest.mark.slow
def test_the_scheduler_lost_stops_the_run_and_the_next_run_resumes_over_tls(
    local: LocalReference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = local.grades(ASSIGNMENT, copies=2)
    certs = make_certificates(tmp_path / "certs")
    on_cluster = class_course(tmp_path / "course", [ASSIGNMENT], copies=2)
    use_client_certificates(on_cluster, certs)
    port = free_port()
    committed: list[str] = []
    original = Staging.commit

    def recorded(self: Staging, student: str, record: object = None) -> None:
        original(self, student, record)  # type: ignore[arg-type]
        if self.root.is_relative_to(on_cluster):  # not the local twin's
            committed.append(student)

    monkeypatch.setattr(Staging, "commit", recorded)
    scheduler_args = ["cluster", "scheduler", "--port", str(port), *tls_args(certs, "scheduler")]
    with filmkit_process(scheduler_args) as (scheduler, address):
        assert address == f"tls://127.0.0.1:{port}"
        plain = f"tcp://127.0.0.1:{port}"
        # no client gets in without a certificate of the course's authority
        strangers = make_certificates(tmp_path / "another-authority")
        stranger = Security(
            require_encryption=True,
            tls_ca_file=str(certs["ca"]),
            tls_client_cert=str(strangers["client"]),
        )
        for attempt in ({"address": address, "security": stranger}, {"address": plain}):
            with pytest.raises((OSError, TimeoutError)):
                Client(**attempt, timeout=3, set_as_default=False)  # type: ignore[arg-type]
        worker_args = ["cluster", "worker", address, "--nthreads", "2", *tls_args(certs, "worker")]
        with filmkit_process(worker_args):

            def kill_the_scheduler(student: str, done: int, total: int) -> None:
                if done == 2:
                    os.killpg(scheduler.pid, signal.SIGKILL)

            with pytest.raises(ClusterLost) as lost:
                grade.main(
                    ASSIGNMENT, course=on_cluster, cluster=address, progress=kill_the_scheduler
                )
    message = str(lost.value)
    assert address in message and "Run the same command again" in message
    students = sorted(p.name for p in (on_cluster / "submitted").iterdir())
    assert 2 <= len(committed) < len(students)
    assert set(grade.scores(load_course(on_cluster), ASSIGNMENT)["student"]) == set(committed)
    # a new scheduler at the same address; the run given again resumes
    with (
        filmkit_process(scheduler_args),
        filmkit_process(["cluster", "worker", address, *tls_args(certs, "worker")]),
    ):
        first = list(committed)
        resumed = grade.main(ASSIGNMENT, course=on_cluster, cluster=address)
    assert set(resumed.skipped) == set(first)  # what was committed is not graded again
    assert sorted(committed[len(first) :]) == sorted(set(students) - set(first))
    assert not resumed.failed
    assert_same_grades(resumed, here)


@pytest.mark.slow
def test_a_worker_with_other_source_texts_refuses_and_the_run_names_it(
    local: LocalReference, tmp_path: Path
) -> None:
    altered = altered_corpus(tmp_path / "altered")
    on_cluster = class_course(tmp_path / "course", [ASSIGNMENT])
    port = free_port()
    scheduler_args = ["cluster", "scheduler", "--port", str(port)]
    with filmkit_process(scheduler_args) as (scheduler, address):
        other_texts = {"FILMKIT_ROOT": str(altered)}
        with filmkit_process(["cluster", "worker", address], other_texts) as (odd_worker, odd):
            with pytest.raises(WorkersRefused) as refused:
                grade.main(ASSIGNMENT, course=on_cluster, cluster=address)
            assert odd in str(refused.value) and "other source texts" in str(refused.value)
            # what the scheduler and the worker (nanny and its process) listen on beside
            # their comm ports: loopback only (Dask's HTTP server is unencrypted)
            for pid in (scheduler.pid, odd_worker.pid):
                extra = {a for a in listening(pid) if a not in (address, odd)}
                assert extra and all(a.startswith("tcp://127.0.0.1:") for a in extra), extra
                assert not any(a.endswith(":8787") for a in listening(pid))
            assert grade.scores(load_course(on_cluster), ASSIGNMENT).empty  # nothing graded
            # beside a worker that is like the grader, it is named once and given nothing
            with filmkit_process(["cluster", "worker", address]) as (_, good):
                said: list[str] = []
                remote = grade.main(
                    ASSIGNMENT, course=on_cluster, cluster=address, message=said.append
                )
    assert [line for line in said if odd in line and "refuses" in line]
    assert {r.worker for r in remote.runs} == {good}
    assert_same_grades(remote, local.grades(ASSIGNMENT))


def listening(pid: int) -> set[str]:
    """The TCP addresses ``pid`` and its descendants listen on, as ``tcp://host:port``."""
    family = {pid}
    for _ in range(3):  # a nanny's worker, and what it started
        for parent in list(family):
            for task in Path(f"/proc/{parent}/task").glob("*"):
                children = (task / "children").read_text().split()
                family |= {int(c) for c in children}
    table = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in table.splitlines():
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if pids & family:
            local = line.split()[3]
            found.add(f"tcp://{local}")
    return found


def altered_corpus(root: Path) -> Path:
    """A copy of the corpus with one text changed and the manifest made to match it: it
    verifies, but it is not the grader's corpus."""
    texts = root / "source_texts"
    shutil.copytree(REPO / "source_texts", texts)
    with (texts / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    path = texts / f"{first['id']}.txt"
    text = path.read_text(encoding="utf-8") + "\nA sentence no critic wrote.\n"
    path.write_text(text, encoding="utf-8")
    first["sha256"], first["words"] = sha256_text(text), str(count_words(text))
    with (texts / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    load_corpus(root)  # it verifies
    return root


# --- what a worker proves, and refuses --------------------------------------------------------


def test_identities_name_what_differs() -> None:
    mine = this_machine()
    assert mine.differences(mine) == []
    libraries = tuple((n, "0.0" if n == "pandas" else v) for n, v in mine.libraries)
    other = dataclasses.replace(
        mine, filmkit_version="0.0.1", libraries=libraries, corpus_digest="0" * 64
    )
    found = other.differences(mine)
    assert f"filmkit 0.0.1 (the grader has {mine.filmkit_version})" in found
    assert any(f.startswith("pandas 0.0 (the grader has ") for f in found)
    assert any(f.startswith("other source texts") for f in found)
    edited = dataclasses.replace(mine, filmkit_digest="f" * 64)
    assert edited.differences(mine)[0].startswith(f"filmkit {mine.filmkit_version} with other")


def test_an_engine_refuses_jobs_made_from_other_sources() -> None:
    engine = GradingEngine(options={}, identity={}, sources="this-run", cgroups="off")
    engine.address = "tcp://127.0.0.1:1"
    with pytest.raises(WorkerRefused, match="other sources of this assignment"):
        engine.grade({"cells": [], "files": {}}, "an-older-run")
    engine.refusal = "it has other source texts"
    with pytest.raises(
        WorkerRefused, match=re.escape("tcp://127.0.0.1:1 refuses to grade: it has other")
    ):
        engine.grade({"cells": [], "files": {}}, "this-run")


# --- security --------------------------------------------------------------------------------


def test_a_cluster_off_loopback_needs_tls_with_certificates(tmp_path: Path) -> None:
    certs = make_certificates(tmp_path)
    for address in ("tcp://127.0.0.1:8786", "tcp://localhost:8786", "tcp://[::1]:8786"):
        check_secure(address, None)
    with pytest.raises(InsecureCluster, match=r"not on this machine.*tls://"):
        check_secure("tcp://10.20.30.40:8786", None)
    with pytest.raises(InsecureCluster):  # TLS without certificates is not enough
        check_secure("tls://10.20.30.40:8786", None)
    check_secure("tls://10.20.30.40:8786", client_security(str(certs["ca"]), str(certs["client"])))
    with pytest.raises(InsecureCluster, match="certificate authority"):
        client_security("", str(certs["client"]))


def test_filmkit_cluster_refuses_to_listen_off_loopback_without_tls() -> None:
    result = CliRunner().invoke(cli, ["cluster", "scheduler", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "is not on this machine" in result.output and "tls://" in result.output
    result = CliRunner().invoke(cli, ["cluster", "worker", "tcp://192.0.2.7:8786"])
    assert result.exit_code == 2 and "deploy/dask.md" in result.output
    # a worker of a scheduler on loopback, asked to listen on every interface without TLS
    args = ["cluster", "worker", "tcp://127.0.0.1:8786", "--host", "0.0.0.0"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "a worker listening at tcp://0.0.0.0:0" in result.output


def test_grade_refuses_a_remote_scheduler_without_tls_before_connecting(tmp_path: Path) -> None:
    on_cluster = new_course(tmp_path / "course", [ASSIGNMENT])
    hand_in_class(on_cluster, ASSIGNMENT, 1)
    started = threading.Event()
    with pytest.raises(InsecureCluster):
        grade.main(
            ASSIGNMENT,
            course=on_cluster,
            cluster="tcp://192.0.2.7:8786",  # TEST-NET-1: nothing answers there
            progress=lambda *_: started.set(),
        )
    assert not started.is_set()
    assert grade.scores(load_course(on_cluster), ASSIGNMENT).empty


def test_certificates_are_made_once_and_keys_kept_private(tmp_path: Path) -> None:
    certs = make_certificates(tmp_path)
    assert {k: p.name for k, p in certs.items()} == {
        "ca": "ca.pem",
        "ca-key": "ca-key.pem",
        "scheduler": "scheduler.pem",
        "worker": "worker.pem",
        "client": "client.pem",
    }
    for role in ("ca-key", "scheduler", "worker", "client"):
        assert certs[role].stat().st_mode & 0o077 == 0, role
    with pytest.raises(FileExistsError):
        make_certificates(tmp_path)
    result = CliRunner().invoke(cli, ["cluster", "certs", str(tmp_path)])
    assert result.exit_code == 1 and "exists" in result.output


@pytest.mark.slow
def test_a_scheduler_without_workers_or_not_there_stops_the_run_before_grading(
    tmp_path: Path,
) -> None:
    root = class_course(tmp_path / "course", [ASSIGNMENT])
    with (root / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write("\nc.GradingCluster.timeout = 3\n")
    with (
        local_cluster(workers=0) as empty,
        pytest.raises(ClusterError, match="has no worker after 3 s"),
    ):
        grade.main(ASSIGNMENT, course=root, cluster=empty.scheduler_address)
    nothing_there = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(
        ClusterError, match=re.escape(f"cannot reach the Dask scheduler at {nothing_there}")
    ):
        grade.main(ASSIGNMENT, course=root, cluster=nothing_there)
    assert grade.scores(load_course(root), ASSIGNMENT).empty
    assert not (root / "autograded").exists()
