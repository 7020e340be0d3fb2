"""A real PostgreSQL server for the tests: Debian's ``postgresql`` package, started on a temporary
data directory, listening on a free loopback port and a socket in that directory, and stopped
(``pg_ctl stop -m fast``) when the tests are done. Never a mock.

PostgreSQL refuses to run as root: as root the server runs as ``nobody`` (its data directory is
that user's, inside a folder only root and it can enter). Loopback connections are trusted
(``initdb --auth=trust``): the server lives for one test session, on 127.0.0.1, with throwaway
data. The tests that need it skip, saying why, where the package is missing (``make setup``
installs it when it runs as root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filmkit.course.lab import free_port

SUPERUSER = "filmkit"
NOBODY = 65534


def bin_dir() -> Path | None:
    """Debian keeps the server's programs in /usr/lib/postgresql/<major>/bin (newest first)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def missing() -> str | None:
    """Why no server can be started here, or None."""
    if bin_dir() is None:
        return "PostgreSQL's server programs are not installed (Debian: apt install postgresql)"
    return None


@dataclass(frozen=True)
class Server:
    port: int
    folder: Path

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"gradebook_{uuid.uuid4().hex[:12]}"
        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running() -> Iterator[Server]:
    """Start a server for the length of the ``with`` block."""
    programs = bin_dir()
    assert programs is not None, missing()
    folder = Path(tempfile.mkdtemp(prefix="filmkit-pg-"))
    as_root = os.geteuid() == 0
    data = folder / "data"
    data.mkdir()
    if as_root:  # the server's own user must reach its data and socket: nobody, and no one else
        os.chmod(folder, 0o711)
        os.chown(data, NOBODY, NOBODY)
        os.chmod(data, 0o700)
    user = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if as_root else {}
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120, **user}
    port = free_port()
    log = data / "server.log"
    try:
        subprocess.run(
            [
                str(programs / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            **run,  # type: ignore[call-overload]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            [
                str(programs / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "start",
            ],
            **run,  # type: ignore[call-overload]
        )
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(programs / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
            check=False,
        ).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; see {log}")
            time.sleep(0.1)
        yield Server(port, folder)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [str(programs / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                **{**run, "check": False},  # type: ignore[call-overload]
            )
        shutil.rmtree(folder, ignore_errors=True)
