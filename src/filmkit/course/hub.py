"""``filmkit hub``: the course served to a class on this machine, through JupyterHub.

One command starts JupyterHub (from PyPI) behind configurable-http-proxy (from the npm
registry, installed by ``make setup`` into ``web/node_modules``), on loopback by default (a real
class puts it behind TLS: a reverse proxy such as Caddy or nginx terminating HTTPS in front of
``--ip 127.0.0.1``, or ``c.JupyterHub.ssl_cert``/``ssl_key``). Its processes:

* the hub and the proxy, run by root (the spawner starts each student's server as that student);
* one Jupyter server per student who logs in (JupyterHub's ``LocalProcessSpawner``), run as the
  student's own system user (``filmkit hub roster add`` makes them), in their home folder, with
  this kit's environment (filmkit, the corpus, nbgrader's Assignments tab) and an nbgrader
  configuration that knows only the exchange (``<share>/jupyter/nbgrader_config.py``); on its
  first start it copies the lessons (``course/``) into ``~/lessons``, the student's to run.
  ``<share>/jupyter`` is the server's ``JUPYTER_CONFIG_PATH``; its
  ``labconfig/default_setting_overrides.json`` (the one ``filmkit lab`` reads, see
  :mod:`filmkit.course.lab`) keeps JupyterLab from asking each student about Jupyter's news (a
  default: a student's own setting wins);
* nbgrader's exchange (``c.Exchange.root`` of the course), with ``path_includes_course`` and
  nbgrader's JupyterHub auth plugin, so each student sees the courses whose group they are in
  (``nbgrader-<course>``); graders are in ``formgrade-<course>``.

* formgrader, with ``--grader``: a Jupyter server on the course folder run by the hub as a
  service (``/services/<course>/formgrader``) as the grader's system account, which owns the
  course folder; only the ``formgrade-<course>`` group may open it.

Who reads what: the hub's state (its database, cookie secret, the generated
``jupyterhub_config.py``) is in ``/var/lib/filmkit-hub/<course>/``, root's only, never inside
the course folder (its owner could swap the configuration root runs); students read the share
folder and the environment, never the course folder (source/, solutions, the gradebook).
:func:`check_environment` refuses to start when the students' servers could not run the
environment's Python (a Python below a folder only its owner may enter, such as ``/root``),
naming the folder and the fix.

Authentication: ``pam`` (default; the students' system accounts and passwords, what a machine of
a department has), ``native`` (jupyterhub-nativeauthenticator: students sign up, the instructor
approves; not installed by default) or ``dummy`` (any password: tests only, refused unless
``FILMKIT_HUB_TESTING=1``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from filmkit.course.exchange import exchange_root
from filmkit.course.folder import Course, GradingError
from filmkit.course.lab import JUPYTER_DEFAULTS
from filmkit.paths import STUDENT_LESSONS_DIR, project_root

AUTHENTICATORS: Final = {"pam": "pam", "native": "native", "dummy": "dummy"}
TESTING_ENV: Final = "FILMKIT_HUB_TESTING"


def proxy_command() -> Path:
    """configurable-http-proxy as ``make setup`` installed it."""
    found = project_root() / "web" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not found.exists():
        raise GradingError(
            f"{found} is missing: run `make setup` (it installs configurable-http-proxy with npm)"
        )
    return found


def unreadable_by_others(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot enter, or None."""
    current = Path("/")
    for part in path.resolve().parts[1:]:
        current = current / part
        mode = current.stat().st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return current
    return None


def check_environment(prefix: Path = Path(sys.prefix)) -> None:
    """Raise :class:`GradingError` if students' servers could not run the environment at
    ``prefix`` (its folder, and the Python its ``bin/python`` is)."""
    python = prefix / "bin" / "python"
    for path in (prefix, Path(os.path.realpath(python))):
        closed = unreadable_by_others(path)
        if closed is not None:
            raise GradingError(
                f"the students' servers cannot run {path}: {closed} is closed to other users. "
                "Put the kit where every student can read it (e.g. git clone into /srv/filmkit, "
                "then make setup there with the system's python3)"
            )


@dataclass(frozen=True)
class HubSettings:
    course: Course
    share: Path  # readable by every student: their nbgrader configuration
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    authenticator: str = "pam"
    students: tuple[str, ...] = ()
    graders: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    # may log in, in no group of this course (another course's students on a shared hub)
    others: tuple[str, ...] = ()
    environment: Path = field(default_factory=lambda: Path(sys.prefix))
    formgrader_user: str = ""  # the system user formgrader runs as; "" for no formgrader
    formgrader_port: int = 8082
    state_dir: Path | None = None  # default /var/lib/filmkit-hub/<course id>

    @property
    def state(self) -> Path:
        """The hub's own files, root's alone: never inside the course folder, which the
        grader's account owns (it could otherwise swap the configuration root runs)."""
        return self.state_dir or Path("/var/lib/filmkit-hub") / self.course.course_id


def student_nbgrader_config(settings: HubSettings) -> str:
    """What each student's server reads of nbgrader: the exchange, and nothing of the course."""
    course_id = settings.course.course_id
    return "\n".join(
        [
            "# written by filmkit hub: what a student's server knows of the course",
            "c = get_config()  # noqa: F821",
            f"c.CourseDirectory.course_id = {course_id!r}",
            f"c.Exchange.root = {str(exchange_root(settings.course))!r}",
            "c.Exchange.path_includes_course = True",
            "from nbgrader.auth import JupyterHubAuthPlugin",
            "c.Authenticator.plugin_class = JupyterHubAuthPlugin",
            "",
        ]
    )


def hub_config(settings: HubSettings) -> str:
    """The ``jupyterhub_config.py`` of the course (Python, for instructors to read)."""
    if settings.authenticator not in AUTHENTICATORS:
        raise GradingError(f"the authenticator is one of {', '.join(AUTHENTICATORS)}")
    if settings.authenticator == "dummy" and os.environ.get(TESTING_ENV) != "1":
        raise GradingError("the dummy authenticator lets anyone in: tests only")
    course_id = settings.course.course_id
    env = settings.environment
    groups = {
        f"nbgrader-{course_id}": {"users": sorted(settings.students)},
        f"formgrade-{course_id}": {"users": sorted(settings.graders)},
    }
    values = {
        "JupyterHub.ip": settings.ip,
        "JupyterHub.port": settings.port,
        "JupyterHub.hub_ip": "127.0.0.1",
        "JupyterHub.hub_port": settings.hub_port,
        "JupyterHub.db_url": f"sqlite:///{settings.state / 'jupyterhub.sqlite'}",
        "JupyterHub.cookie_secret_file": str(settings.state / "jupyterhub_cookie_secret"),
        "JupyterHub.authenticator_class": settings.authenticator,
        "JupyterHub.load_groups": groups,
        "ConfigurableHTTPProxy.command": [str(proxy_command())],
        "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{settings.proxy_api_port}",
        "ConfigurableHTTPProxy.pid_file": str(settings.state / "proxy.pid"),
        "Authenticator.allowed_users": sorted(
            {*settings.students, *settings.graders, *settings.others}
        ),
        "Authenticator.admin_users": sorted(settings.admins),
        # the server starts as the student: their own copy of the lessons first (never over
        # one they have), then Jupyter
        "Spawner.cmd": [
            "/bin/sh",
            "-c",
            f'[ -e "$HOME/{STUDENT_LESSONS_DIR}" ] || '
            f'cp -R {shlex.quote(str(settings.share / "lessons"))} "$HOME/{STUDENT_LESSONS_DIR}"; '
            f'exec {shlex.quote(str(env / "bin" / "jupyterhub-singleuser"))} "$@"',
            "filmkit-student",
        ],
        "Spawner.default_url": "/lab",
        # a class logging in at once on a small machine: 30 servers starting together on 2
        # cores take minutes, and JupyterHub gives up on a server after 60 s by default
        "Spawner.start_timeout": 600,
        "Spawner.http_timeout": 600,
        "Spawner.notebook_dir": "~",
        "Spawner.environment": {
            "PATH": f"{env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": str(settings.share / "jupyter"),
            "FILMKIT_ROOT": str(settings.share),
        },
    }
    services: list[dict[str, object]] = []
    roles: list[dict[str, object]] = []
    if settings.formgrader_user:
        # formgrader: a Jupyter server on the course folder, as the grader's account, reached
        # at /services/<course>/ by the formgrade group only
        services.append(
            {
                "name": course_id,
                "url": f"http://127.0.0.1:{settings.formgrader_port}",
                "command": [
                    str(env / "bin" / "jupyterhub-singleuser"),
                    f"--ServerApp.root_dir={settings.course.root}",
                    "--ServerApp.default_url=/formgrader",
                ],
                "user": settings.formgrader_user,
                "cwd": str(settings.course.root),
                "environment": {
                    "PATH": f"{env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                    "FILMKIT_ROOT": str(settings.share),
                },
                "oauth_no_confirm": True,
            }
        )
        roles += [
            {
                "name": f"formgrade-{course_id}",
                "scopes": [f"access:services!service={course_id}"],
                "groups": [f"formgrade-{course_id}"],
            },
            {
                "name": f"{course_id}-service",
                "scopes": ["read:users", "list:users", "read:groups", "list:groups"],
                "services": [course_id],
            },
        ]
    values["JupyterHub.services"] = services
    values["JupyterHub.load_roles"] = roles
    lines = [
        "# written by filmkit hub (filmkit.course.hub.hub_config); regenerated on every start",
        "import os",
        "c = get_config()  # noqa: F821",
    ]
    lines += [f"c.{name} = {value!r}" for name, value in values.items()]
    # an API token for the instructor's scripts and the tests (hub services are its holders)
    lines += [
        "token = os.environ.get('FILMKIT_HUB_API_TOKEN')",
        "if token:",
        "    c.JupyterHub.services.append({'name': 'filmkit', 'api_token': token})",
        "    c.JupyterHub.load_roles.append({'name': 'filmkit', 'scopes': ['admin:users', "
        "'admin:servers', 'access:servers', 'access:services', 'read:users', 'tokens'], "
        "'services': ['filmkit']})",
        "",
    ]
    return "\n".join(lines)


def prepare(settings: HubSettings) -> Path:
    """Write the hub's configuration and the students' share; returns the config file."""
    check_environment(settings.environment)
    exchange = exchange_root(settings.course)
    if not exchange.is_dir():
        raise GradingError(
            f"the exchange folder {exchange} does not exist: create it writable by every "
            f"student (mkdir -p {exchange} && chmod 777 {exchange}), or set c.Exchange.root"
        )
    settings.state.mkdir(parents=True, exist_ok=True)
    settings.state.chmod(0o700)
    if settings.state.stat().st_uid != os.geteuid():
        raise GradingError(f"{settings.state} must be the hub's own (it runs its configuration)")
    if settings.formgrader_user:
        import pwd

        try:
            owner = pwd.getpwnam(settings.formgrader_user).pw_uid
        except KeyError:
            raise GradingError(
                f"no system user {settings.formgrader_user!r} for formgrader: useradd it first"
            ) from None
        if settings.course.root.stat().st_uid != owner:
            raise GradingError(
                f"formgrader runs as {settings.formgrader_user}, who must own the course folder: "
                f"chown -R {settings.formgrader_user} {settings.course.root}"
            )
    jupyter = settings.share / "jupyter"
    jupyter.mkdir(parents=True, exist_ok=True)
    (jupyter / "nbgrader_config.py").write_text(student_nbgrader_config(settings), encoding="utf-8")
    labconfig = jupyter / "labconfig"  # JupyterLab's setting defaults for the students
    if labconfig.exists():
        shutil.rmtree(labconfig)
    shutil.copytree(JUPYTER_DEFAULTS / "labconfig", labconfig)
    texts = project_root() / "source_texts"
    shared_texts = settings.share / "source_texts"
    if shared_texts.exists():
        shutil.rmtree(shared_texts)
    shutil.copytree(texts, shared_texts)  # the corpus the lessons and the checks read
    lessons = settings.share / "lessons"
    if lessons.exists():
        shutil.rmtree(lessons)
    shutil.copytree(project_root() / "course", lessons)  # each student copies them at start
    for folder in (settings.share, jupyter, shared_texts, lessons):
        folder.chmod(0o755)
    for path in [*shared_texts.rglob("*"), *lessons.rglob("*"), labconfig, *labconfig.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    config = settings.state / "jupyterhub_config.py"
    config.write_text(hub_config(settings), encoding="utf-8")
    (settings.state / "settings.json").write_text(
        json.dumps({"students": settings.students, "graders": settings.graders}), encoding="utf-8"
    )
    return config


def command(config: Path) -> list[str]:
    """How to start the hub on ``config`` (this environment's jupyterhub)."""
    return [str(Path(sys.prefix) / "bin" / "jupyterhub"), "-f", str(config)]


def read_roster(path: Path) -> list[dict[str, str]]:
    """A roster CSV (``id,first_name,last_name,email,lms_user_id``, nbgrader's import format)."""
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "id" not in rows[0]:
        raise GradingError(f"{path} needs a header row with an id column (nbgrader's format)")
    return rows


def add_roster(course: Course, path: Path, *, make_users: bool = True) -> list[str]:
    """Add the roster's students to the gradebook (as ``nbgrader db student import``) and, as
    root, make a system user for each who has none. Returns the student ids."""
    import pwd
    import re
    import subprocess

    rows = read_roster(path)
    ids = []
    with course.gradebook() as gb:
        for row in rows:
            student = row["id"].strip()
            if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", student):
                raise GradingError(
                    f"{path}: {student!r} cannot be a system user name (lowercase letters, "
                    "digits, - and _, at most 32, not starting with a digit)"
                )
            details = {
                k: (row.get(k) or None) for k in ("first_name", "last_name", "email", "lms_user_id")
            }
            gb.update_or_create_student(student, **details)
            ids.append(student)
    if make_users:
        if os.geteuid() != 0:
            raise GradingError("making the students' system users needs root (sudo filmkit hub …)")
        for student in ids:
            try:
                pwd.getpwnam(student)
            except KeyError:
                subprocess.run(
                    ["useradd", "--create-home", "--shell", "/bin/bash", student],
                    check=True,
                    capture_output=True,
                )
    return ids


def students_in(course: Course, only: Sequence[str] = ()) -> tuple[str, ...]:
    with course.gradebook() as gb:
        found = sorted(s.id for s in gb.students)
    return tuple(s for s in found if not only or s in only)


# --------------------------------------------------------------------------- a running hub


@dataclass
class RunningHub:
    """A hub started by :func:`running`, and its REST API (with the instructor's token)."""

    url: str
    token: str
    process: Any
    log: Path

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Any:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"token {token or self.token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                text = reply.read().decode()
        except urllib.error.HTTPError as error:
            error.close()  # it holds the response's connection open; its code stays readable
            raise
        return json.loads(text) if text else None

    def wait(self, predicate: Any, what: str, timeout: float = 120) -> Any:
        """``predicate()``'s first true value, polled; raises TimeoutError naming ``what``."""
        import time
        import urllib.error

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise GradingError(
                    f"the hub stopped (exit {self.process.returncode}); see {self.log}"
                )
            try:
                found = predicate()
            except (urllib.error.URLError, ConnectionError, OSError, KeyError):
                found = None
            if found:
                return found
            time.sleep(0.3)
        raise TimeoutError(f"timed out waiting for {what}; see {self.log}")

    def start_server(self, user: str, timeout: float = 600) -> None:
        """Start ``user``'s server and wait until the hub says it is ready."""
        self.api("POST", f"/hub/api/users/{user}/server")
        self.wait(
            lambda: self.api("GET", f"/hub/api/users/{user}")["servers"][""]["ready"],
            f"{user}'s server",
            timeout=timeout,
        )


@contextlib.contextmanager
def running(settings: HubSettings, token: str, log: Path) -> Iterator[RunningHub]:
    """Start the hub of ``settings`` (written by :func:`prepare`) with an API token for the
    instructor's scripts; stop it, its proxy and every server it spawned on exit."""
    import subprocess

    config = prepare(settings)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command(config),
            cwd=settings.state,
            env=dict(os.environ, FILMKIT_HUB_API_TOKEN=token),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        hub = RunningHub(f"http://{settings.ip}:{settings.port}", token, process, log)
        try:
            hub.wait(lambda: hub.api("GET", "/hub/api/"), "the hub's API")
            yield hub
        finally:
            process.terminate()  # JupyterHub stops its proxy and the servers it spawned
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
