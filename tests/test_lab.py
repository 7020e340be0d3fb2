"""``filmkit lab``: JupyterLab on loopback with a token, for a student and for the instructor, and
the student's path in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from filmkit.course import lab, release

from .conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-genre-shifts"
NOTEBOOK = "01-genre-shifts/genre-shifts.ipynb"


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
        request = urllib.request.Request(
            f"{self.base}{path}", headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            error.close()
            return error.code, ""


@contextmanager
def filmkit_lab(log: Path, *args: str) -> Iterator[Server]:
    """``filmkit lab ... --port P --no-browser`` as a subprocess; always stopped afterwards."""
    port = lab.free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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


def test_instructor_lab_has_formgrader(released_course: Path, tmp_path: Path) -> None:
    with filmkit_lab(
        tmp_path / "lab.log", "--course", str(released_course), "--instructor"
    ) as server:
        assert "Formgrader:" in server.output
        status, page = server.get("/formgrader/manage_assignments")
        assert status == 200 and "formgrader" in page.lower()
        status, body = server.get("/formgrader/api/assignments")
        assert status == 200
        assert {a["name"] for a in json.loads(body)} >= {ASSIGNMENT}


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
