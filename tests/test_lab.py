"""``filmkit lab``: JupyterLab on loopback with a token, for a student and for the instructor, and
the student's path in a real browser (Debian's chromium driven by Playwright).

The servers run with JupyterLab's user settings in a folder of the test's (``JUPYTERLAB_SETTINGS_DIR``),
so the tester's own settings neither change what is read nor are written.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from filmkit.course import lab, release
from filmkit.lessons import lesson_paths
from filmkit.paths import STUDENT_LESSONS_DIR

from .conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-genre-shifts"
NOTEBOOK = "01-genre-shifts/genre-shifts.ipynb"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"
NBGRADER_NO_EXCHANGE = "Unwritable directory, please contact your instructor"


@pytest.fixture(scope="module")
def released_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("lab") / "course"
    course.mkdir()
    shutil.copy2(REPO / "assignments" / "nbgrader_config.py", course)
    shutil.copytree(REPO / "assignments" / "source", course / "source")
    release.main(course=course)
    return course


@dataclass(frozen=True)
class Server:
    base: str
    token: str
    output: str  # what `filmkit lab` printed before the server started

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            error.close()
            return error.code, ""


@contextmanager
def filmkit_lab(log: Path, *args: str) -> Iterator[Server]:
    """``filmkit lab ... --port P --no-browser`` as a subprocess, with JupyterLab's user settings
    in ``<log's folder>/user-settings``; always stopped afterwards."""
    port = lab.free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(log.parent / "user-settings"),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "filmkit.cli",
                "lab",
                *args,
                "--port",
                str(port),
                "--no-browser",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        token = ""
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            found = re.search(rf"Open: {re.escape(base)}/lab\?token=(\S+)", log.read_text())
            if found:
                token = found.group(1)
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass
            time.sleep(0.5)
        else:
            pytest.fail(f"filmkit lab did not start in 120 s:\n{log.read_text()[-3000:]}")
        yield Server(base, token, log.read_text())
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def lab_setting(server: Server, plugin: str, name: str) -> object:
    """The value JupyterLab's page gets for a setting: the user's own, else the schema's
    default (where jupyterlab_server puts the setting defaults of labconfig/)."""
    status, body = server.get(f"/lab/api/settings/{plugin}")
    assert status == 200, body
    answer = json.loads(body)
    return answer["settings"].get(name, answer["schema"]["properties"][name]["default"])


def user_settings(log: Path) -> list[Path]:
    """What the servers of :func:`filmkit_lab` wrote into JupyterLab's user settings."""
    return [p for p in (log.parent / "user-settings").rglob("*") if p.is_file()]


def run_cells(
    server: Server, notebook: str, sources: Sequence[str], timeout: float = 300
) -> list[dict[str, Any]]:
    """Run ``sources`` one after another in a kernel the server starts for ``notebook`` (in the
    notebook's folder, as when a student opens it); each cell's ``execute_reply`` content, with
    ``user_expressions`` ``cwd`` and ``root`` (the kernel's folder and filmkit's project root)."""
    status, body = server.request(
        "POST",
        "/api/sessions",
        {"path": notebook, "type": "notebook", "name": "", "kernel": {"name": "python3"}},
    )
    assert status == 201, body
    session = json.loads(body)
    try:
        return asyncio.run(_execute(server, session["kernel"]["id"], sources, timeout))
    finally:
        server.request("DELETE", f"/api/sessions/{session['id']}")


async def _execute(
    server: Server, kernel: str, sources: Sequence[str], timeout: float
) -> list[dict[str, Any]]:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = server.base.replace("http://", "ws://", 1) + f"/api/kernels/{kernel}/channels"
    connection = await websocket_connect(
        HTTPRequest(url, headers={"Authorization": f"token {server.token}"})
    )
    expressions = {
        "cwd": "__import__('os').getcwd()",
        "root": "str(__import__('filmkit.paths').paths.project_root())",
    }
    replies = []
    try:
        for source in sources:
            msg_id = uuid.uuid4().hex
            request = {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": uuid.uuid4().hex,
                    "username": "test",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {
                    "code": source,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": expressions,
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "buffers": [],
            }
            await connection.write_message(json.dumps(request))
            while True:
                raw = await asyncio.wait_for(connection.read_message(), timeout)
                assert raw is not None, "the kernel's websocket closed"
                message = json.loads(raw)
                if (
                    message["channel"] == "shell"
                    and message["msg_type"] == "execute_reply"
                    and message["parent_header"].get("msg_id") == msg_id
                ):
                    replies.append(message["content"])
                    break
    finally:
        connection.close()
        while await asyncio.wait_for(connection.read_message(), 30) is not None:
            pass  # until the server has closed its side too
    return replies


def test_the_workspace_gets_the_lessons_once(released_course: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "student"
    course = REPO / "course"
    launch = lab.main(course=released_course, workspace=workspace, open_browser=False)
    lessons = workspace / STUDENT_LESSONS_DIR
    expected = sorted(p.name for p in course.iterdir() if p.is_file())
    assert sorted(p.name for p in lessons.iterdir()) == expected
    assert all((lessons / name).read_bytes() == (course / name).read_bytes() for name in expected)
    assert set(launch.copied) == {
        *(p.name for p in (released_course / "release").iterdir()),
        *(f"{STUDENT_LESSONS_DIR}/{name}" for name in expected),
    }
    in_order = [f"{STUDENT_LESSONS_DIR}/{p.name}" for p in lesson_paths()]
    assert list(launch.notebooks[: len(in_order)]) == in_order and NOTEBOOK in launch.notebooks
    # the kernels find the corpus the lessons came from; JupyterLab reads filmkit's defaults
    assert launch.environment["FILMKIT_ROOT"] == str(REPO)
    config_path = launch.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert config_path[0] == str(lab.JUPYTER_DEFAULTS)
    # a second launch copies nothing over the student's work, and puts back what is missing
    worked = lessons / "00-orientation.ipynb"
    worked.write_text('{"the": "student\'s work"}', encoding="utf-8")
    (lessons / "sample-essay.md").unlink()
    again = lab.main(course=released_course, workspace=workspace, open_browser=False)
    assert again.copied == (f"{STUDENT_LESSONS_DIR}/sample-essay.md",)
    assert worked.read_text(encoding="utf-8") == '{"the": "student\'s work"}'
    assert lab.main(course=released_course, workspace=workspace, open_browser=False).copied == ()


def test_a_lesson_runs_from_the_workspace(released_course: Path, tmp_path: Path) -> None:
    """The orientation lesson reads the corpus and ``sample-essay.md`` beside it."""
    workspace = tmp_path / "student"
    lesson = f"{STUDENT_LESSONS_DIR}/00-orientation.ipynb"
    with filmkit_lab(
        tmp_path / "lab.log", "--course", str(released_course), "--workspace", str(workspace)
    ) as server:
        assert f"copied {lesson} into the workspace" in server.output
        assert f"{server.base}/lab/tree/{lesson}?token={server.token}" in server.output
        cells = json.loads((workspace / lesson).read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        replies = run_cells(server, lesson, sources)
    failed = [(r.get("ename"), r.get("evalue")) for r in replies if r["status"] != "ok"]
    assert not failed and len(replies) == len(sources)
    values = {k: v["data"]["text/plain"] for k, v in replies[-1]["user_expressions"].items()}
    assert values == {"cwd": repr(str(workspace / STUDENT_LESSONS_DIR)), "root": repr(str(REPO))}


def test_student_lab_serves_the_release_without_formgrader(
    released_course: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "student"
    with filmkit_lab(
        tmp_path / "lab.log", "--course", str(released_course), "--workspace", str(workspace)
    ) as server:
        assert len(server.token) >= 24 and "127.0.0.1" in server.output
        assert f"{server.base}/lab/tree/{NOTEBOOK}?token={server.token}" in server.output
        assert (workspace / NOTEBOOK).is_file()
        assert server.get("/formgrader")[0] == 404
        status, page = server.get("/lab")
        disabled = re.search(r'"disabledExtensions": \[([^\]]*)\]', page)
        assert status == 200 and disabled and '"@jupyter/nbgrader:formgrader"' in disabled[1]
        # without the token the server refuses
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.base}/api/contents", timeout=10)
        refused.value.close()
        assert refused.value.code == 403
        # nbgrader's validate: the blank release fails its tests
        request = urllib.request.Request(
            f"{server.base}/assignments/validate",
            data=urlencode({"path": NOTEBOOK}).encode(),
            headers={"Authorization": f"token {server.token}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        assert answer["success"] is True
        assert set(answer["value"]) == {"failed"}  # the Validator's result for the blank release
        # JupyterLab will not ask about Jupyter's news; the user's settings are not written
        assert lab_setting(server, NOTIFICATION, "fetchNews") == "false"
        assert lab_setting(server, NOTIFICATION, "checkForUpdates") is False
    assert user_settings(tmp_path / "lab.log") == []


def test_instructor_lab_has_formgrader(released_course: Path, tmp_path: Path) -> None:
    """A course without an exchange folder: filmkit's note, not nbgrader's critical log line."""
    course = tmp_path / "course"
    shutil.copytree(released_course, course)
    exchange = tmp_path / "no-exchange"
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    log = tmp_path / "lab.log"
    with filmkit_lab(log, "--course", str(course), "--instructor") as server:
        assert "Formgrader:" in server.output
        notes = [line for line in server.output.splitlines() if line.startswith("note:")]
        assert len(notes) == 1 and f"no exchange folder at {exchange}" in notes[0]
        assert f"mkdir -p {exchange} && chmod 777 {exchange}" in notes[0]
        status, page = server.get("/formgrader/manage_assignments")
        # nbgrader found no exchange (and logged its line, left out): its banner says so
        assert status == 200 and 'id="warning-exchange"' in page
        status, body = server.get("/formgrader/api/assignments")
        assert status == 200
        assert {a["name"] for a in json.loads(body)} >= {ASSIGNMENT}
        assert lab_setting(server, NOTIFICATION, "fetchNews") == "false"
    assert NBGRADER_NO_EXCHANGE not in log.read_text()
    assert user_settings(log) == []


def test_with_an_exchange_the_instructor_lab_has_no_note(
    released_course: Path, tmp_path: Path
) -> None:
    course = tmp_path / "course"
    shutil.copytree(released_course, course)
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    launch = lab.main(course=course, instructor=True, open_browser=False)
    assert launch.notes == () and not any(a.startswith("--config=") for a in launch.argv)
    assert not (course / lab.SERVER_CONFIG).exists()
    # without it, the note and the server config that leaves nbgrader's line out
    exchange.rmdir()
    launch = lab.main(course=course, instructor=True, open_browser=False)
    assert len(launch.notes) == 1 and f"--config={course / lab.SERVER_CONFIG}" in launch.argv


def test_a_student_answers_and_passes_the_visible_test_in_the_browser(
    released_course: Path, tmp_path: Path, browser: Browser
) -> None:
    workspace = tmp_path / "student"
    cells = json.loads((released_course / "release" / NOTEBOOK).read_text())["cells"]
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in cells]
    setup, answer, test = (
        ids.index("setup"),
        ids.index("genre_counts"),
        ids.index("test_genre_counts"),
    )
    with filmkit_lab(
        tmp_path / "lab.log", "--course", str(released_course), "--workspace", str(workspace)
    ) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{server.base}/lab/tree/{NOTEBOOK}?token={server.token}&reset")
            notebook_cells = page.locator(
                ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
            )
            notebook_cells.nth(answer).wait_for()
            # the kernel has started and is idle (a cell run before that is not executed)
            page.locator("#jp-main-statusbar", has_text="Idle").wait_for()
            # run the read-only setup cell (imports and the corpus)
            notebook_cells.nth(setup).locator(".cm-content").click()
            page.keyboard.press("Shift+Enter")
            notebook_cells.nth(setup).locator(
                ".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")
            ).wait_for()
            # type a correct answer into the answer cell, run it and its visible test
            notebook_cells.nth(answer).locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text("genre_counts = analysis.term_counts(analysis.GENRE_TERMS)")
            page.keyboard.press("Shift+Enter")
            notebook_cells.nth(answer).locator(
                ".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")
            ).wait_for()
            page.keyboard.press("Shift+Enter")
            test_cell = notebook_cells.nth(test)
            test_cell.locator(".jp-OutputArea-output", has_text="✓ genre_counts").wait_for()
            assert (
                test_cell.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
            )
            assert "Error" not in test_cell.locator(".jp-OutputArea").inner_text()
        finally:
            page.screenshot(path=str(tmp_path / "student-lab.png"), full_page=False)
            page.close()
    assert (tmp_path / "student-lab.png").stat().st_size > 10_000
