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
from typing import Any, Final

from filmkit.grading.cluster import check_secure

# Dask serves HTTP (metrics, health; the dashboard when bokeh is installed) beside the comm port,
# unencrypted and by default on every interface at 8787: here on loopback only, on a free port.
HTTP_ADDRESS: Final = "127.0.0.1:0"


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
            host=host,
            port=port,
            protocol=scheme,
            security=tls,
            dashboard=False,
            dashboard_address=HTTP_ADDRESS,
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
    at once; ``host``: the interface it listens on (default: loopback without TLS, else every
    interface, TLS required)."""
    from distributed import Nanny

    check_secure(scheduler, tls)
    if host is None and tls is None:  # plain TCP: a scheduler on loopback, so listen there too
        host = "127.0.0.1"
    if host is not None:
        scheme = "tls" if tls is not None else "tcp"
        check_secure(f"{scheme}://{host}:0", tls, what="a worker listening")

    async def run() -> None:
        async with Nanny(
            scheduler,
            nthreads=nthreads,
            name=name,
            host=host,
            security=tls,
            dashboard=False,
            dashboard_address=HTTP_ADDRESS,
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
