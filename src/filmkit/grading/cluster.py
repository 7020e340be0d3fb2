"""Grading on a Dask cluster: ``filmkit grade ASSIGNMENT --cluster ADDRESS``.

    c.GradingCluster.scheduler = "tls://10.0.0.1:8786"
    c.GradingCluster.tls_ca_file = "/etc/filmkit/dask/ca.pem"
    c.GradingCluster.tls_cert_file = "/etc/filmkit/dask/client.pem"  # its key inside, or:
    c.GradingCluster.tls_key_file = ""

The ``filmkit grade`` process does what it does locally (reads the settings, screens and stages the
submissions, sanitizes each notebook, writes the gradebook: the one writer) with a
:class:`ClusterPool` in place of the local :class:`~filmkit.grading.pool.WorkerPool`: the same
``submit(NotebookJob) -> Future[RunResult]``. Each notebook's cells are run by the same engine
on a worker (:mod:`filmkit.grading.cluster_worker`), so scores are local grading's, cell by cell.

- **Proof.** The run registers the engine with the grader's
  :class:`~filmkit.grading.identity.EngineIdentity` and the digest of the assignment's sources;
  before it sends any notebook it asks every worker for its state and stops with
  :class:`WorkersRefused` (each worker and what differs) when none may grade. A worker that
  refuses while others grade is named once and given no more work; its notebooks go elsewhere.
- **Faults.** A worker that dies mid-notebook: the scheduler runs its tasks on another worker
  (Dask's own rescheduling; a notebook that takes down
  ``distributed.scheduler.allowed-failures`` + 1 workers in a row is failed, as Dask's
  ``KilledWorker``, and its student is reported failed). Each notebook's result reaches the
  grader once, through its future, and is committed by the grader only, so nothing is committed
  twice. The scheduler lost: every pending notebook fails with :class:`ClusterLost`, the students
  committed so far stay committed, the others keep their previous results, and the run ends
  with an error saying to run it again, which skips what was committed (nbgrader's rule).
- **Security.** A Dask scheduler runs whatever its clients send: off this machine, only over TLS
  with certificates both ways (:func:`check_secure`), for the grader here, and for the scheduler
  and workers that ``filmkit cluster`` starts. On loopback a plain ``tcp://`` is allowed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from traitlets import Float, Unicode
from traitlets.config import Configurable

from filmkit.course.folder import GradingError
from filmkit.grading.pool import NotebookJob, RunResult

DOCS: Final = "deploy/dask.md"


class ClusterError(GradingError):
    """The cluster cannot be used: unreachable, insecure, or without a worker that may grade."""


class InsecureCluster(ClusterError):
    """A scheduler off this machine, asked for without TLS and certificates."""


class WorkersRefused(ClusterError):
    """No worker of the cluster may grade this run (each named, with why)."""


class ClusterLost(ClusterError):
    """The scheduler went away during the run: some students were not graded (exit status 1,
    as when nbgrader autograde cannot grade one)."""

    exit_status = 1


class GradingCluster(Configurable):
    """Where ``filmkit grade`` sends notebooks (``c.GradingCluster.<name> = …``)."""

    scheduler = Unicode(
        "",
        help="The Dask scheduler's address (tls://host:8786, or tcp://127.0.0.1:8786 on this "
        "machine) whose workers grade the notebooks; empty: grade on this machine. "
        "`filmkit grade --cluster ADDRESS` overrides it.",
    ).tag(config=True)
    tls_ca_file = Unicode(
        "",
        help="The certificate authority that signed the scheduler's and workers' certificates "
        f"(PEM); required for a scheduler off this machine ({DOCS}).",
    ).tag(config=True)
    tls_cert_file = Unicode(
        "",
        help="The grader's client certificate (PEM, signed by tls_ca_file), with its key unless "
        "tls_key_file is set.",
    ).tag(config=True)
    tls_key_file = Unicode(
        "", help="The client certificate's private key (PEM), if not in tls_cert_file."
    ).tag(config=True)
    timeout = Float(
        60.0,
        min=1.0,
        help="Seconds to reach the scheduler, and for its workers to be ready to grade.",
    ).tag(config=True)

    def security(self) -> Any:
        """The ``distributed.Security`` of the grader's client (TLS required), or None when no
        certificate is configured."""
        return client_security(self.tls_ca_file, self.tls_cert_file, self.tls_key_file)


def client_security(ca: str, cert: str, key: str = "") -> Any:
    """A client's ``distributed.Security`` from PEM files; None when none is given."""
    return role_security("client", ca, cert, key)


def role_security(role: str, ca: str, cert: str, key: str = "") -> Any:
    """``distributed.Security`` for ``role`` (``client``, ``scheduler`` or ``worker``) from PEM
    files, encryption required; None when none is given."""
    from distributed.security import Security

    if not (ca or cert or key):
        return None
    if not (ca and cert):
        raise InsecureCluster(
            f"TLS needs both a certificate authority and a {role} certificate (have "
            f"{'CA' if ca else 'no CA'}, {'a certificate' if cert else 'no certificate'}); "
            f"see {DOCS}, or `filmkit cluster certs DIR`"
        )
    return Security(  # type: ignore[no-untyped-call]
        require_encryption=True,
        tls_ca_file=ca,
        **{f"tls_{role}_cert": cert, f"tls_{role}_key": key or None},
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback only."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:  # a name: loopback only if every address it resolves to is
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a).is_loopback for a in found)


def check_secure(address: str, security: Any, *, what: str = "the scheduler") -> None:
    """Refuse ``address`` off loopback unless it is ``tls://`` with certificates (``security``
    with encryption required); raises :class:`InsecureCluster` naming the fix."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme == "inproc":
        return
    host = str(parse_host_port(location)[0]) if location else ""
    if host and is_loopback(host):
        return
    secure = scheme == "tls" and security is not None and security.require_encryption
    if not secure:
        raise InsecureCluster(
            f"{what} at {address} is not on this machine, and a Dask scheduler runs whatever its "
            "clients send: use tls:// with certificates both ways (c.GradingCluster.tls_ca_file "
            f"and tls_cert_file, or `filmkit cluster --tls-*`); {DOCS} says how to make them"
        )


class ClusterPool:
    """The local :class:`~filmkit.grading.pool.WorkerPool`'s interface, on a Dask cluster."""

    def __init__(
        self,
        address: str,
        *,
        options: dict[str, Any],
        sources: str,
        cgroups: str,
        security: Any = None,
        timeout: float = 60.0,
        say: Callable[[str], None] = lambda _text: None,
    ) -> None:
        """Connect to the scheduler at ``address`` and register the run's engine: ``options``
        as :class:`~filmkit.grading.cluster_worker.GradingEngine` takes them, ``sources`` the
        assignment's digest, ``cgroups`` the ``c.GradingLimits.cgroups`` setting each worker
        applies to itself. Returns once registered; :meth:`ready` waits for the workers."""
        from distributed import Client

        from filmkit.grading.cluster_worker import PLUGIN, GradingEngine
        from filmkit.grading.identity import this_machine

        check_secure(address, security)
        self.address, self.sources, self.timeout, self.say = address, sources, timeout, say
        self.warning: str | None = None
        self.mode = f"dask cluster at {address}"
        self.lost = ""  # why the scheduler was lost, once it was
        self.refused: dict[str, str] = {}  # worker → why it will not grade
        self._lock = threading.Lock()
        self._pending: set[cf.Future[RunResult]] = set()  # failed at once if the scheduler goes
        try:
            self.client: Any = Client(  # type: ignore[no-untyped-call]
                address, security=security, timeout=timeout, set_as_default=False
            )
        except (OSError, TimeoutError) as error:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address} ({error}); start one "
                "(`filmkit cluster scheduler`) or fix c.GradingCluster.scheduler / --cluster"
            ) from None
        engine = GradingEngine(
            options=options,
            identity=this_machine().to_data(),
            sources=sources,
            cgroups=cgroups,
        )
        self.client.register_plugin(engine, name=PLUGIN)

    def ready(self) -> None:
        """Wait until every worker has its engine started or has refused; raises
        :class:`WorkersRefused` when none may grade, :class:`ClusterError` when no worker came
        within the timeout. Says (once) each worker that refused and each one's warnings."""
        from filmkit.grading.cluster_worker import engine_state

        deadline = time.monotonic() + self.timeout
        while True:
            states: dict[str, dict[str, Any]] = self.client.run(engine_state, on_error="return")
            states = {
                w: (s if isinstance(s, dict) else {"state": "missing", "why": str(s)})
                for w, s in states.items()
            }
            pending = [w for w, s in states.items() if s["state"] in ("starting", "missing")]
            if states and not pending:
                break
            if time.monotonic() > deadline:
                if not states:
                    raise ClusterError(
                        f"the Dask scheduler at {self.address} has no worker after "
                        f"{self.timeout:.0f} s: start one (`filmkit cluster worker "
                        f"{self.address}`)"
                    )
                raise ClusterError(
                    f"Dask worker(s) {', '.join(sorted(pending))} did not start their grading "
                    f"engine within {self.timeout:.0f} s (c.GradingCluster.timeout)"
                )
            time.sleep(0.2)
        for worker, state in sorted(states.items()):
            if state["state"] == "refused":
                self._refuse(worker, state["why"])
        ready = {w: s for w, s in states.items() if s["state"] == "ready"}
        if not ready:
            raise WorkersRefused(
                "no worker of the Dask cluster at "
                f"{self.address} may grade: "
                + "; ".join(f"{w}: {why}" for w, why in sorted(self.refused.items()))
            )
        warnings = {text for s in ready.values() for text in s.get("warnings", [])}
        for text in sorted(warnings):
            self.say(f"on the cluster's workers: {text}")
        slots = sum(int(s.get("slots", 1)) for s in ready.values())
        modes = sorted({str(s.get("mode", "")) for s in ready.values()})
        self.mode = (
            f"dask cluster at {self.address}: {len(ready)} worker(s), {slots} slot(s), "
            f"{'/'.join(modes)}"
        )

    def _refuse(self, worker: str, why: str) -> None:
        with self._lock:
            new = worker not in self.refused
            self.refused[worker] = why
        if new:
            self.say(f"Dask worker {worker} refuses to grade: {why}; its notebooks go elsewhere")

    def submit(self, job: NotebookJob) -> cf.Future[RunResult]:
        out: cf.Future[RunResult] = cf.Future()
        with self._lock:
            self._pending.add(out)
        out.add_done_callback(self._pending.discard)
        data = {
            "cells": job.cells,
            "files": job.files,
            "judge_files": job.judge_files,
            "report_modules": job.report_modules,
        }
        self._send(data, out)
        return out

    def _send(self, data: dict[str, Any], out: cf.Future[RunResult]) -> None:
        from filmkit.grading.cluster_worker import grade_notebook

        if self.lost:
            _settle(out, error=ClusterLost(self.lost))
            return
        with self._lock:
            refused = set(self.refused)
        workers = None
        if refused:
            workers = [w for w in self.client.scheduler_info()["workers"] if w not in refused]
            if not workers:
                _settle(
                    out,
                    error=WorkersRefused(
                        f"every worker of the Dask cluster at {self.address} refused"
                    ),
                )
                return
        try:
            future = self.client.submit(
                grade_notebook, data, self.sources, pure=False, workers=workers
            )
        except Exception as error:  # the client closed: the scheduler is gone
            self._lose(error)
            return
        future.add_done_callback(lambda done: self._received(done, data, out))

    def _received(self, future: Any, data: dict[str, Any], out: cf.Future[RunResult]) -> None:
        from distributed.client import FutureCancelledError

        from filmkit.grading.cluster_worker import WorkerRefused

        try:
            text = future.result()
        except WorkerRefused as refusal:
            self._refuse(refusal.worker, refusal.why)
            self._send(data, out)  # to another worker
            return
        except (FutureCancelledError, cf.CancelledError) as error:
            self._lose(error)
            return
        except BaseException as error:  # KilledWorker, a worker's own error: this notebook fails
            _settle(out, error=error)
            return
        try:
            result = RunResult.from_data(text)
        except (ValueError, TypeError) as error:
            _settle(out, error=ClusterError(f"a worker sent an unreadable result ({error})"))
            return
        _settle(out, result=result)

    def _lose(self, error: BaseException) -> None:
        """Record that the scheduler is gone and fail every notebook still waiting (one sent
        as the connection broke would otherwise wait for a reconnection forever)."""
        with self._lock:
            if not self.lost:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                self.lost = f"lost the Dask scheduler at {self.address} during the run ({reason})"
            waiting = list(self._pending)
        for out in waiting:
            with contextlib.suppress(cf.InvalidStateError):
                out.set_exception(ClusterLost(self.lost))

    def __enter__(self) -> ClusterPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Unregister the engine (the workers stop its fork servers) and disconnect."""
        from filmkit.grading.cluster_worker import PLUGIN

        try:
            if not self.lost and self.client.status == "running":
                self.client.unregister_worker_plugin(PLUGIN)
        except Exception:  # the scheduler went away meanwhile: its workers' engines go with it
            pass
        self.client.close(timeout=10)


def _settle(
    out: cf.Future[RunResult],
    *,
    result: RunResult | None = None,
    error: BaseException | None = None,
) -> None:
    """Give ``out`` its result or error, unless it has one already (failed when the scheduler
    was lost)."""
    with contextlib.suppress(cf.InvalidStateError):
        if error is not None:
            out.set_exception(error)
        else:
            out.set_result(result)  # type: ignore[arg-type]
