"""What the hub tests share: the students' environment, tokens, and who runs a server.

The students' environment is this project's lock file installed with the distribution's python3
into a folder every user can read (this checkout's own may sit below a folder only root may
enter, such as /root); uv links it from its cache, so each test module builds its own in seconds.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from filmkit.course import hub
from filmkit.course.folder import Course
from filmkit.course.lab import free_port
from tests.conftest import REPO


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.skip("uv is not on PATH (make test runs the tests through it)")
    return found


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A folder every user can read, holding the students' environment in ``env/``."""
    root = Path(tempfile.mkdtemp(prefix="filmkit-hub-"))
    root.chmod(0o755)
    env = dict(
        os.environ,
        UV_PROJECT_ENVIRONMENT=str(root / "env"),
        UV_PYTHON="/usr/bin/python3",
        UV_PYTHON_DOWNLOADS="never",
    )
    done = subprocess.run(
        [uv(), "sync", "--locked", "--no-dev", "--no-editable", "--quiet"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stale = stale_files(root / "env")
    assert not stale, f"the students' environment has an old filmkit (uv's cached wheel): {stale}"
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def stale_files(env: Path) -> list[str]:
    """The files of this checkout's ``src/filmkit`` that ``env``'s installed filmkit lacks or
    has otherwise (pyproject.toml's ``tool.uv.cache-keys`` makes uv rebuild the wheel when one
    changes; without it a second environment got the first one's wheel)."""
    installed = next((env / "lib").glob("python3*/site-packages/filmkit"))
    source = REPO / "src" / "filmkit"
    return sorted(
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and (
            not (installed / path.relative_to(source)).is_file()
            or (installed / path.relative_to(source)).read_bytes() != path.read_bytes()
        )
    )


def loopback_settings(
    course: Course,
    shared: Path,
    state: Path,
    *,
    students: tuple[str, ...],
    graders: tuple[str, ...] = (),
    others: tuple[str, ...] = (),
) -> hub.HubSettings:
    """A hub for the tests: free loopback ports, JupyterHub's dummy authenticator (see
    :func:`dummy_logins`), the students' environment of :func:`shared_folder`, formgrader run
    as the first grader."""
    return hub.HubSettings(
        course,
        share=shared / "share",
        port=free_port(),
        hub_port=free_port(),
        proxy_api_port=free_port(),
        authenticator="dummy",
        students=students,
        graders=graders,
        others=others,
        formgrader_user=graders[0] if graders else "",
        formgrader_port=free_port(),
        state_dir=state,
        environment=shared / "env",
    )


@contextlib.contextmanager
def dummy_logins() -> Iterator[None]:
    """Let the hub use the dummy authenticator (any password) for the ``with`` block."""
    os.environ[hub.TESTING_ENV] = "1"
    try:
        yield
    finally:
        del os.environ[hub.TESTING_ENV]


def token(running: hub.RunningHub, user: str) -> str:
    """A token of ``user``'s own, as logging in gives them."""
    made = running.api("POST", f"/hub/api/users/{user}/tokens", {"note": "test"})
    return str(made["token"])


def server_owner(user: str) -> int | None:
    """The uid of ``user``'s running jupyterhub-singleuser, or None."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if b"jupyterhub-singleuser" in cmdline:
            uid = next(line.split()[1] for line in text.splitlines() if line.startswith("Uid:"))
            if int(uid) == pwd.getpwnam(user).pw_uid:
                return int(uid)
    return None


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
