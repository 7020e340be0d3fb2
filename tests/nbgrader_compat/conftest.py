"""The adapter: nbgrader's installed ``test_nbgrader_autograde.py``, unchanged, with each
``nbgrader autograde …`` it runs handed to ``filmkit grade …`` instead.

nbgrader's tests call ``run_nbgrader(["autograde", *args], retcode=…)`` (``nbgrader.tests``),
imported into the test module's namespace. An autouse fixture replaces that name for the length
of each test: ``autograde`` runs ``filmkit grade`` with the same arguments, one to one, as a
command in the test's working folder (where nbgrader's fixtures put ``nbgrader_config.py``), and
its exit status is checked against ``retcode`` as nbgrader's helper checks its own; every other
subcommand (``db``, ``generate_assignment``, ``validate``) still runs nbgrader's. No test body,
fixture or assertion is copied or changed.

``FILMKIT_NBGRADER_COMPAT=stock`` leaves ``autograde`` to nbgrader too: the baseline.

A test known to fail through filmkit (:data:`KNOWN`, none today; README "A drop-in for nbgrader
autograde") is a strict ``xfail``: when it is fixed, the run says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# nbgrader's fixtures, by name, from its installed conftest (the test class asks for them)
from nbgrader.tests.apps.conftest import course_dir, db, temp_cwd  # noqa: F401

# nbgrader's own commands start `alembic` through PATH: this environment's bin/ on it
from filmkit.course.folder import ensure_tools_on_path

ensure_tools_on_path()

MODE_ENV = "FILMKIT_NBGRADER_COMPAT"
HERE = Path(__file__).parent
# nbgrader's tests that fail through filmkit, and why
KNOWN: dict[str, str] = {}


def routed() -> bool:
    return os.environ.get(MODE_ENV, "filmkit") != "stock"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not routed():
        return
    for item in items:
        name = getattr(item, "originalname", item.name)
        if name in KNOWN and HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.xfail(reason=KNOWN[name], strict=True))


def filmkit_command() -> list[str]:
    """The installed ``filmkit`` console script of this environment."""
    found = shutil.which("filmkit", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(f"no filmkit command beside {sys.executable}: run `make setup`")
    return [found]


def through_filmkit(stock: Callable[..., str]) -> Callable[..., str]:
    """``run_nbgrader`` with ``autograde`` routed through ``filmkit grade``."""

    def run_nbgrader(
        args: list[str], retcode: int = 0, env: dict[str, str] | None = None, stdout: bool = False
    ) -> str:
        if not args or args[0] != "autograde":
            return stock(args, retcode=retcode, env=env, stdout=stdout)
        environ = dict(env if env is not None else os.environ)
        bin_dir = str(Path(sys.executable).parent)
        environ["PATH"] = os.pathsep.join([bin_dir, environ.get("PATH", "")])
        done = subprocess.run(
            [*filmkit_command(), "grade", *args[1:]],
            cwd=os.getcwd(),
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != retcode:
            raise AssertionError(
                f"process returned an unexpected return code: {done.returncode}\n"
                f"filmkit grade {' '.join(args[1:])}\n{output}"
            )
        return output

    return run_nbgrader


@pytest.fixture(autouse=True)
def _autograde_through_filmkit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from nbgrader.tests.apps import test_nbgrader_autograde as tests

    if routed():
        monkeypatch.setattr(tests, "run_nbgrader", through_filmkit(tests.run_nbgrader))
    yield
