"""Hostile and broken submissions of 01-genre-shifts, built in code, with what grading must make
of each (tests/test_grade_hostile.py grades them all in one run).

Each :class:`Case` writes ``submitted/<student>/01-genre-shifts/`` from the release: most hand in
an honest specimen (tests/fixtures/specimens/) with some answer cells replaced, then change the
notebook's JSON or add files. Nothing here is a committed file: the 100 MB notebook, the v3
notebook and the rest are made at test time.

What a case must score is said relative to the honest specimens, never as numbers:
:class:`Expect` names a specimen (``full``, ``partial``, ``blank``) whose gradebook scores, from a
run that grades the honest specimens alone, the case must equal, except for the grade cells it
lists as scoring 0 (by name, or "every autograded cell from this one on" in released order).
``Expect(None)`` means no score is recorded at all (a rejected submission).

A trick that tries to earn marks is built on ``blank`` (every test fails honestly), so the marks
it would earn if it worked show up as a difference from ``blank``. A repair (a deleted test cell,
a v3 notebook) is built on ``full``, so a repair that fails shows up as lost marks.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import nbformat

from filmkit.course.folder import Course
from filmkit.course.leaks import secrets_of
from filmkit.course.specimens import SUBMITTED_AT, Specimen, hand_in

ASSIGNMENT: Final = "01-genre-shifts"
NOTEBOOK: Final = "genre-shifts"  # the released notebook's name (without .ipynb)
HONEST: Final = ("full", "partial", "blank")
ALUMNUS: Final = "alumnus"  # graded before the hostile run and not again: its rows must stay
ALL: Final = "*"  # Expect.zero: every grade cell


@dataclass(frozen=True)
class Expect:
    """The score of every grade cell: ``like``'s, except the cells in ``zero`` (grade ids, or
    :data:`ALL`) and, with ``zero_from``, every autograded cell from that cell on (in released
    order) score 0 with nothing left to a marker. ``like=None``: no score is recorded."""

    like: str | None
    zero: tuple[str, ...] | str = ()
    zero_from: str | None = None

    def describe(self) -> str:
        if self.like is None:
            return "no score recorded"
        if self.zero == ALL:
            return "every grade cell 0"
        parts = [f"same as `{self.like}`"]
        if self.zero:
            parts.append("except " + ", ".join(self.zero) + " (0)")
        if self.zero_from:
            parts.append(f"except every autograded cell from {self.zero_from} on (0)")
        return " ".join(parts)


@dataclass(frozen=True)
class Desk:
    """What a builder gets: the course, the honest specimens, and where escapes would show."""

    course: Course
    specimens: Mapping[str, Specimen]
    markers: Path  # a host folder (below /tmp) that a trick escaping the sandbox writes into
    token: str  # in the command line of every process a case starts, to find leftovers
    repo: Path  # this checkout (a path a submission might guess)

    def folder(self, student: str) -> Path:
        return self.course.step_dir("submitted") / student / ASSIGNMENT

    def notebook(self, student: str) -> Path:
        return self.folder(student) / f"{NOTEBOOK}.ipynb"

    def source_notebook(self) -> Path:
        (notebook,) = self.course.notebooks(ASSIGNMENT)
        return notebook


Builder = Callable[[Desk, str], None]


@dataclass(frozen=True)
class Case:
    student: str
    description: str
    build: Builder
    status: str  # the Outcome status grading must record
    expect: Expect
    reason: tuple[str, ...] = ()  # what the one-line reason must say (empty: no reason at all)
    not_reason: tuple[str, ...] = ()  # what it must not say
    output: Mapping[str, str] = field(default_factory=dict)  # grade_id → text its output shows


# ---------------------------------------------------------------------------------------------
# Builders: hand in a specimen, then change the notebook's JSON or add files


def specimen(base: str, answers: Mapping[str, str] | None = None) -> Builder:
    """Hand in the honest specimen ``base`` with some answer cells replaced."""

    def build(desk: Desk, student: str) -> None:
        honest = desk.specimens[base]
        hand_in(
            desk.course,
            dataclasses.replace(
                honest, student=student, answers={**honest.answers, **(answers or {})}
            ),
        )

    return build


def then(first: Builder, *more: Callable[[Desk, str], None]) -> Builder:
    def build(desk: Desk, student: str) -> None:
        first(desk, student)
        for step in more:
            step(desk, student)

    return build


def trick(base: str, make: Callable[[Desk], Mapping[str, str]]) -> Builder:
    """Like :func:`specimen`, with answers that depend on the desk (host paths, the token)."""

    def build(desk: Desk, student: str) -> None:
        specimen(base, make(desk))(desk, student)

    return build


def edit_json(change: Callable[[dict[str, Any]], None]) -> Callable[[Desk, str], None]:
    """Change the handed-in notebook as JSON (as any editor could), bypassing nbformat."""

    def step(desk: Desk, student: str) -> None:
        path = desk.notebook(student)
        nb = json.loads(path.read_text(encoding="utf-8"))
        change(nb)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")

    return step


def add_files(files: Callable[[Desk], Mapping[str, str]]) -> Callable[[Desk, str], None]:
    def step(desk: Desk, student: str) -> None:
        for name, text in files(desk).items():
            (desk.folder(student) / name).write_text(text, encoding="utf-8")

    return step


def replace_notebook(make: Callable[[bytes], bytes]) -> Callable[[Desk, str], None]:
    def step(desk: Desk, student: str) -> None:
        path = desk.notebook(student)
        path.write_bytes(make(path.read_bytes()))

    return step


def rename_notebook(name: str) -> Callable[[Desk, str], None]:
    def step(desk: Desk, student: str) -> None:
        desk.notebook(student).rename(desk.folder(student) / name)

    return step


def grade_id(cell: Mapping[str, Any]) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return str(meta.get("grade_id", "")) if isinstance(meta, dict) else ""


def position(nb: Mapping[str, Any], wanted: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if grade_id(c) == wanted)


def delete_cell(wanted: str) -> Callable[[dict[str, Any]], None]:
    def change(nb: dict[str, Any]) -> None:
        del nb["cells"][position(nb, wanted)]

    return change


def duplicate_cell(wanted: str) -> Callable[[dict[str, Any]], None]:
    def change(nb: dict[str, Any]) -> None:
        index = position(nb, wanted)
        nb["cells"].insert(index + 1, json.loads(json.dumps(nb["cells"][index])))
        nb["cells"].insert(0, json.loads(json.dumps(nb["cells"][index])))

    return change


def move_to_end(*wanted: str) -> Callable[[dict[str, Any]], None]:
    def change(nb: dict[str, Any]) -> None:
        for name in wanted:
            nb["cells"].append(nb["cells"].pop(position(nb, name)))

    return change


def autograder_tests(nb: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for c in nb["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
        and not c["metadata"]["nbgrader"].get("solution")
    ]


def set_test_sources(source: str) -> Callable[[dict[str, Any]], None]:
    def change(nb: dict[str, Any]) -> None:
        for cell in autograder_tests(nb):
            cell["source"] = source

    return change


def strip_test_metadata(nb: dict[str, Any]) -> None:
    for cell in autograder_tests(nb):
        del cell["metadata"]["nbgrader"]


def to_markdown(wanted: str) -> Callable[[dict[str, Any]], None]:
    def change(nb: dict[str, Any]) -> None:
        cell = nb["cells"][position(nb, wanted)]
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)

    return change


def schema_version(version: int) -> Callable[[dict[str, Any]], None]:
    def change(nb: dict[str, Any]) -> None:
        for cell in nb["cells"]:
            if "nbgrader" in cell.get("metadata", {}):
                cell["metadata"]["nbgrader"]["schema_version"] = version

    return change


def kernelspec_ir(nb: dict[str, Any]) -> None:
    nb["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb["metadata"]["language_info"] = {"name": "R", "version": "4.3.0"}


def to_v3(data: bytes) -> bytes:
    """The notebook in nbformat 3, as an old Jupyter saved it (nbformat's own downgrade)."""
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    old = nbformat.convert(nb, 3)
    text: str = nbformat.writes(old, version=3)
    assert json.loads(text)["nbformat"] == 3
    return text.encode("utf-8")


def huge_notebook(size: int) -> Callable[[Desk, str], None]:
    """A notebook grown past ``size`` bytes by one giant output (an endless print, saved).

    Written in pieces: the notebook JSON around a placeholder, the filler streamed between."""

    def step(desk: Desk, student: str) -> None:
        path = desk.notebook(student)
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = nb["cells"][position(nb, "genre_counts")]
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "@@FILLER@@"}]
        head, tail = json.dumps(nb, indent=1, ensure_ascii=False).split("@@FILLER@@")
        line = "spam " * 19 + "spam\\n"  # escaped newline: valid inside the JSON string
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(head)
            chunk = line * (1 << 14)
            for _ in range(size // len(chunk) + 1):
                handle.write(chunk)
            handle.write(tail)

    return step


def untouched(desk: Desk, student: str) -> None:
    """The release as it was downloaded: copied byte for byte."""
    dest = desk.folder(student)
    shutil.copytree(desk.course.step_dir("release") / ASSIGNMENT, dest)
    (dest / "timestamp.txt").write_text(SUBMITTED_AT, encoding="utf-8")


def solutions(desk: Desk) -> dict[str, str]:
    """The instructor's model answers, from the source notebook (delimiters removed)."""
    nb = json.loads(desk.source_notebook().read_text(encoding="utf-8"))
    answers = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            text = "".join(cell["source"])
            kept = [
                line
                for line in text.splitlines()
                if "### BEGIN" not in line and "### END" not in line
            ]
            answers[meta["grade_id"]] = "\n".join(kept)
    return answers


def missing(desk: Desk, student: str) -> None:
    dest = desk.folder(student)
    dest.mkdir(parents=True)
    (dest / "timestamp.txt").write_text(SUBMITTED_AT, encoding="utf-8")
    (dest / "notes.txt").write_text("I'll send the notebook later, sorry!\n", encoding="utf-8")


def copy_release_as(name: str) -> Callable[[Desk, str], None]:
    def step(desk: Desk, student: str) -> None:
        release = desk.course.step_dir("release") / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        shutil.copy2(release, desk.folder(student) / name)

    return step


# ---------------------------------------------------------------------------------------------
# Code that students hand in


def cell(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


INFINITE_LOOP = cell(
    """
    while True:
        pass
    hedging_sources = []
    """
)
ENDLESS_PRINT = cell(
    """
    while True:
        print("all work and no play makes Jack a dull boy " * 20)
    """
)
MEMORY_BOMB = cell(
    """
    hog = [bytearray(1 << 28) for _ in range(64)]  # 16 GiB in 256 MiB blocks
    """
)
OS_EXIT = cell(
    """
    import os
    os._exit(0)
    """
)
IGNORES_TIMEOUTS = cell(
    """
    import signal
    for _signal in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):
        signal.signal(_signal, signal.SIG_IGN)
    while True:
        pass
    """
)
FORK_BOMB = cell(
    """
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
    """
)
INPUT_TRANSFORMER = "get_ipython().input_transformers_cleanup.append(lambda lines: [])"
AST_TRANSFORMER = cell(
    """
    import ast

    class Nothing(ast.NodeTransformer):
        def visit_Module(self, node):
            node.body = []
            return node

    get_ipython().ast_transformers.append(Nothing())
    """
)
RUN_CODE_PATCH = cell(
    """
    import types

    async def _ran(self, code_obj, result=None, *, async_=False):
        return False

    get_ipython().run_code = types.MethodType(_ran, get_ipython())
    """
)
CUSTOM_EXC = "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)"
EXCEPTHOOK = cell(
    """
    import sys
    sys.excepthook = lambda *args: None
    """
)
SHOWTRACEBACK = cell(
    """
    _ip = get_ipython()
    _ip._showtraceback = lambda *args, **kwargs: None
    _ip.showtraceback = lambda *args, **kwargs: None
    _ip.showsyntaxerror = lambda *args, **kwargs: None
    """
)
ANYTHING = cell(
    """
    class Anything:
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __hash__(self): return 0
        def __getattr__(self, name): return self
        def __call__(self, *args, **kwargs): return self
        def __getitem__(self, key): return self
        def __iter__(self): return iter([])
        def __len__(self): return 0
        def __bool__(self): return True
        def __float__(self): return 0.0
        def __lt__(self, other): return True
        __le__ = __gt__ = __ge__ = __lt__
    """
)
ANYTHING_ANSWERS = {
    "genre_counts": ANYTHING + "\n\ngenre_counts = Anything()",
    "label_range": "label_range = Anything()",
    "horror_kwic": "horror_kwic = Anything()",
    "hedged_horror": "hedged_horror = Anything()",
    "hedging_sources": "hedging_sources = Anything()",
    "first_mention": "first_mention = Anything()",
    "genre_shift_evidence": "genre_shift_evidence = Anything()",
}
LIST_OF_ANYTHING = cell(
    """
    class Same(str):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = str.__hash__

    hedging_sources = [Same("worth-watching"), Same("madness-music-genius")]
    genre_shift_evidence = [(Same("It starts as a romance"), Same("Glass")) for _ in range(4)]
    """
)


def spy(desk: Desk) -> str:
    """Look for the hidden tests, the solutions, the gradebook and other students' work wherever
    a submission might: relative paths, the host's absolute paths, a walk of the whole visible
    filesystem. Print what was found; use any source notebook found to answer every question."""
    course = desk.course.root
    run = course / ".filmkit" / "grading" / ASSIGNMENT / "run"
    guesses = [
        f"../../../source/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        "../../../gradebook.db",
        f"../../full/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        f"../../../submitted/full/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        str(desk.source_notebook()),
        str(course / "gradebook.db"),
        str(course / "submitted" / "full" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(course / "autograded" / ALUMNUS / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(run / "gradebook.db"),
        str(run / "submitted" / "full" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(desk.repo / "assignments" / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(desk.repo / "assignments" / "authoring" / "genre_shifts.py"),
        str(desk.repo / "tests" / "fixtures" / "specimens" / f"{ASSIGNMENT}.py"),
    ]
    # secret lines of the source (hidden tests, model solutions), encoded so that this cell's
    # own text, which the walk also reads, does not hold them
    secrets = [s.text for s in secrets_of(desk.source_notebook()) if s.kind != "delimiter"]
    needles = [base64.b64encode(s.encode()).decode() for s in secrets if len(s) >= 30]
    return cell(
        f"""
        import base64, json, os, sys

        _guesses = {guesses!r}
        _needles = [base64.b64decode(n) for n in {needles!r}]
        _found, _scanned = [], 0
        for _path in _guesses:
            if os.path.exists(_path):
                _found.append(_path)
        _skip = {{"/proc", "/sys", "/dev", "/usr", os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}}
        for _dir, _subdirs, _files in os.walk("/"):
            _subdirs[:] = [d for d in _subdirs if os.path.join(_dir, d) not in _skip]
            for _name in _files:
                _path = os.path.join(_dir, _name)
                _scanned += 1
                if _name.endswith((".db", ".sqlite")):
                    _found.append(_path)
                    continue
                try:
                    with open(_path, "rb") as _f:
                        _data = _f.read(20 << 20)
                except OSError:
                    continue
                if any(_n in _data for _n in _needles):
                    _found.append(_path)
        print("SPY scanned", _scanned, "files; found:", sorted(set(_found)))
        for _path in _found:  # answer every question with the model solutions, if found
            try:
                for _cell in json.load(open(_path))["cells"]:
                    if _cell["cell_type"] == "code" and "BEGIN SOLUTION" in "".join(_cell["source"]):
                        exec("".join(_cell["source"]), globals())
            except Exception:
                pass
        """
    )


def write_gradebook(desk: Desk) -> str:
    course = desk.course.root
    targets = [
        "../../../gradebook.db",
        str(course / "gradebook.db"),
        str(course / ".filmkit" / "grading" / ASSIGNMENT / "run" / "gradebook.db"),
    ]
    return cell(
        f"""
        import sqlite3

        for _path in {targets!r}:
            try:
                _db = sqlite3.connect(f"file:{{_path}}?mode=rw", uri=True)  # never create one
                _db.execute("UPDATE grade SET manual_score = 99")
                _db.execute("INSERT INTO student (id) VALUES ('mallory')")
                _db.commit()
                print("WROTE", _path)
            except Exception as error:
                print("DENIED", _path, type(error).__name__, error)
        """
    )


def write_texts(desk: Desk) -> str:
    guess = str(desk.repo / "source_texts" / "manifest.csv")
    return cell(
        f"""
        import os
        from filmkit.paths import source_texts_dir

        _texts = source_texts_dir()
        for _path in sorted(_texts.glob("*.txt")) + [_texts / "manifest.csv"]:
            try:
                with open(_path, "a", encoding="utf-8") as _f:
                    _f.write("\\nThe Perfection is a romantic comedy.\\n")
                print("WROTE", _path)
            except OSError as error:
                print("DENIED", _path, type(error).__name__)
            try:
                os.replace(_path, str(_path) + ".bak")
                print("WROTE", _path, "(moved)")
            except OSError as error:
                print("DENIED", _path, "(move)", type(error).__name__)
        try:  # the checkout's own texts, by a guessed path: only opened, never changed
            os.close(os.open({guess!r}, os.O_WRONLY | os.O_APPEND))
            print("WROTE", {guess!r}, "(opened for writing)")
        except OSError as error:
            print("DENIED", {guess!r}, type(error).__name__)
        """
    )


def write_other_student(desk: Desk) -> str:
    course = desk.course.root
    targets = [
        f"../../full/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
        str(course / "submitted" / "full" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(course / "submitted" / "full" / ASSIGNMENT / "pwned.txt"),
        str(course / "autograded" / ALUMNUS / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(
            course
            / ".filmkit"
            / "grading"
            / ASSIGNMENT
            / "run"
            / "submitted"
            / "full"
            / ASSIGNMENT
            / f"{NOTEBOOK}.ipynb"
        ),
    ]
    return cell(
        f"""
        for _path in {targets!r}:
            try:
                with open(_path, "a", encoding="utf-8") as _f:
                    _f.write("overwritten by another student")
                print("WROTE", _path)
            except OSError as error:
                print("DENIED", _path, type(error).__name__)
        """
    )


def marker_code(desk: Desk, name: str, say: str) -> str:
    marker = desk.markers / name
    return cell(
        f"""
        print({say!r})
        try:
            open({str(marker)!r}, "w").write("ran")
        except OSError:
            pass
        try:
            open("/tmp/filmkit-hostile-{name}", "w").write("ran")
        except OSError:
            pass
        """
    )


def shadowing_files(desk: Desk) -> dict[str, str]:
    return {
        "pandas.py": marker_code(desk, "pandas_py_ran", "SHADOWED: the submission's pandas.py ran")
        + '\nraise ImportError("the real pandas was shadowed")\n',
    }


def sitecustomize_files(desk: Desk) -> dict[str, str]:
    return {
        "sitecustomize.py": marker_code(
            desk, "sitecustomize_ran", "SHADOWED: the submission's sitecustomize.py ran"
        )
    }


def background(desk: Desk) -> str:
    """A subprocess and a double-forked daemon, both left running; prints that they started."""
    return cell(
        f"""
        import os, subprocess, sys, time

        _sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", {desk.token!r}])
        _pipe_r, _pipe_w = os.pipe()
        _first = os.fork()
        if _first == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(_pipe_w, b"%d" % os.getpid())
                os.execv(sys.executable, [sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", {desk.token!r}])
            os._exit(0)
        os.waitpid(_first, 0)
        _daemon = int(os.read(_pipe_r, 32))
        time.sleep(0.5)
        os.kill(_sleeper.pid, 0)
        os.kill(_daemon, 0)  # both alive: raises if not
        print("BACKGROUND STARTED", 2)
        """
    )


# ---------------------------------------------------------------------------------------------
# The catalogue

LIMITED = "hedging_sources"  # the answer cell the runaway cases put their code in


def full_with(answers: Mapping[str, str]) -> Builder:
    return specimen("full", answers)


def full_then(*steps: Callable[[Desk, str], None]) -> Builder:
    return then(specimen("full"), *steps)


CASES: Final[tuple[Case, ...]] = (
    Case(
        "untouched",
        "the release handed in byte for byte as downloaded",
        untouched,
        "graded",
        Expect("blank"),
    ),
    Case(
        "solved",
        "the instructor's own model answers (a full solution)",
        trick("blank", solutions),
        "graded",
        Expect("full"),
    ),
    Case(
        "infinite-loop",
        "an answer cell that loops forever",
        full_with({LIMITED: INFINITE_LOOP}),
        "limit",
        Expect("full", zero=("test_hedging_sources",)),
        reason=(LIMITED, "time limit"),
    ),
    Case(
        "endless-print",
        "an answer cell that prints forever",
        full_with({LIMITED: ENDLESS_PRINT}),
        "limit",
        Expect("full", zero=("test_hedging_sources",)),
        reason=(LIMITED, "output limit"),
    ),
    Case(
        "memory-bomb",
        "an answer cell that allocates 16 GiB",
        full_with({LIMITED: MEMORY_BOMB}),
        "limit",
        Expect("full", zero=("test_hedging_sources",)),
        reason=(LIMITED, "memory limit"),
    ),
    Case(
        "os-exit",
        "an answer cell that ends its own process (os._exit)",
        full_with({LIMITED: OS_EXIT}),
        "killed",
        Expect("full", zero_from="test_hedging_sources"),
        reason=(LIMITED, "scored 0"),
    ),
    Case(
        "ignores-timeouts",
        "an answer cell that ignores the timeout signals and loops forever",
        full_with({LIMITED: IGNORES_TIMEOUTS}),
        "killed",
        Expect("full", zero_from="test_hedging_sources"),
        reason=(f"{LIMITED} ran past the time limit", "scored 0"),
    ),
    Case(
        "fork-bomb",
        "an answer cell that forks until it can't, forever",
        full_with({"genre_shift_evidence": FORK_BOMB}),
        "limit",
        Expect("full", zero=("test_genre_shift_evidence",)),
        reason=("genre_shift_evidence", "time limit"),
    ),
    Case(
        "background-processes",
        "a subprocess and a double-forked daemon left running (full answers)",
        trick(
            "full",
            lambda desk: {
                "first_mention": desk.specimens["full"].answers["first_mention"]
                + "\n"
                + background(desk)
            },
        ),
        "graded",
        Expect("full"),
        output={"first_mention": "BACKGROUND STARTED 2"},
    ),
    Case(
        "deleted-test",
        "a test cell deleted (full answers)",
        full_then(edit_json(delete_cell("test_genre_counts"))),
        "repaired",
        Expect("full"),
        reason=("put back the missing cell test_genre_counts",),
    ),
    Case(
        "duplicated-test",
        "a test cell pasted twice more, once at the top (full answers)",
        full_then(edit_json(duplicate_cell("test_label_range"))),
        "repaired",
        Expect("full"),
        reason=("duplicate of test_label_range",),
    ),
    Case(
        "reordered-tests",
        "test cells moved to the end of the notebook (full answers)",
        full_then(edit_json(move_to_end("test_horror_kwic", "test_genre_counts"))),
        "repaired",
        Expect("full"),
        reason=("released order",),
    ),
    Case(
        "edited-tests",
        "every test cell edited to fail (full answers)",
        full_then(edit_json(set_test_sources('raise AssertionError("edited by the student")'))),
        "repaired",
        Expect("full"),
        reason=("restored test_genre_counts", "as released (edited)"),
    ),
    Case(
        "tests-made-to-pass",
        "every test cell edited to pass (blank answers)",
        then(specimen("blank"), edit_json(set_test_sources('print("all good")'))),
        "repaired",
        Expect("blank"),
        reason=("restored test_genre_counts", "as released (edited)"),
    ),
    Case(
        "stripped-metadata",
        "the nbgrader metadata of every test cell removed (full answers)",
        full_then(edit_json(strip_test_metadata)),
        "repaired",
        Expect("full"),
        reason=("restored the metadata of test_genre_counts",),
    ),
    Case(
        "test-as-markdown",
        "a test cell turned into a markdown cell (full answers)",
        full_then(edit_json(to_markdown("test_label_range"))),
        "repaired",
        Expect("full"),
        reason=("turned test_label_range back into a code cell",),
    ),
    Case(
        "unknown-schema",
        "nbgrader metadata with schema version 99 in every cell (full answers)",
        full_then(edit_json(schema_version(99))),
        "repaired",
        Expect("full"),
        reason=("schema 99",),
    ),
    Case(
        "kernelspec-r",
        "the notebook's kernel switched to R (full answers)",
        full_then(edit_json(kernelspec_ir)),
        "graded",
        Expect("full"),
    ),
    Case(
        "empty-notebook",
        "a notebook of 0 bytes",
        full_then(replace_notebook(lambda _data: b"")),
        "unreadable",
        Expect("full", zero=ALL),
        reason=(f"{NOTEBOOK}.ipynb is empty",),
    ),
    Case(
        "truncated-notebook",
        "a notebook cut off halfway (a full disk, a killed upload)",
        full_then(replace_notebook(lambda data: data[: len(data) // 2])),
        "unreadable",
        Expect("full", zero=ALL),
        reason=(f"{NOTEBOOK}.ipynb", "truncated"),
    ),
    Case(
        "not-json",
        "a text file named like the notebook",
        full_then(
            replace_notebook(lambda _data: b"Jupyter would not open, so here are my answers:\n42\n")
        ),
        "unreadable",
        Expect("full", zero=ALL),
        reason=(f"{NOTEBOOK}.ipynb", "not valid notebook JSON"),
        not_reason=("truncated",),  # it is whole: it just isn't a notebook
    ),
    Case(
        "not-utf8",
        "the notebook saved as UTF-16 (full answers)",
        full_then(replace_notebook(lambda data: data.decode("utf-8").encode("utf-16"))),
        "unreadable",
        Expect("full", zero=ALL),
        reason=(f"{NOTEBOOK}.ipynb", "not UTF-8"),
    ),
    Case(
        "v3-notebook",
        "the notebook in the old nbformat 3 (full answers)",
        full_then(replace_notebook(to_v3)),
        "repaired",
        Expect("full"),
        reason=("nbformat v3",),
    ),
    Case(
        "huge-notebook",
        "a 100 MB notebook (a giant saved output)",
        full_then(huge_notebook(100 << 20)),
        "unreadable",
        Expect("full", zero=ALL),
        reason=(f"{NOTEBOOK}.ipynb", "MB limit"),
    ),
    Case(
        "missing-notebook",
        "no notebook handed in, only a note",
        missing,
        "missing",
        Expect("full", zero=ALL),
        reason=(f"no {NOTEBOOK}.ipynb",),
    ),
    Case(
        "renamed-notebook",
        "the notebook handed in as genre-shifts-Copy1.ipynb (full answers)",
        full_then(rename_notebook(f"{NOTEBOOK}-Copy1.ipynb")),
        "repaired",
        Expect("full"),
        reason=(f"{NOTEBOOK}-Copy1.ipynb", f"{NOTEBOOK}.ipynb"),
    ),
    Case(
        "extra-notebooks",
        "two more notebooks beside the real one (full answers)",
        full_then(copy_release_as("scratch.ipynb"), copy_release_as("Untitled.ipynb")),
        "graded",
        Expect("full"),
        reason=("scratch.ipynb", "Untitled.ipynb"),
    ),
    Case(
        "input-transformer",
        "an input transformer that blanks every later cell (blank answers)",
        specimen("blank", {"genre_counts": INPUT_TRANSFORMER}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "ast-transformer",
        "an AST transformer that empties every later cell (blank answers)",
        specimen("blank", {"genre_counts": AST_TRANSFORMER}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "run-code-patch",
        "get_ipython().run_code replaced by a no-op (blank answers)",
        specimen("blank", {"genre_counts": RUN_CODE_PATCH}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "custom-exc",
        "set_custom_exc swallowing every exception (blank answers)",
        specimen("blank", {"genre_counts": CUSTOM_EXC}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "excepthook",
        "sys.excepthook silenced (blank answers)",
        specimen("blank", {"genre_counts": EXCEPTHOOK}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "showtraceback",
        "the shell's _showtraceback patched to show nothing (blank answers)",
        specimen("blank", {"genre_counts": SHOWTRACEBACK}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "equals-everything",
        "every answer an object whose __eq__ always returns True",
        specimen("blank", ANYTHING_ANSWERS),
        "graded",
        Expect("blank"),
    ),
    Case(
        "list-of-equals-everything",
        "lists of str subclasses whose __eq__ always returns True",
        specimen("blank", {"hedging_sources": LIST_OF_ANYTHING}),
        "graded",
        Expect("blank"),
    ),
    Case(
        "reads-hidden-tests",
        "looks for source/, the gradebook, other students' work and this checkout, and uses "
        "any model solution it finds (blank answers)",
        trick("blank", lambda desk: {"genre_counts": spy(desk)}),
        "graded",
        Expect("blank"),
        output={"genre_counts": "; found: []"},
    ),
    Case(
        "writes-gradebook",
        "changes every grade in the gradebook and adds a student (blank answers)",
        trick("blank", lambda desk: {"genre_counts": write_gradebook(desk)}),
        "graded",
        Expect("blank"),
        output={"genre_counts": "DENIED"},
    ),
    Case(
        "writes-source-texts",
        "appends to and moves the source texts the answers are marked against (blank answers)",
        trick("blank", lambda desk: {"genre_counts": write_texts(desk)}),
        "graded",
        Expect("blank"),
        output={"genre_counts": "DENIED"},
    ),
    Case(
        "writes-other-student",
        "writes into another student's submission and results (blank answers)",
        trick("blank", lambda desk: {"genre_counts": write_other_student(desk)}),
        "graded",
        Expect("blank"),
        output={"genre_counts": "DENIED"},
    ),
    Case(
        "pandas-py",
        "a pandas.py beside the notebook (full answers)",
        full_then(add_files(shadowing_files)),
        "graded",
        Expect("full"),
    ),
    Case(
        "sitecustomize-py",
        "a sitecustomize.py beside the notebook (full answers)",
        full_then(add_files(sitecustomize_files)),
        "graded",
        Expect("full"),
    ),
    Case(
        "o'brien-ß",
        "a student id with an apostrophe and a non-ASCII letter (partial answers)",
        specimen("partial"),
        "graded",
        Expect("partial"),
    ),
    Case(
        "jean luc",
        "a student id with a space (full answers)",
        specimen("full"),
        "graded",
        Expect("full"),
    ),
    Case(
        "x[1]",
        "a student id nbgrader cannot glob (full answers)",
        specimen("full"),
        "rejected",
        Expect(None),
        reason=("'x[1]'", "rename the folder"),
    ),
)
