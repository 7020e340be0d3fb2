"""``filmkit hub``: a real JupyterHub behind configurable-http-proxy, a student's server spawned as
that student's own system user, nbgrader's Assignments tab listing and fetching the course.

As root (CI): a throwaway system user is the student (removed at teardown); the hub runs on free
loopback ports with JupyterHub's dummy authenticator (tests only) and an API token; the students'
environment is this project's lock file installed with the distribution's python3 into a folder
every user can read (this checkout's own may sit below a folder only root may enter). Everything
is stopped at the end: the hub, the proxy, the student's server, every process of the user.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from filmkit.course import exchange, hub, release
from filmkit.course.folder import load_course
from tests import hubs
from tests.conftest import REPO, course_copy, system_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="spawns servers as system users: needs root"),
    pytest.mark.skipif(shutil.which("useradd") is None, reason="useradd (passwd) is missing"),
    pytest.mark.skipif(
        not Path("/usr/bin/python3").is_file(), reason="no distribution python3 for the students"
    ),
]

ASSIGNMENT = "01-genre-shifts"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


@pytest.fixture(scope="module")
def shared() -> Iterator[Path]:
    """A folder every user can read: the students' environment and the hub's share."""
    with hubs.shared_folder() as root:
        yield root


def test_a_student_fetches_and_hands_in_through_the_hub(shared: Path, tmp_path: Path) -> None:
    exchange_dir = Path(tempfile.mkdtemp(prefix="filmkit-exchange-"))
    exchange_dir.chmod(0o777)
    # the course where its grader's account can reach it (pytest's own folders are root's)
    course = course_copy(shared / f"course-{secrets.token_hex(3)}", ASSIGNMENT)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange_dir)!r}\n")
        config.write("c.Exchange.path_includes_course = True\n")
    release.main([ASSIGNMENT], course=course, validate=False)
    loaded = load_course(course)
    exchange.release(loaded, ASSIGNMENT)
    token = secrets.token_hex(16)
    with system_user("fkhub") as student_entry, system_user("fkgrader") as entry:
        student, grader = student_entry.pw_name, entry.pw_name
        subprocess.run(["chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", str(course)], check=True)
        settings = hubs.loopback_settings(
            loaded, shared, tmp_path / "hub-state", students=(student,), graders=(grader,)
        )
        try:
            with hubs.dummy_logins(), hub.running(settings, token, tmp_path / "hub.log") as running:
                assert "version" in running.api("GET", "/hub/api/")
                running.start_server(student)
                # the server runs as the student, in their home
                owner = running.wait(lambda: hubs.server_owner(student), "the server's process")
                assert owner == pwd.getpwnam(student).pw_uid
                # with the lessons, a copy of their own to run
                lessons = Path(pwd.getpwnam(student).pw_dir) / "lessons"
                copied = sorted(p.name for p in lessons.glob("*.ipynb"))
                assert copied == sorted(p.name for p in (REPO / "course").glob("*.ipynb"))
                assert all(p.stat().st_uid == owner for p in lessons.glob("*.ipynb"))
                # JupyterLab will not ask the student about Jupyter's news (a default of the
                # share's labconfig/; the student's own settings are untouched)
                as_student = hubs.token(running, student)
                notification = running.api(
                    "GET", f"/user/{student}/lab/api/settings/{NOTIFICATION}", token=as_student
                )
                assert notification["schema"]["properties"]["fetchNews"]["default"] == "false"
                assert "fetchNews" not in notification["settings"]
                # nbgrader's Assignments tab, through the proxy: the course's release is listed
                listed = running.api("GET", f"/user/{student}/assignments?course_id=perfection")
                assert listed["success"]
                assert ASSIGNMENT in [a["assignment_id"] for a in listed["value"]]
                running.api(
                    "POST",
                    f"/user/{student}/assignments/fetch",
                    {"course_id": "perfection", "assignment_id": ASSIGNMENT},
                )
                home = Path(pwd.getpwnam(student).pw_dir)
                fetched = home / "perfection" / ASSIGNMENT / "genre-shifts.ipynb"
                assert running.wait(fetched.is_file, "the fetched notebook")
                assert fetched.stat().st_uid == pwd.getpwnam(student).pw_uid
                # handed in from the same tab, collected by the instructor
                submitted = running.api(
                    "POST",
                    f"/user/{student}/assignments/submit",
                    {"course_id": "perfection", "assignment_id": ASSIGNMENT},
                )
                assert submitted["success"], submitted
                assert exchange.collect(loaded, ASSIGNMENT).students == (student,)
                handed_in = loaded.step_dir("submitted") / student / ASSIGNMENT
                assert (handed_in / "genre-shifts.ipynb").read_bytes() == fetched.read_bytes()
                assert (handed_in / "timestamp.txt").is_file()
                # formgrader: a hub service run as the grader, open to the graders only
                service = f"/services/{loaded.course_id}"
                as_grader = hubs.token(running, grader)
                status = running.wait(
                    lambda: running.api("GET", f"{service}/api/status", token=as_grader),
                    "formgrader",
                )
                assert "started" in status
                owner = running.wait(lambda: hubs.server_owner(grader), "formgrader's process")
                assert owner == entry.pw_uid
                with pytest.raises(urllib.error.HTTPError) as refused:
                    running.api("GET", f"{service}/api/status", token=as_student)
                assert refused.value.code == 403
            proxy_pid = settings.state / "proxy.pid"
            assert not proxy_pid.exists() or not hubs.alive(int(proxy_pid.read_text() or 0))
            assert hubs.server_owner(student) is None  # the hub stopped the student's server
        finally:
            shutil.rmtree(exchange_dir, ignore_errors=True)


def test_the_share_holds_the_students_jupyterlab_defaults(shared: Path, tmp_path: Path) -> None:
    exchange_dir = tmp_path / "exchange"
    exchange_dir.mkdir()
    exchange_dir.chmod(0o777)
    course = course_copy(tmp_path / "course", ASSIGNMENT)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange_dir)!r}\n")
    settings = hubs.loopback_settings(
        load_course(course), shared, tmp_path / "hub-state", students=("fkstudent",)
    )
    with hubs.dummy_logins():
        config = hub.prepare(settings).read_text(encoding="utf-8")
    jupyter = settings.share / "jupyter"
    assert f"'JUPYTER_CONFIG_PATH': {str(jupyter)!r}" in config  # the students' servers' path
    labconfig = jupyter / "labconfig"
    written = labconfig / "default_setting_overrides.json"
    written_defaults = json.loads(written.read_text(encoding="utf-8"))
    assert written_defaults[NOTIFICATION] == {"fetchNews": "false", "checkForUpdates": False}
    assert stat.S_IMODE(labconfig.stat().st_mode) == 0o755
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    # what jupyterlab_server makes of it: the defaults of fetchNews and checkForUpdates
    read = subprocess.run(
        [
            str(shared / "env" / "bin" / "python"),
            "-c",
            "import json; from jupyterlab_server.settings_utils import _get_overrides; "
            "print(json.dumps(_get_overrides('/nonexistent')[0]))",
        ],
        env=dict(os.environ, JUPYTER_CONFIG_PATH=str(jupyter), JUPYTER_CONFIG_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(read.stdout)[NOTIFICATION] == written_defaults[NOTIFICATION]


def test_the_roster_makes_the_students_and_their_system_users(tmp_path: Path) -> None:
    from filmkit.course.folder import GradingError

    course = course_copy(tmp_path / "course", ASSIGNMENT)
    release.main([ASSIGNMENT], course=course, validate=False)
    loaded = load_course(course)
    ids = [f"fkroster{secrets.token_hex(3)}" for _ in range(2)]
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email,lms_user_id\n"
        + "".join(f"{s},Ann{n},Lee,{s}@example.edu,{700 + n}\n" for n, s in enumerate(ids)),
        encoding="utf-8",
    )
    try:
        assert hub.add_roster(loaded, roster) == ids
        for student in ids:
            assert Path(pwd.getpwnam(student).pw_dir).is_dir()  # a system user, with a home
        with loaded.gradebook() as gb:
            found = {s.id: s.lms_user_id for s in gb.students}
        assert found == {s: str(700 + n) for n, s in enumerate(ids)}
        assert hub.students_in(loaded) == tuple(sorted(ids))
        bad = tmp_path / "bad.csv"
        bad.write_text("id\nRoot Admin\n", encoding="utf-8")
        with pytest.raises(GradingError, match="cannot be a system user name"):
            hub.add_roster(loaded, bad)
    finally:
        for student in ids:
            subprocess.run(["userdel", "--remove", student], check=False, capture_output=True)
