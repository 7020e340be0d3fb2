"""The class cycle in a browser, on a running hub: two students, an instructor, an outsider.

A real JupyterHub (tests/hubs.py, as in test_hub.py) serves the course; Debian's chromium, driven
by Playwright, is each person in a browser context of their own (their own cookies). Each student
logs in on the hub's login page, opens nbgrader's Assignments tab from JupyterLab's Nbgrader
menu, fetches 01-genre-shifts, opens it, types their answers into the answer cells (one student
the specimen "full", the other "partial": tests/fixtures/specimens), saves, presses Validate and
submits from the tab. The instructor is the grader's own system account, as on a real machine:
``filmkit release``, ``collect``, ``grade`` and ``feedback --release`` run as that user (not as
root), and the written answer of one student is marked in formgrader, in the browser, through
the hub's service. Each student then fetches their feedback from the tab and opens it.

Checked along the way: what the browser typed is what the student's server saved; the scores the
hub's submissions get are those the same answers get when handed in directly (graded in a
course folder of their own: nothing is lost or changed on the way); the mark given in formgrader
is in the gradebook and in that student's feedback; each student's feedback page shows their own
total and no other student's name, and the other student's browser cannot open it; an account
outside the course sees no assignment and is refused formgrader. Requests leaving the machine
are blocked and recorded: the students' pages make none; formgrader's submission page makes one
(MathJax from a CDN, hard-coded in nbgrader's template). Everything is stopped at the end.

And the authenticator ``filmkit hub`` uses by default, PAM, on the hub's login page: a student
with a system password of their own gets in with it, not with another; a system account outside
the course does not get in with a right password.
"""

from __future__ import annotations

import contextlib
import csv
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import nbformat
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from filmkit.course import hub, release
from filmkit.course.folder import Course, load_course
from filmkit.course.specimens import Specimen, hand_in, load_specimens
from filmkit.grading import grade
from tests import hubs
from tests.browser import block_remote
from tests.conftest import course_copy, system_user

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="spawns servers as system users: needs root"),
    pytest.mark.skipif(shutil.which("useradd") is None, reason="useradd (passwd) is missing"),
    pytest.mark.skipif(shutil.which("runuser") is None, reason="runuser (util-linux) is missing"),
    pytest.mark.skipif(
        not Path("/usr/bin/python3").is_file(), reason="no distribution python3 for the students"
    ),
]

ASSIGNMENT = "01-genre-shifts"
FORMGRADER_MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"
NOTEBOOK = "genre-shifts"
SPECIMENS = ("full", "partial")  # what each of the two students types
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status=idle]"
SLOW = 180_000  # ms: a server spawning, a notebook validated, on two busy cores
# every list of the Assignments tab loaded: each shows its items, or says it has none
LISTED = """() => ["released", "fetched", "submitted"].every(name => {
  const shown = id => { const e = document.getElementById(id); return e && !e.hidden; };
  const items = document.querySelectorAll(`#${name}_assignments_list > .list_item`).length;
  return !shown(`${name}_assignments_list_loading`) && !shown(`${name}_assignments_list_error`)
    && (items > 0 || shown(`${name}_assignments_list_placeholder`));
})"""


@dataclass
class Person:
    name: str
    context: BrowserContext
    page: Page
    blocked: list[str]
    validated: str = ""  # the class of the dialog Validate showed


@dataclass
class Instructor:
    """The grader's system account, running filmkit commands as itself."""

    user: str
    environment: Path
    share: Path
    course: Path

    def run(self, *args: str) -> str:
        home = pwd.getpwnam(self.user).pw_dir
        done = subprocess.run(
            [
                "runuser",
                "-u",
                self.user,
                "--",
                "env",
                "-i",
                f"HOME={home}",
                f"USER={self.user}",
                f"PATH={self.environment / 'bin'}:/usr/bin:/bin",
                f"FILMKIT_ROOT={self.share}",
                "LANG=C.UTF-8",
                str(self.environment / "bin" / "filmkit"),
                *args,
            ],
            cwd=self.course,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, f"filmkit {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def shared() -> Iterator[Path]:
    with hubs.shared_folder() as root:
        yield root


def _released_cells(course: Path) -> dict[str, tuple[int, str]]:
    """grade_id → (index, cell type) of each cell of the released notebook."""
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: (index, cell.cell_type)
        for index, cell in enumerate(released.cells)
        if cell.metadata.get("nbgrader", {}).get("grade_id")
    }


def _log_in(browser: Browser, running: hub.RunningHub, user: str, next_url: str = "") -> Person:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    blocked = block_remote(context)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(running.url + "/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", secrets.token_hex(4))  # the dummy authenticator: tests only
    page.click("#login_submit")
    return Person(user, context, page, blocked)


def _jupyterlab(person: Person) -> None:
    """Wait for the person's own JupyterLab, spawned at login."""
    person.page.wait_for_url(f"**/user/{person.name}/lab**", timeout=SLOW)
    person.page.locator("#jp-main-dock-panel").wait_for(timeout=SLOW)
    person.page.locator('#jp-menu-panel div.lm-MenuBar-itemLabel:text("Nbgrader")').wait_for(
        timeout=SLOW
    )


def _assignments_tab(page: Page) -> None:
    tab = page.locator('#jp-main-dock-panel .lm-TabBar-tab:has-text("Assignments")')
    if not tab.count():
        page.locator('#jp-menu-panel div.lm-MenuBar-itemLabel:text("Nbgrader")').click()
        page.locator('.lm-Menu li[data-command="nbgrader:open-assignment-list"]').click()
    tab.first.click()
    page.locator("#refresh_assignments_list").click()
    page.wait_for_function(LISTED, timeout=SLOW)


def _rows(page: Page, name: str) -> list[str]:
    """The assignments listed under ``name`` (released, fetched, submitted)."""
    items = page.locator(f"#{name}_assignments_list > .list_item > div > .item_name")
    return [text.strip() for text in items.all_inner_texts()]


def _fetch_answer_submit(person: Person, course: Path, specimen: Specimen) -> None:
    page = person.page
    _assignments_tab(page)
    assert _rows(page, "released") == [ASSIGNMENT]
    page.locator("#released_assignments_list > .list_item .item_status button").click()
    page.locator("#fetched_assignments_list > .list_item").first.wait_for(timeout=SLOW)
    assert _rows(page, "fetched") == [ASSIGNMENT]
    # open the notebook from the fetched assignment's list of notebooks
    toggle = page.locator(f'#fetched_assignments_list a:text-is("{ASSIGNMENT}")')
    link = page.locator(f'#fetched_assignments_list a:text-is("{NOTEBOOK}")')
    for _ in range(3):  # the tab may redraw the list (collapsed) just after the click
        if link.is_visible():
            break
        toggle.click()
        with contextlib.suppress(PlaywrightTimeout):
            link.wait_for(state="visible", timeout=5_000)
    link.click()
    cells = _released_cells(course)
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    cell = page.locator(CELLS)
    page.wait_for_function(
        f"n => document.querySelectorAll('{CELLS}').length === n",
        arg=len(released.cells),
        timeout=SLOW,
    )
    # typed once the kernel is up (JupyterLab re-renders the notebook's toolbar as it starts)
    page.locator(IDLE).wait_for(timeout=SLOW)
    for grade_id, text in specimen.answers.items():
        index, kind = cells[grade_id]
        target = cell.nth(index)
        target.scroll_into_view_if_needed()
        if kind == "markdown":
            target.locator(".jp-MarkdownOutput").dblclick()
        editor = target.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(text)
        page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    # what the browser typed is what the student's server saved
    saved_path = Path(pwd.getpwnam(person.name).pw_dir) / "perfection" / ASSIGNMENT
    saved_path = saved_path / f"{NOTEBOOK}.ipynb"

    def saved_answers() -> dict[str, str] | None:
        saved = nbformat.read(saved_path, as_version=4)
        found = {
            cell.metadata["nbgrader"]["grade_id"]: cell.source
            for cell in saved.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id") in specimen.answers
        }
        return found if found == dict(specimen.answers) else None

    _poll(saved_answers, f"{person.name}'s answers saved", page)
    # Validate: nbgrader runs the notebook in the student's server and says how it went
    page.locator("jp-button.validate-button").click()
    dialog = page.locator(".nbgrader-SuccessDialog, .nbgrader-ErrorDialog")
    dialog.wait_for(timeout=SLOW)
    person.validated = dialog.get_attribute("class") or ""
    dialog.locator("button.jp-Dialog-button").click()
    # handed in from the Assignments tab
    _assignments_tab(page)
    page.locator(
        '#fetched_assignments_list > .list_item .item_status button:text("Submit")'
    ).click()
    page.locator("#submitted_assignments_list > .list_item").first.wait_for(timeout=SLOW)
    assert _rows(page, "submitted") == [ASSIGNMENT]


def _poll(predicate, what: str, page: Page, timeout: float = 120):  # type: ignore[no-untyped-def]
    """``predicate()``'s first true value; waits in the browser, which goes on meanwhile."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = predicate()
        except (OSError, ValueError, KeyError):
            found = None
        if found:
            return found
        page.wait_for_timeout(300)
    raise TimeoutError(f"timed out waiting for {what}")


def _expected_scores(tmp: Path, students: dict[str, Specimen]) -> pd.DataFrame:
    """The same answers handed in directly and graded in a course folder of their own."""
    root = course_copy(tmp / "direct", ASSIGNMENT)
    release.main([ASSIGNMENT], course=root, validate=False)
    direct = load_course(root)
    for student, specimen in students.items():
        hand_in(direct, replace(specimen, student=student))
    grade.main(ASSIGNMENT, course=root, jobs=1)
    return _scores(direct)


def _scores(course: Course) -> pd.DataFrame:
    table = grade.scores(course, ASSIGNMENT)
    columns = ["student", "question", "auto_score", "max_score"]
    return table[columns].sort_values(columns[:2]).reset_index(drop=True)


def test_two_students_and_an_instructor_through_the_hub_in_a_browser(
    shared: Path, browser: Browser, tmp_path: Path
) -> None:
    exchange_dir = Path(tempfile.mkdtemp(prefix="filmkit-exchange-"))
    exchange_dir.chmod(0o1777)
    course = course_copy(shared / f"course-{secrets.token_hex(3)}", ASSIGNMENT)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange_dir)!r}\n")
        config.write("c.Exchange.path_includes_course = True\n")
    specimens = {s.student: s for s in load_specimens(ASSIGNMENT) if s.student in SPECIMENS}
    token = secrets.token_hex(16)
    people: list[Person] = []
    with (
        system_user("fka", shell="/bin/bash") as first,
        system_user("fkb", shell="/bin/bash") as second,
        system_user("fkout", shell="/bin/bash") as outside,
        system_user("fkgrader", shell="/bin/bash") as grader_entry,
    ):
        students = {first.pw_name: specimens["full"], second.pw_name: specimens["partial"]}
        grader = grader_entry.pw_name
        roster = course / "roster.csv"
        with roster.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "first_name", "last_name", "email", "lms_user_id"])
            for n, student in enumerate(students):
                writer.writerow([student, f"Student{n}", student.upper(), "", ""])
        subprocess.run(["chown", "-R", f"{grader}:", str(course)], check=True)
        instructor = Instructor(grader, shared / "env", shared / "share", course)
        loaded = load_course(course)
        settings = hubs.loopback_settings(
            loaded,
            shared,
            tmp_path / "hub-state",
            students=tuple(students),
            graders=(grader,),
            others=(outside.pw_name,),
        )
        try:
            with hubs.dummy_logins(), hub.running(settings, token, tmp_path / "hub.log") as running:
                # the instructor releases to the exchange and adds the roster, as themselves
                instructor.run("release", ASSIGNMENT, "--no-validate", "--course", str(course))
                instructor.run(
                    "hub", "--course", str(course), "roster", "add", str(roster), "--no-users"
                )
                for student, specimen in students.items():
                    person = _log_in(browser, running, student)
                    people.append(person)
                    _jupyterlab(person)
                    _fetch_answer_submit(person, course, specimen)
                by_name = {p.name: p for p in people}
                # validation, in the students' own servers: the full answers pass, the partial not
                assert "SuccessDialog" in by_name[first.pw_name].validated
                assert "ErrorDialog" in by_name[second.pw_name].validated

                # the instructor collects and grades, as themselves
                collected = instructor.run("collect", ASSIGNMENT, "--course", str(course))
                assert all(student in collected for student in students), collected
                instructor.run("grade", ASSIGNMENT, "--course", str(course))
                through_hub = _scores(load_course(course))
                expected = _expected_scores(tmp_path, students)
                pd.testing.assert_frame_equal(through_hub, expected)

                # one essay marked in formgrader, through the hub's service, in the browser
                service = f"/services/{loaded.course_id}/formgrader"
                marker = _log_in(browser, running, grader, next_url=f"{service}/gradebook")
                people.append(marker)
                mark = _mark_essay(marker, running, loaded, service, first.pw_name)

                instructor.run("feedback", ASSIGNMENT, "--release", "--course", str(course))
                for student in students:
                    _check_feedback(by_name[student], running, loaded, students, mark)
                # the other student's browser cannot open a student's feedback
                own = _feedback_url(running, first.pw_name)
                refused = by_name[second.pw_name].page.request.get(own, max_redirects=0)
                assert refused.status in (302, 403, 404), refused.status
                assert "Score:" not in refused.text()

                # an account outside the course: no assignment, no formgrader
                stranger = _log_in(browser, running, outside.pw_name)
                people.append(stranger)
                _jupyterlab(stranger)
                _assignments_tab(stranger.page)
                assert _rows(stranger.page, "released") == []
                assert _rows(stranger.page, "submitted") == []
                answer = stranger.page.request.get(running.url + service + "/gradebook")
                assert answer.status == 403, answer.status
                for person in people:
                    # nothing a student's JupyterLab, notebook or feedback asks for leaves the
                    # machine; formgrader's submission page asks a CDN for MathJax (nbgrader's
                    # template hard-codes it; offline the page works without it)
                    outside_calls = {url.split("?")[0] for url in person.blocked}
                    allowed = {FORMGRADER_MATHJAX} if person is marker else set()
                    assert outside_calls <= allowed, (person.name, person.blocked)
                    person.context.close()
                people.clear()
            assert hubs.server_owner(first.pw_name) is None  # the hub stopped every server
        finally:
            for person in people:
                person.context.close()
            shutil.rmtree(exchange_dir, ignore_errors=True)


def _mark_essay(
    marker: Person, running: hub.RunningHub, course: Course, service: str, student: str
) -> float:
    """Mark ``student``'s written answer in formgrader; returns the mark given."""
    from nbgrader.api import Gradebook

    page = marker.page
    page.wait_for_url(f"**{service}/gradebook**", timeout=SLOW)
    page.goto(running.url + f"{service}/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
    row = page.locator("tr", has=page.locator("td.name", has_text=student.upper()))
    row.locator("td.name a.name-hidden").wait_for(timeout=SLOW)  # formgrader lists them by script
    page.locator("#toggle_names").click()
    row.locator("td.name a.name-shown").click()
    with Gradebook(course.db_url) as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        essay = next(g for g in notebook.grades if g.name == "essay_genre")
        assert essay.score == 0 and essay.manual_score is None  # nobody has marked it yet
        given = essay.max_score - 1
    # the score box once formgrader's script has bound it to the grade (it flags the ungraded)
    score = page.locator("input.score.needs_manual_grade#essay_genre")
    score.wait_for(timeout=SLOW)
    score.fill(f"{given:g}")
    score.press("Tab")  # formgrader saves when the value changes

    def marked() -> bool:
        with Gradebook(course.db_url) as gb:
            notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            grade_ = next(g for g in notebook.grades if g.name == "essay_genre")
            return grade_.manual_score == given

    _poll(marked, "formgrader's mark in the gradebook", page)
    return float(given)


def _feedback_url(running: hub.RunningHub, student: str) -> str:
    home = Path(pwd.getpwnam(student).pw_dir)
    found = sorted((home / "perfection" / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    assert found, f"{student} has no feedback"
    relative = found[-1].relative_to(home).as_posix()
    return f"{running.url}/user/{student}/files/{relative}"


def _check_feedback(
    person: Person,
    running: hub.RunningHub,
    course: Course,
    students: dict[str, Specimen],
    mark: float,
) -> None:
    from nbgrader.api import Gradebook

    page = person.page
    _assignments_tab(page)
    page.locator('#submitted_assignments_list button:text("Fetch Feedback")').click()
    page.locator('#submitted_assignments_list a:text("(view feedback)")').wait_for(timeout=SLOW)
    page.locator('#submitted_assignments_list a:text("(view feedback)")').click()
    page.locator(f'.jp-DirListing-item:has-text("{NOTEBOOK}.html")').wait_for(timeout=SLOW)
    page.goto(_feedback_url(running, person.name))
    text = page.locator("body").inner_text()
    with Gradebook(course.db_url) as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, person.name)
        essay = next(g for g in notebook.grades if g.name == "essay_genre")
        awaiting = 0.0 if essay.manual_score is not None else essay.max_score
        total = (
            f"(Score: {round(notebook.score, 2):g} / {round(notebook.max_score - awaiting, 2):g})"
        )
    assert total in text, text[:400]
    if essay.manual_score is not None:
        assert essay.manual_score == mark
    else:
        assert "awaiting marking" in text
    others = [s for s in students if s != person.name]
    assert not any(other in text or other.upper() in text for other in others)


def test_pam_lets_a_student_in_with_their_own_password_only(
    shared: Path, browser: Browser, tmp_path: Path
) -> None:
    # the authenticator filmkit hub uses by default: the student's system account and password
    course = course_copy(tmp_path / "course", ASSIGNMENT)
    exchange_dir = tmp_path / "exchange"
    exchange_dir.mkdir()
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange_dir)!r}\n")
    password = secrets.token_urlsafe(12)
    with system_user("fkpam", shell="/bin/bash") as entry, system_user("fkother") as other:
        student = entry.pw_name
        subprocess.run(["chpasswd"], input=f"{student}:{password}\n", text=True, check=True)
        subprocess.run(["chpasswd"], input=f"{other.pw_name}:{password}\n", text=True, check=True)
        settings = replace(
            hubs.loopback_settings(
                load_course(course), shared, tmp_path / "hub-state", students=(student,)
            ),
            authenticator="pam",
        )
        with hub.running(settings, secrets.token_hex(16), tmp_path / "hub.log") as running:
            home = "/hub/home"
            attempts = [
                (student, password[::-1]),  # a wrong password
                (other.pw_name, password),  # a system account not in the course
                (student, password),
            ]
            landed = []
            for user, given in attempts:
                context = browser.new_context()
                try:
                    page = context.new_page()
                    page.goto(f"{running.url}/hub/login?next={home}")
                    page.fill("#username_input", user)
                    page.fill("#password_input", given)
                    page.click("#login_submit")
                    page.wait_for_load_state()
                    landed.append(urlsplit(page.url).path)
                    if landed[-1] == home:
                        assert user in page.locator("body").inner_text()
                finally:
                    context.close()
            assert landed == ["/hub/login", "/hub/login", home]
