"""deploy/kubernetes: the Zero to JupyterHub values and the formgrader manifests parse, use only
values the chart documents, and agree with the course they deploy.

The chart's documented values (``CHART_KEYS``) are the key paths of its ``values.schema.yaml``
in chart 4.4.0 (JupyterHub 5.5.0, the version deploy/README.md installs) that these files use;
below ``FREE_FORM`` keys the chart takes any value (traitlets configuration, Kubernetes
objects). When that version changes, re-read its schema and update both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from filmkit.course.folder import load_course
from tests.conftest import REPO

DEPLOY = REPO / "deploy" / "kubernetes"
CHART_KEYS = {
    "hub", "hub.db", "hub.db.type", "hub.db.url", "hub.config", "hub.services", "hub.loadRoles",
    "singleuser", "singleuser.image", "singleuser.image.name", "singleuser.image.tag",
    "singleuser.image.pullPolicy", "singleuser.defaultUrl", "singleuser.startTimeout",
    "singleuser.memory", "singleuser.memory.guarantee", "singleuser.memory.limit",
    "singleuser.cpu", "singleuser.cpu.limit", "singleuser.storage", "singleuser.storage.type",
    "singleuser.storage.capacity", "singleuser.storage.extraVolumes",
    "singleuser.storage.extraVolumeMounts", "singleuser.extraFiles", "singleuser.extraEnv",
    "singleuser.networkPolicy", "singleuser.networkPolicy.enabled", "proxy", "proxy.https",
    "proxy.https.enabled", "proxy.https.hosts", "proxy.https.letsencrypt",
    "proxy.https.letsencrypt.contactEmail", "cull", "cull.enabled", "cull.timeout",
    "scheduling", "scheduling.userScheduler", "scheduling.userScheduler.enabled", "prePuller",
    "prePuller.hook", "prePuller.hook.enabled",
}  # fmt: skip
FREE_FORM = {
    "hub.config", "hub.services", "hub.loadRoles", "singleuser.extraFiles", "singleuser.extraEnv",
}  # fmt: skip


def _paths(node: Any, prefix: str = "") -> Iterator[str]:
    if not isinstance(node, dict) or prefix in FREE_FORM:
        return
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path
        yield from _paths(value, path)


def _values() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "config.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_values_use_only_what_the_chart_documents() -> None:
    used = set(_paths(_values()))
    assert used - CHART_KEYS == set()


def test_the_values_and_manifests_agree_with_the_course() -> None:
    values = _values()
    course_id = load_course(REPO / "assignments").course_id
    groups = values["hub"]["config"]["JupyterHub"]["load_groups"]
    assert set(groups) == {f"nbgrader-{course_id}", f"formgrade-{course_id}"}
    assert set(values["hub"]["services"]) == {course_id}
    roles = values["hub"]["loadRoles"]
    assert roles["formgrader"]["scopes"] == [f"access:services!service={course_id}"]
    student_config = values["singleuser"]["extraFiles"]["nbgrader-config"]["stringData"]
    assert f'course_id = "{course_id}"' in student_config
    assert "db_url" not in student_config  # a student's server never learns the gradebook
    exchange = re.search(r'Exchange.root = "([^"]+)"', student_config)
    assert exchange is not None
    mounts = values["singleuser"]["storage"]["extraVolumeMounts"]
    assert [m["mountPath"] for m in mounts] == [exchange.group(1)]
    manifests = list(yaml.safe_load_all((DEPLOY / "formgrader.yaml").read_text(encoding="utf-8")))
    kinds = {m["kind"]: m for m in manifests}
    assert set(kinds) == {"Deployment", "Service", "PersistentVolumeClaim"}
    claims = [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    shared = next(c for c in claims if c["metadata"]["name"] == "nbgrader-exchange")
    assert shared["spec"]["accessModes"] == ["ReadWriteMany"]
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["JUPYTERHUB_SERVICE_NAME"] == course_id
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == f"/services/{course_id}/"
    image = values["singleuser"]["image"]["name"]
    assert container["image"].startswith(image + ":")
    assert exchange.group(1) in [m["mountPath"] for m in container["volumeMounts"]]


def test_the_image_is_built_from_the_lock_file() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert re.search(r"uv sync --locked\b", dockerfile)
    assert "source_texts" in dockerfile and "FILMKIT_ROOT=/opt/filmkit" in dockerfile
    values = _values()
    assert values["singleuser"]["extraEnv"]["FILMKIT_ROOT"] == "/opt/filmkit"
    assert Path(REPO / "deploy" / "README.md").is_file()


# --- the grading cluster (deploy/dask.md) ----------------------------------------------------


def _containers(role: str) -> dict[str, Any]:
    cluster = yaml.safe_load((DEPLOY / "grading-cluster.yaml").read_text(encoding="utf-8"))
    assert (cluster["apiVersion"], cluster["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    [container] = cluster["spec"][role]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_the_kubernetes_grading_cluster_runs_filmkit_cluster_over_tls() -> None:
    from click.testing import CliRunner

    from filmkit.cli import main as cli

    scheduler, worker = _containers("scheduler"), _containers("worker")
    for container, role in ((scheduler, "scheduler"), (worker, "worker")):
        args = container["args"]
        assert args[:3] == ["filmkit", "cluster", role]
        mount = container["volumeMounts"][0]["mountPath"]
        assert _option(args, "--tls-ca-file") == f"{mount}/ca.pem"
        assert _option(args, "--tls-cert") == f"{mount}/{role}.pem"
        # the command line is one the CLI takes (its --help lists every option used)
        usage = CliRunner().invoke(cli, [*args[1:3], "--help"]).output
        assert all(a in usage for a in args if a.startswith("--"))
    address = worker["args"][3]
    assert address.startswith("tls://filmkit-grading-scheduler.") and address.endswith(":8786")
    assert _option(scheduler["args"], "--port") == "8786"
    assert worker["image"] == scheduler["image"]
    dockerfile = (DEPLOY / "grader.Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"uv sync --locked\b", dockerfile) and "bubblewrap" in dockerfile
    assert "FILMKIT_ROOT=/opt/filmkit" in dockerfile and "COPY source_texts/" in dockerfile


def test_the_slurm_cluster_submits_workers_of_this_environment_over_tls(tmp_path: Path) -> None:
    import importlib.util

    from filmkit.grading.tls import make_certificates

    path = REPO / "deploy" / "slurm" / "grading_cluster.py"
    spec = importlib.util.spec_from_file_location("grading_cluster", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    make_certificates(tmp_path / "certs")
    certs, logs = str(tmp_path / "certs"), str(tmp_path / "logs")
    args = module.parser().parse_args(
        ["--certs", certs, "--host", "127.0.0.1", "--port", "0", "--cores", "8", "--logs", logs]
    )
    cluster = module.make_cluster(args)  # a scheduler here; no job is submitted
    try:
        assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH --cpus-per-task=8" in script
    assert f"export FILMKIT_ROOT={REPO}" in script  # the default: this checkout
    [command] = [line for line in script.splitlines() if "dask_worker" in line]
    words = command.split()
    assert words[0] == str(REPO / ".venv" / "bin" / "python")
    assert _option(words, "--nthreads") == "8" and _option(words, "--protocol") == "tls://"
    for flag, role in (("--tls-cert", "worker"), ("--tls-key", "worker")):
        assert _option(words, flag) == str(tmp_path / "certs" / f"{role}.pem")
    assert _option(words, "--tls-ca-file") == str(tmp_path / "certs" / "ca.pem")
