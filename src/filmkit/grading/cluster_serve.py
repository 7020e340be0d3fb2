"""``filmkit cluster scheduler`` and ``filmkit cluster worker``: a grading cluster's processes.

They are Dask's own scheduler and worker (``distributed.Scheduler``, and ``distributed.Nanny``,
which restarts its worker when it dies), started with one rule added: off loopback, TLS with the
course's certificates (:mod:`filmkit.grading.tls`) or nothing (:func:`~filmkit.grading.cluster.
check_secure`). Dask's ``dask scheduler`` and ``dask worker`` commands work as well (e.g. under
dask-jobqueue or dask-kubernetes, ``deploy/dask.md``); a worker needs nothing from filmkit but
filmkit installed, from the same ``uv.lock``, and the course's source texts: the grading engine
is sent to it by each run (:mod:`filmkit.grading.cluster_worker`).

Each runs until interrupted (SIGINT or SIGTERM) and then closes, a worker finishing nothing: the
grader gives its unfinished notebooks to another worker. ``on_ready`` gets the address the
process listens on, once it does.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

from filmkit.grading.cluster import check_secure


def serve_scheduler(
    host: str = "127.0.0.1",
    port: int = 8786,
    *,
    tls: Any = None,
    on_ready: Callable[[str], None] = print,
) -> None:
    """Run a scheduler listening on ``host:port`` (``tls``: its :func:`security`)."""
    from distributed import Scheduler

    scheme = "tls" if tls is not None else "tcp"
    address = f"{scheme}://{host}:{port}" if ":" not in host else f"{scheme}://[{host}]:{port}"
    check_secure(address, tls, what="a scheduler listening")

    async def run() -> None:
        async with Scheduler(
            host=host, port=port, protocol=scheme, security=tls, dashboard=False
        ) as scheduler:
            on_ready(scheduler.address)
            await _until_stopped(scheduler)

    asyncio.run(run())


def serve_worker(
    scheduler: str,
    *,
    nthreads: int = 1,
    name: str | int | None = None,
    host: str | None = None,
    tls: Any = None,
    on_ready: Callable[[str], None] = print,
) -> None:
    """Run a worker (under a nanny) for the scheduler at ``scheduler``, ``nthreads`` notebooks
    at once; ``host``: the interface it listens on (default: the one facing the scheduler)."""
    from distributed import Nanny

    check_secure(scheduler, tls)

    async def run() -> None:
        async with Nanny(
            scheduler, nthreads=nthreads, name=name, host=host, security=tls, dashboard=False
        ) as nanny:
            on_ready(str(nanny.worker_address))
            await _until_stopped(nanny)

    asyncio.run(run())


async def _until_stopped(server: Any) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    finished = asyncio.ensure_future(server.finished())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([finished, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not finished.done():
        await server.close()
