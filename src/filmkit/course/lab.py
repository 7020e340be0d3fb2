"""``filmkit lab``: JupyterLab on 127.0.0.1 with a token, for a student or for the instructor.

- **Student** (default): serves a student workspace (default ``_student/`` beside the course
  folder) that holds a copy of every released assignment (``<assignment>/<notebook>.ipynb``;
  a copy is made only when missing, so a student's work is never overwritten). nbgrader's
  formgrader and course list are switched off for this server (and their JupyterLab panels
  disabled); the *Validate* button works, with a student ``nbgrader_config.py`` written in the
  workspace (no course secrets in it).
- **Instructor** (``--instructor``): serves the course folder itself, where JupyterLab's
  formgrader reads ``nbgrader_config.py`` (manage assignments, mark written answers, see the
  autograded notebooks with their evidence reports).

:func:`main` prepares the launch and returns it (URL, token, arguments); :func:`serve` runs the
server in this process until it is stopped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote

from filmkit.course.folder import GradingError, load_course

STUDENT_DISABLED_SERVER_EXTENSIONS: Final = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
)
STUDENT_DISABLED_LAB_PLUGINS: Final = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
)
SERVER_CONFIG: Final = Path(".filmkit") / "jupyter_server_config.py"
STUDENT_SERVER_CONFIG: Final = f"""\
# Written by `filmkit lab` for the student's JupyterLab: nbgrader's instructor panels are hidden.
# (Their server extensions are switched off on the command line; JupyterLab's page config is
# rebuilt from disk on every page, so the plugins are disabled by this hook, run last.)
c = get_config()  # noqa: F821

HIDDEN = {list(STUDENT_DISABLED_LAB_PLUGINS)!r}


def hide_instructor_panels(handler, page_config):
    disabled = list(page_config.get("disabledExtensions") or [])
    page_config["disabledExtensions"] = disabled + [p for p in HIDDEN if p not in disabled]
    return page_config


c.ServerApp.tornado_settings = {{"page_config_hook": hide_instructor_panels}}
"""
STUDENT_CONFIG: Final = """\
# Written by `filmkit lab` for the student workspace: what nbgrader's Validate button uses.
c = get_config()  # noqa: F821
c.Execute.timeout = 60
"""


@dataclass(frozen=True)
class LabLaunch:
    mode: str  # student | instructor
    root_dir: Path
    port: int
    token: str
    url: str  # where to open JupyterLab (with the token)
    notebooks: tuple[str, ...]  # paths under root_dir worth opening
    argv: tuple[str, ...]  # arguments for jupyterlab's LabApp
    copied: tuple[str, ...] = ()  # assignments copied into the student workspace this time

    def notebook_url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{quote(notebook)}?token={self.token}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_workspace(course_root: Path) -> Path:
    return course_root.parent / "_student"


def main(
    *,
    course: Path | None = None,
    instructor: bool = False,
    workspace: Path | None = None,
    port: int | None = None,
    open_browser: bool = True,
    token: str | None = None,
) -> LabLaunch:
    """Prepare a JupyterLab launch (see the module's docstring); nothing is started yet."""
    loaded = load_course(course)
    port = port or free_port()
    token = token or secrets.token_urlsafe(24)
    copied: list[str] = []
    if instructor:
        root = loaded.root
        notebooks = tuple(
            str(nb.relative_to(root)) for a in loaded.assignments() for nb in loaded.notebooks(a)
        )
        extensions: dict[str, bool] = {}
        server_config = None
        first_url = f"http://127.0.0.1:{port}/lab?token={token}"
    else:
        released = loaded.assignments("release")
        if not released:
            raise GradingError(
                f"nothing released in {loaded.step_dir('release')}: run `filmkit release` first"
            )
        root = (workspace or default_workspace(loaded.root)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        for assignment in released:
            target = root / assignment
            if not target.exists():
                shutil.copytree(loaded.step_dir("release") / assignment, target)
                copied.append(assignment)
        (root / "nbgrader_config.py").write_text(STUDENT_CONFIG, encoding="utf-8")
        notebooks = tuple(
            str(nb.relative_to(root)) for a in released for nb in sorted((root / a).glob("*.ipynb"))
        )
        extensions = {name: False for name in STUDENT_DISABLED_SERVER_EXTENSIONS}
        server_config = root / SERVER_CONFIG
        server_config.parent.mkdir(exist_ok=True)
        server_config.write_text(STUDENT_SERVER_CONFIG, encoding="utf-8")
        first_url = f"http://127.0.0.1:{port}/lab?token={token}"
    argv = [
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if extensions:
        # traitlets reads a dict given on the command line as a Python literal
        argv.append(f"--ServerApp.jpserver_extensions={extensions!r}")
    if server_config is not None:
        argv.append(f"--config={server_config}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # JupyterLab refuses root without it (containers, CI)
    return LabLaunch(
        mode="instructor" if instructor else "student",
        root_dir=root,
        port=port,
        token=token,
        url=first_url,
        notebooks=notebooks,
        argv=tuple(argv),
        copied=tuple(copied),
    )


def serve(launch: LabLaunch) -> int:
    """Run JupyterLab for ``launch`` in this process, from its folder, until it is stopped.

    The server's working directory is the served folder: nbgrader's server extensions read
    ``nbgrader_config.py`` from there.
    """
    from jupyterlab.labapp import LabApp

    os.chdir(launch.root_dir)
    LabApp.launch_instance(argv=list(launch.argv))
    return 0
