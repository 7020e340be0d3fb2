"""`filmkit grade --cluster` across hosts: a scheduler and two workers, each on its own host.

The hosts are network namespaces on this machine (``ip netns``), each joined to a bridge by a veth
pair, with its own address on a private subnet: the scheduler at .2, the workers at .3 and .4, the
grader (this process, outside every namespace) at .1 on the bridge. Nothing is on loopback, so
every party needs TLS and certificates: the scheduler and workers are started by
``filmkit cluster`` with those ``filmkit cluster certs`` made, and the grader names its own in
``nbgrader_config.py``. The run is the ``filmkit grade`` command; the scores must be those of
local grading, and both workers must have graded. Root only (namespaces); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from filmkit.course.folder import load_course
from filmkit.grading import grade
from filmkit.grading.cluster import InsecureCluster
from filmkit.grading.tls import make_certificates

from .test_grade_cluster import (
    ASSIGNMENT,
    FILMKIT,
    LocalReference,
    assert_same_grades,
    class_course,
    filmkit_process,
    tls_args,
    use_client_certificates,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("ip") is None,
        reason="network namespaces need root and iproute2's ip (CI runs as root)",
    ),
]


HOST_NUMBERS = {"grader": 1, "scheduler": 2, "worker-1": 3, "worker-2": 4}


@dataclass(frozen=True)
class Hosts:
    subnet: str  # "10.231.17" : the hosts are .1 (the grader, on the bridge), .2, .3, .4
    namespaces: dict[str, str]  # role → namespace name

    def address(self, role: str) -> str:
        return f"{self.subnet}.{HOST_NUMBERS[role]}"

    def run_in(self, role: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespaces[role]]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    tag = secrets.token_hex(2)
    subnet = f"10.231.{int(tag, 16) % 250 + 1}"
    bridge = f"fkbr{tag}"
    roles = ("scheduler", "worker-1", "worker-2")
    found = Hosts(subnet, {role: f"fk{tag}-{k}" for k, role in enumerate(roles)})
    made: list[str] = []
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{found.address('grader')}/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for k, role in enumerate(roles):
            namespace, outside, inside = found.namespaces[role], f"fk{tag}o{k}", f"fk{tag}i{k}"
            _ip("netns", "add", namespace)
            made.append(namespace)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", namespace)
            _ip("link", "set", outside, "master", bridge)
            _ip("link", "set", outside, "up")
            inner = ["netns", "exec", namespace, "ip"]
            _ip(*inner, "addr", "add", f"{found.address(role)}/24", "dev", inside)
            _ip(*inner, "link", "set", inside, "up")
            _ip(*inner, "link", "set", "lo", "up")
        yield found
    finally:
        for namespace in made:  # its veth end goes with it, and the peer with that
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "delete", namespace)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "delete", bridge)


def test_grading_across_three_hosts_over_tls_scores_as_local_grading(
    hosts: Hosts, tmp_path: Path
) -> None:
    certs = make_certificates(tmp_path / "certs")
    on_cluster = class_course(tmp_path / "course", [ASSIGNMENT], copies=2)
    use_client_certificates(on_cluster, certs)
    scheduler_host = hosts.address("scheduler")
    scheduler_args = ["cluster", "scheduler", "--host", scheduler_host, "--port", "8786"]
    with filmkit_process(
        [*scheduler_args, *tls_args(certs, "scheduler")], prefix=hosts.run_in("scheduler")
    ) as (_, address):
        assert address == f"tls://{scheduler_host}:8786"
        with contextlib.ExitStack() as workers:
            for k, role in enumerate(("worker-1", "worker-2")):
                worker_args = ["cluster", "worker", address, "--name", str(k)]
                workers.enter_context(
                    filmkit_process(
                        [*worker_args, "--host", hosts.address(role), *tls_args(certs, "worker")],
                        prefix=hosts.run_in(role),
                    )
                )
            # off loopback, plain TCP is refused before anything is sent
            with pytest.raises(InsecureCluster):
                grade.main(ASSIGNMENT, course=on_cluster, cluster=f"tcp://{scheduler_host}:8786")
            command = subprocess.run(
                [*FILMKIT, "grade", ASSIGNMENT, "--course", str(on_cluster), "--cluster", address],
                capture_output=True,
                text=True,
                timeout=600,
                env={**os.environ, "COLUMNS": "250"},  # the table's caption on one line
            )
            assert command.returncode == 0, command.stderr[-3000:]
            assert f"Notebooks run on the dask cluster at {address}: 2 worker(s)" in command.stdout
            again = grade.main(ASSIGNMENT, course=on_cluster, cluster=address, force=True)
    graded_on = {run.worker.split("//")[1].rsplit(":", 1)[0] for run in again.runs}
    assert graded_on == {hosts.address("worker-1"), hosts.address("worker-2")}
    here = LocalReference(tmp_path / "local").grades(ASSIGNMENT, copies=2)
    assert_same_grades(again, here)
    assert len(grade.scores(load_course(on_cluster), ASSIGNMENT)) == len(here.scores)
