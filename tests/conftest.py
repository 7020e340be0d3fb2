"""Shared fixtures: the real corpus, and a throwaway copy of it for tampering."""

from __future__ import annotations

import contextlib
import pwd
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from filmkit.corpus import Corpus, load_corpus
from filmkit.lessons import ExecutedLesson, execute_lessons
from filmkit.paths import project_root

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from filmkit.site import SiteReport

REPO = project_root()
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A project root holding a copy of source_texts/, safe to alter."""
    shutil.copytree(REPO / "source_texts", tmp_path / "source_texts")
    return tmp_path


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory: pytest.TempPathFactory) -> list[ExecutedLesson]:
    """Every lesson executed once per test session (fresh kernels, warnings as errors)."""
    return execute_lessons(tmp_path_factory.mktemp("executed-lessons"), jobs=2)


@pytest.fixture(scope="session")
def built_site(
    executed_lessons: list[ExecutedLesson], tmp_path_factory: pytest.TempPathFactory
) -> SiteReport:
    """The course site (filmkit publish), built once per session from the executed lessons."""
    from filmkit import site

    return site.main(
        out=tmp_path_factory.mktemp("site") / "_site",
        executed=[lesson.executed for lesson in executed_lessons],
    )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's /usr/bin/chromium, installed with apt-get when missing (see tests/browser.py)."""
    from tests.browser import ensure_chromium

    return ensure_chromium()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """A headless chromium driven by Playwright (never a Playwright-downloaded build).

    Per module: Playwright's sync API runs one instance per thread at a time, so a test module
    that starts its own ``sync_playwright()`` still can while no other module's browser is open.
    """
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def course_copy(root: Path, assignment: str) -> Path:
    """A course folder holding the project's nbgrader_config.py and one assignment's source."""
    root.mkdir(parents=True)
    shutil.copy2(REPO / "assignments" / "nbgrader_config.py", root)
    shutil.copytree(REPO / "assignments" / "source" / assignment, root / "source" / assignment)
    return root


def essay_notebook(path: Path, essay: str) -> Path:
    """A notebook whose one answer cell (grade id "essay", 3 points) holds ``essay``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell(essay)
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "essay", "points": 3}
    nb.cells = [nbformat.v4.new_markdown_cell("Question"), cell]
    nbformat.write(nb, path)
    return path


@contextlib.contextmanager
def system_user(prefix: str, *, shell: str = "/bin/sh") -> Iterator[pwd.struct_passwd]:
    """A throwaway system user with a private home (root only), removed with every process of
    it at the end; for tests that act as a student, a grader or a new user."""
    name = f"{prefix}{secrets.token_hex(3)}"
    subprocess.run(
        ["useradd", "--system", "--create-home", "--shell", shell, name],
        check=True,
        capture_output=True,
    )
    try:
        entry = pwd.getpwnam(name)
        Path(entry.pw_dir).chmod(0o700)
        yield entry
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False, capture_output=True)
        time.sleep(0.2)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
