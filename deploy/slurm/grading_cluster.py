"""A grading cluster on SLURM: a Dask scheduler here, its workers as SLURM jobs (dask-jobqueue).

Run it on a login node (or any node the compute nodes reach), from the kit's checkout, with the
cluster's certificates (``filmkit cluster certs DIR``, on a file system every node reads, the
keys readable by you only):

    uv sync --extra slurm
    uv run python deploy/slurm/grading_cluster.py --certs ~/.filmkit-dask --jobs 4 \\
        --cores 8 --memory 32GB --walltime 02:00:00 --partition short

It prints the scheduler's ``tls://`` address and keeps the cluster up until interrupted (Ctrl-C
cancels the SLURM jobs). In another shell, grade on it:

    filmkit grade 01-genre-shifts --cluster tls://login1:8786

with ``c.GradingCluster.tls_ca_file`` / ``tls_cert_file`` naming ``ca.pem`` and ``client.pem`` in
the course's ``nbgrader_config.py``. Each job is one Dask worker with one thread per core: each
thread is a grading slot (a sandbox and a judge). The workers need the kit's environment (the
same ``uv.lock``: ``--python``) and the source texts (``--root``) on a shared file system, and
bubblewrap on the compute nodes; nothing else of the course.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any


def make_cluster(args: argparse.Namespace) -> Any:
    """The ``dask_jobqueue.SLURMCluster`` these arguments describe (no job submitted yet)."""
    from dask_jobqueue import SLURMCluster
    from distributed.security import Security

    certs = Path(args.certs)
    # each .pem holds its key and certificate; the key is named too, as jobqueue writes
    # `--tls-key` into the job script whatever it is
    roles = {role: str(certs / f"{role}.pem") for role in ("scheduler", "worker", "client")}
    security = Security(
        require_encryption=True,
        tls_ca_file=str(certs / "ca.pem"),
        **{f"tls_{role}_{part}": path for role, path in roles.items() for part in ("cert", "key")},
    )
    return SLURMCluster(
        protocol="tls://",
        security=security,
        # Dask's HTTP server (metrics, dashboard) is unencrypted: on loopback only, any port
        scheduler_options={"port": args.port, "dashboard_address": "127.0.0.1:0"}
        | ({"host": args.host} if args.host else {}),
        cores=args.cores,
        processes=1,  # one worker per job, one grading slot per core
        memory=args.memory,
        walltime=args.walltime,
        queue=args.partition,
        account=args.account,
        python=args.python,
        job_script_prologue=[f"export FILMKIT_ROOT={args.root}"],
        worker_extra_args=["--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
        log_directory=args.logs,
    )


def parser() -> argparse.ArgumentParser:
    here = Path(__file__).resolve().parents[2]
    made = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    made.add_argument("--certs", required=True, help="the folder `filmkit cluster certs` wrote")
    made.add_argument("--jobs", type=int, default=1, help="SLURM jobs (workers) to start")
    made.add_argument("--cores", type=int, default=4, help="cores per job: its grading slots")
    made.add_argument("--memory", default="16GB", help="memory per job")
    made.add_argument("--walltime", default="01:00:00")
    made.add_argument("--partition", default=None)
    made.add_argument("--account", default=None)
    made.add_argument("--host", default=None, help="the scheduler's address (default: this node)")
    made.add_argument("--port", type=int, default=8786)
    made.add_argument("--python", default=str(here / ".venv" / "bin" / "python"))
    made.add_argument("--root", default=str(here), help="where source_texts/ is, on every node")
    made.add_argument("--logs", default=str(Path.home() / "filmkit-dask-logs"))
    return made


def main() -> int:
    args = parser().parse_args()
    cluster = make_cluster(args)
    cluster.scale(jobs=args.jobs)
    print(f"filmkit grading cluster at {cluster.scheduler_address} ({args.jobs} SLURM job(s))")
    print("grade with: filmkit grade ASSIGNMENT --cluster", cluster.scheduler_address, flush=True)
    try:
        signal.pause()  # until Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
