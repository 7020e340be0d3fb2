"""``filmkit lab``: JupyterLab on 127.0.0.1 with a token, for a student or for the instructor.

- **Student** (default): serves a student workspace (default ``_student/`` beside the course
  folder) that holds a copy of every released assignment (``<assignment>/<notebook>.ipynb``) and
  of the lessons (``lessons/NN-name.ipynb``, :data:`filmkit.paths.STUDENT_LESSONS_DIR`, from the
  project's ``course/``, with the files they read beside them, such as ``sample-essay.md``). A copy
  is made only when missing (an assignment's folder, a lesson's file), so a student's work is
  never overwritten; the launch lists what it copied. A lesson runs there as in class: its kernel
  starts in ``lessons/`` and finds the corpus through ``FILMKIT_ROOT``, which the server sets to
  the project the lessons came from (:func:`filmkit.paths.project_root`). nbgrader's formgrader
  and course list are switched off for this server (and their JupyterLab panels disabled); the
  *Validate* button works, with a student ``nbgrader_config.py`` written in the workspace (no
  course secrets in it).
- **Instructor** (``--instructor``): serves the course folder itself, where JupyterLab's
  formgrader reads ``nbgrader_config.py`` (manage assignments, mark written answers, see the
  autograded notebooks with their evidence reports). A course on one machine may have no
  exchange folder (``c.Exchange.root``, nbgrader's default ``/usr/local/share/nbgrader/exchange``):
  the launch then carries a note (what the exchange is for, how to make one), and the server's log
  leaves out nbgrader's own line about it (``Unwritable directory, please contact your
  instructor``, logged as critical on every formgrader request; a server config written to
  ``<course>/.filmkit/`` filters it). Formgrader keeps its banner saying Release and Collect are
  off. With an exchange folder, none of this.

In both, JupyterLab does not ask "Would you like to get notified about official Jupyter news?" on
its first page: the server reads this package's ``jupyter_defaults/`` as the first folder of
``JUPYTER_CONFIG_PATH``, whose ``labconfig/default_setting_overrides.json`` (jupyterlab_server's
setting defaults per Jupyter config folder) makes ``fetchNews`` of
``@jupyterlab/apputils-extension:notification`` ``"false"`` by default, and ``checkForUpdates``
false (a student cannot act on "a newer JupyterLab is available", and the server would ask PyPI). It is a default: a
user's own choice (JupyterLab's settings editor, ``~/.jupyter/lab/user-settings``) still wins,
and neither their settings nor the installed environment is written. The hub's students get the same file
(:mod:`filmkit.course.hub`).

:func:`main` prepares the launch and returns it (URL, token, arguments, environment, notes);
:func:`serve` runs the server in this process until it is stopped.
"""

from __future__ import annotations

import importlib.resources
import os
import secrets
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote

from filmkit.course.exchange import exchange_root
from filmkit.course.folder import Course, GradingError, load_course
from filmkit.lessons import course_dir, lesson_paths
from filmkit.paths import ROOT_ENV, STUDENT_LESSONS_DIR, project_root

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
# A Jupyter config folder of this package, first on the server's JUPYTER_CONFIG_PATH (and copied
# into the hub's share): labconfig/default_setting_overrides.json, JupyterLab's setting defaults
JUPYTER_DEFAULTS: Final = Path(
    str(importlib.resources.files("filmkit.course") / "jupyter_defaults")
)
SERVER_CONFIG: Final = Path(".filmkit") / "jupyter_server_config.py"
# what nbgrader's exchange logs (critical) when its folder is missing, on each formgrader request
NBGRADER_NO_EXCHANGE: Final = "Unwritable directory, please contact your instructor: {}"
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
INSTRUCTOR_SERVER_CONFIG: Final = """\
# Written by `filmkit lab --instructor`: the course has no exchange folder, which `filmkit lab`
# said when it started. nbgrader logs it as critical on every formgrader request, in words meant
# for students; this leaves that line out of the server's log.
import logging

c = get_config()  # noqa: F821

NO_EXCHANGE = {message!r}


def without_no_exchange(record):
    return record.getMessage() != NO_EXCHANGE


logging.getLogger("ServerApp").addFilter(without_no_exchange)
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
    # paths under root_dir copied into the student workspace this time (an assignment's folder,
    # a lesson's file)
    copied: tuple[str, ...] = ()
    # the server's environment variables, over this process's
    environment: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what the instructor should know (one line each)

    def notebook_url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{quote(notebook)}?token={self.token}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_workspace(course_root: Path) -> Path:
    return course_root.parent / "_student"


def copy_lessons(workspace: Path, root: Path | None = None) -> list[str]:
    """Copy the lessons of ``root``'s ``course/`` (``NN-name.ipynb``, and the other files there,
    which they read from their folder) into ``workspace/lessons/``, each only when missing;
    returns the paths copied, under ``workspace``."""
    source = course_dir(root)
    if not source.is_dir():
        return []
    beside = [
        p
        for p in sorted(source.iterdir())
        if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")
    ]
    target = workspace / STUDENT_LESSONS_DIR
    copied = []
    for path in lesson_paths(root) + beside:
        if not (target / path.name).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
            copied.append(f"{STUDENT_LESSONS_DIR}/{path.name}")
    return copied


def no_exchange_note(course: Course) -> str | None:
    """One line for the instructor when the course has no exchange folder, else None."""
    root = exchange_root(course)
    if root.is_dir():
        return None
    return (
        f"note: no exchange folder at {root}, so formgrader's Release and Collect are off "
        "(students on this machine work in `filmkit lab`'s workspace). The exchange is where "
        f"students' servers fetch and hand in: mkdir -p {root} && chmod 777 {root} (as root), "
        f"or set c.Exchange.root in {course.root / 'nbgrader_config.py'}"
    )


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
    notes: list[str] = []
    server_config: Path | None = None
    if instructor:
        root = loaded.root
        notebooks = tuple(
            str(nb.relative_to(root)) for a in loaded.assignments() for nb in loaded.notebooks(a)
        )
        extensions: dict[str, bool] = {}
        note = no_exchange_note(loaded)
        if note is not None:
            notes.append(note)
            server_config = root / SERVER_CONFIG
            server_config.parent.mkdir(exist_ok=True)
            message = NBGRADER_NO_EXCHANGE.format(exchange_root(loaded))
            server_config.write_text(
                INSTRUCTOR_SERVER_CONFIG.format(message=message), encoding="utf-8"
            )
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
        copied += copy_lessons(root)
        (root / "nbgrader_config.py").write_text(STUDENT_CONFIG, encoding="utf-8")
        lessons = sorted((root / STUDENT_LESSONS_DIR).glob("*.ipynb"))
        assignments = [nb for a in released for nb in sorted((root / a).glob("*.ipynb"))]
        notebooks = tuple(str(nb.relative_to(root)) for nb in lessons + assignments)
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
    config_path = [str(JUPYTER_DEFAULTS), *filter(None, [os.environ.get("JUPYTER_CONFIG_PATH")])]
    environment = {
        "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path),
        ROOT_ENV: str(project_root()),  # the corpus the lessons read, for the kernels
    }
    return LabLaunch(
        mode="instructor" if instructor else "student",
        root_dir=root,
        port=port,
        token=token,
        url=first_url,
        notebooks=notebooks,
        argv=tuple(argv),
        copied=tuple(copied),
        environment=environment,
        notes=tuple(notes),
    )


def serve(launch: LabLaunch) -> int:
    """Run JupyterLab for ``launch`` in this process, from its folder, until it is stopped.

    The server's working directory is the served folder: nbgrader's server extensions read
    ``nbgrader_config.py`` from there. ``launch.environment`` is set in this process first (the
    server and its kernels read it).
    """
    from jupyterlab.labapp import LabApp

    os.environ.update(launch.environment)
    os.chdir(launch.root_dir)
    LabApp.launch_instance(argv=list(launch.argv))
    return 0
