"""The term through nbgrader's exchange (filmkit.course.exchange), with real students.

Two throwaway system users (``useradd``, removed at teardown) act as students: each fetches
01-genre-shifts from the exchange, answers it (a specimen's answers) and submits it, with
nbgrader's own exchange classes, as that user, in their own home. The instructor releases,
collects, grades, writes feedback and hands it back with filmkit's commands; each student then
fetches their feedback and finds their own score in it, and nobody else's. Needs root (to make
the users); skipped otherwise, saying so.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from filmkit.cli import main as cli
from filmkit.course.folder import load_course
from filmkit.course.specimens import Specimen, answer, load_specimens
from filmkit.grading import grade
from tests.conftest import course_copy, system_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="makes system users for the students: needs root"),
    pytest.mark.skipif(shutil.which("useradd") is None, reason="useradd (passwd) is missing"),
]

ASSIGNMENT = "01-genre-shifts"
NOTEBOOK = "genre-shifts.ipynb"
COURSE_ID = "perfection"


@dataclass(frozen=True)
class Student:
    name: str
    uid: int
    gid: int
    home: Path

    def act(self, exchange: Path, action: str, answers: bytes = b"") -> int:
        """Run one of nbgrader's student-side exchange steps as this user, in a forked child
        (nbgrader is imported already: the child reads nothing of the project's folders)."""
        from nbgrader.auth import Authenticator
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.exchange.default import (
            ExchangeFetchAssignment,
            ExchangeFetchFeedback,
            ExchangeSubmit,
        )
        from traitlets.config import Config

        steps = {
            "fetch": ExchangeFetchAssignment,
            "submit": ExchangeSubmit,
            "fetch_feedback": ExchangeFetchFeedback,
        }
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgroups([])
                os.setgid(self.gid)
                os.setuid(self.uid)
                os.environ.update(HOME=str(self.home), USER=self.name, LOGNAME=self.name)
                os.chdir(self.home)
                if action == "list_feedback":  # nbgrader's feedback folder: enter, not list
                    try:
                        os.listdir(exchange / COURSE_ID / "feedback")
                    except PermissionError:
                        os._exit(0)
                    os._exit(1)
                if action == "submit":  # the student's answers, in the fetched notebook
                    (self.home / COURSE_ID / ASSIGNMENT / NOTEBOOK).write_bytes(answers)
                config = Config()
                config.Exchange.root = str(exchange)
                config.Exchange.path_includes_course = True
                config.Exchange.cache = str(self.home / ".nbgrader_cache")
                config.CourseDirectory.course_id = COURSE_ID
                coursedir = CourseDirectory(config=config, root=str(self.home))
                coursedir.assignment_id = ASSIGNMENT
                authenticator = Authenticator(config=config)  # nbgrader's: no hub, no auth plugin
                steps[action](
                    coursedir=coursedir, authenticator=authenticator, config=config
                ).start()
                code = 0
            except BaseException:
                traceback.print_exc()  # pytest shows the child's stderr with the failure
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)


@contextlib.contextmanager
def student(prefix: str) -> Iterator[Student]:
    with system_user(prefix, shell="/usr/sbin/nologin") as entry:
        yield Student(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


@pytest.fixture
def exchange() -> Iterator[Path]:
    # outside pytest's own temporary folder, which only root may enter
    root = Path(tempfile.mkdtemp(prefix="filmkit-exchange-"))
    root.chmod(0o777)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _invoke(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def test_a_term_through_the_exchange(exchange: Path, tmp_path: Path) -> None:
    course = course_copy(tmp_path / "course", ASSIGNMENT)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
        config.write("c.Exchange.path_includes_course = True\n")
    output = _invoke("release", ASSIGNMENT, "--no-validate", "--course", str(course))
    assert "Released 01-genre-shifts to the exchange" in output
    answers = {s.student: s for s in load_specimens(ASSIGNMENT)}

    with student("fkfull") as ann, student("fkpart") as bob:
        for who, specimen in ((ann, "full"), (bob, "partial")):
            assert who.act(exchange, "fetch") == 0
            fetched = who.home / COURSE_ID / ASSIGNMENT / NOTEBOOK
            assert fetched.is_file()
            answered = _answered(course, fetched, answers[specimen])
            assert who.act(exchange, "submit", answered) == 0

        output = _invoke("collect", ASSIGNMENT, "--course", str(course))
        assert ann.name in output and bob.name in output
        loaded = load_course(course)
        for who in (ann, bob):
            assert (
                loaded.step_dir("submitted") / who.name / ASSIGNMENT / "timestamp.txt"
            ).is_file()

        summary = grade.main(ASSIGNMENT, course=course, jobs=1)
        assert set(summary.graded) == {ann.name, bob.name}
        totals = summary.totals().set_index("student")
        assert totals.loc[ann.name, "score"] > totals.loc[bob.name, "score"]

        _invoke("feedback", ASSIGNMENT, "--release", "--course", str(course))
        scores = {_score(_own_feedback(course, who.name)) for who in (ann, bob)}
        assert len(scores) == 2  # the two feedback pages can be told apart by their score
        for who in (ann, bob):
            assert who.act(exchange, "fetch_feedback") == 0
            pages = list((who.home / COURSE_ID / ASSIGNMENT / "feedback").glob("*/*.html"))
            assert [p.name for p in pages] == [f"{Path(NOTEBOOK).stem}.html"]
            assert _score(pages[0].read_text(encoding="utf-8")) == _score(
                _own_feedback(course, who.name)
            )
            # and the exchange's feedback folder cannot be listed by a student
            assert who.act(exchange, "list_feedback") == 0


def _answered(course: Path, fetched: Path, specimen: Specimen) -> bytes:
    """The fetched notebook with the specimen's answers in it (as the student would type)."""
    nb = nbformat.reads(fetched.read_text(encoding="utf-8"), as_version=4)
    assert answer(nb, specimen)
    return nbformat.writes(nb).encode()


def _own_feedback(course: Path, student_id: str) -> str:
    (page,) = (course / "feedback" / student_id / ASSIGNMENT).glob("*.html")
    return page.read_text(encoding="utf-8")


def _score(html: str) -> str:
    found = re.search(r"Score:\s*([0-9.]+\s*/\s*[0-9.]+)", html)
    assert found, "no score in the feedback"
    return found.group(1)
