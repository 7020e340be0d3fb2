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

Besides scores, a case may say what its outputs must not show (``never_shows``: secrets the
sandbox must never hold, computed from the source notebook and the other specimens), that the
markup it hands in must not reach the autograded outputs or the feedback as it is (``markup``),
or that its essay check must report on the essay handed in (``essay_report``). The forged-results
cases (:data:`FORGED_CASES`) are graded in a run of their own, on one worker.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import nbformat

from filmkit.course.folder import Course
from filmkit.course.leaks import DELIMITERS, secrets_of
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
    # other statuses grading may record instead of ``status`` (the reason is then checked as for
    # any status but "graded": one line, saying ``reason``)
    also_status: tuple[str, ...] = ()
    # texts that no output of the student's own cells (nor their feedback) may show: secrets
    # the sandbox must never hold (hidden tests, solutions, another student's work)
    never_shows: Callable[[Desk], Sequence[str]] | None = None
    # the student's cells display markup (scripts, event handlers, CSS) and the essay may hold
    # raw HTML: the autograded outputs of student cells and the feedback must carry none of it
    markup: bool = False
    # an essay-check cell (``evidence_report``): its output must be the report on the essay as
    # submitted, whatever the submission wrote into its working folder or environment
    essay_report: str | None = None


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
# Code that edits the answer key or the grader in the student's own process
#
# Every trick below is handed in with WRONG answers: what the answer key would give if the
# texts named no genre at all (EMPTY_ANSWERS), or answers that pass the visible checks and fail
# the hidden tests (NEAR_MISSES). Each then edits whatever the tests of today's in-process
# grader would consult (the analysis functions, the cached corpus, the marking module, numpy,
# the compiler, the executor, the queued test cells) so that the wrong answers pass. A grader
# that runs the tests in a judge process of its own scores them exactly as ``blank``.

KWIC_COLUMNS: Final = ["source", "paragraph", "start", "end", "left", "keyword", "right"]
ZERO_COUNTS = "genre_counts = pd.DataFrame(0, index=corpus.ids, columns=list(analysis.GENRE_TERMS))"
EMPTY_ANSWERS: Final = {
    "label_range": "label_range = pd.Series(0, index=corpus.ids)",
    "horror_kwic": f"horror_kwic = pd.DataFrame(columns={KWIC_COLUMNS!r})",
    "hedged_horror": f"hedged_horror = pd.DataFrame(columns={KWIC_COLUMNS!r})",
    "hedging_sources": "hedging_sources = []",
    "first_mention": (
        'first_mention = pd.DataFrame(float("nan"), index=corpus.ids, '
        "columns=list(analysis.GENRE_TERMS))"
    ),
    "genre_shift_evidence": "genre_shift_evidence = []",
}
NEAR_MISSES: Final = {  # right shape, right spot-checked value, every other value wrong
    "label_range": cell(
        """
        label_range = pd.Series(0, index=corpus.ids)
        _found = analysis.find_terms(analysis.GENRE_TERMS)
        label_range["worth-watching"] = _found.loc[_found["source"] == "worth-watching", "label"].nunique()
        """
    ),
    "first_mention": cell(
        """
        _used = analysis.term_counts(analysis.GENRE_TERMS) > 0
        first_mention = _used.astype(float).where(_used) * 0.5  # NaN where unused, else 0.5
        """
    ),
}
NEAR_MISS_COUNTS = cell(
    """
    genre_counts = pd.DataFrame(0, index=corpus.ids, columns=list(analysis.GENRE_TERMS))
    _thrillers = analysis.find_terms({"thriller": analysis.GENRE_TERMS["thriller"]})
    genre_counts.loc["worth-watching", "thriller"] = (_thrillers["source"] == "worth-watching").sum()
    """
)


def wrong_answers(trick: str, *, near_misses: bool = False) -> dict[str, str]:
    """Wrong answers, with ``trick`` run first (in the first answer cell)."""
    if near_misses:
        return {"genre_counts": trick + "\n\n" + NEAR_MISS_COUNTS, **NEAR_MISSES}
    return {"genre_counts": trick + "\n\n" + ZERO_COUNTS, **EMPTY_ANSWERS}


PATCH_ANALYSIS = cell(
    """
    import filmkit.analysis

    _ids = list(corpus.ids)

    def _no_terms(terms, corpus=None):
        return pd.DataFrame(columns=["label", "term", "source", "paragraph", "start", "end", "text"])

    def _my_counts(terms, corpus=None):
        return pd.DataFrame(0, index=_ids, columns=list(terms))

    def _my_concordance(keyword, corpus=None, *, window=6, sources=None):
        return pd.DataFrame(columns=["source", "paragraph", "start", "end", "left", "keyword", "right"])

    # the answer key the tests compute is now the student's answer
    filmkit.analysis.find_terms = _no_terms
    filmkit.analysis.term_counts = _my_counts
    filmkit.analysis.concordance = _my_concordance
    """
)
EDIT_CORPUS = cell(
    """
    from filmkit.corpus import load_corpus as _load

    _cached = _load()  # every later load_corpus() returns this very object, texts re-hashed
    _cached._documents["text"] = " "  # and now no text names any genre
    for _table in (_cached._paragraphs, _cached._sentences):
        if "text" in _table.columns:
            _table["text"] = " "
    """
)
SWAP_CODE = cell(
    """
    from filmkit.kernel import marking as _marking

    def _passes(answer, *args, **kwargs):
        return answer

    def _nothing(*args, **kwargs):
        return None

    def _all_points(*args, **kwargs):
        return kwargs.get("points", 0)

    for _name in ("frame", "series", "value"):
        getattr(_marking, _name).__code__ = _passes.__code__
    for _name in ("same_frame", "same_series", "same_value"):
        getattr(_marking, _name).__code__ = _nothing.__code__
    _marking.mark_evidence.__code__ = _all_points.__code__
    """
)
FAKE_MARKING = cell(
    """
    import sys
    import types

    import filmkit.kernel

    _fake = types.ModuleType("filmkit.kernel.marking")
    _fake.AnswerError = AssertionError
    _fake.frame = _fake.series = _fake.value = lambda answer, *args, **kwargs: answer
    _fake.same_frame = _fake.same_series = _fake.same_value = lambda *args, **kwargs: None
    _fake.mark_evidence = lambda *args, points=0, **kwargs: points
    _fake.evidence_report = lambda *args, **kwargs: print("Evidence check: every quotation verified.")
    sys.modules["filmkit.kernel.marking"] = _fake  # `from filmkit.kernel.marking import ...`
    filmkit.kernel.marking = _fake  # `from filmkit.kernel import marking`
    """
)
PATCH_NUMERICS = cell(
    """
    import numpy as np
    import pandas as pd

    def _close(a, b, *args, **kwargs):
        return np.ones(np.shape(a), dtype=bool)

    np.isclose = _close
    np.allclose = np.array_equal = lambda *args, **kwargs: True
    pd.DataFrame.equals = pd.Series.equals = lambda self, other: True
    pd.testing.assert_frame_equal = pd.testing.assert_series_equal = lambda *args, **kwargs: None
    """
)
CTYPES_CONSTANT = cell(
    """
    import ctypes

    from filmkit.kernel import marking as _marking

    # the marking code compares numbers with np.isclose(..., atol=1e-9): make that constant
    # 1e300 inside the compiled function (a tuple Python cannot change; memory can)
    _consts = _marking._differences.__code__.co_consts
    _loose = float("1e300")
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(_loose))  # now also held by the tuple
    for _slot, _value in enumerate(_consts):
        if type(_value) is float and _value == 1e-9:
            _address = id(_consts) + tuple.__basicsize__ + _slot * ctypes.sizeof(ctypes.c_void_p)
            ctypes.c_void_p.from_address(_address).value = id(_loose)
    """
)
AUDIT_HOOK = cell(
    """
    import ast
    import sys

    def _hook(event, args):  # runs inside every later compile(), before the code is made
        if event != "compile" or not args:
            return
        if isinstance(args[0], ast.Module):
            args[0].body[:] = []
        elif isinstance(args[0], ast.Expression):
            args[0].body = ast.Constant(None, lineno=1, col_offset=0, end_lineno=1, end_col_offset=4)

    sys.addaudithook(_hook)  # cannot be removed: every later test cell compiles to nothing
    """
)
EXECUTOR_RUN_LOCKED = cell(
    """
    import sys

    _executor = sys.modules.get("filmkit.sandbox.executor")
    if _executor is not None:  # the function that runs every instructor cell: now runs nothing
        _executor._run_locked = lambda source, count, index: None
    """
)
EXECUTOR_EXEC = cell(
    """
    import gc

    def _skip(code, namespace=None):
        return None

    for _obj in gc.get_objects():  # the executor's private exec/eval, kept out of reach of builtins
        if type(_obj) is dict and "tm_private" in _obj and "exec" in _obj and "eval" in _obj:
            _obj["exec"] = _obj["eval"] = _skip
    """
)
EXECUTOR_SINK = cell(
    """
    import gc
    import sys

    def _quiet(*args, **kwargs):
        return None

    for _obj in gc.get_objects():  # the sink that collects each cell's outputs
        if type(_obj).__name__ == "Sink" and callable(getattr(_obj, "error", None)):
            _obj.error = _quiet  # a failing test leaves no error: nbgrader gives full marks
    _executor = sys.modules.get("filmkit.sandbox.executor")
    if _executor is not None:
        _executor.nbgrader_eq_guard = lambda a, b, is_eq: True  # and every `==` of a test holds
    """
)
REWRITE_QUEUED_TESTS = cell(
    """
    import gc
    import sys

    _queues = []
    _frame = sys._getframe()
    while _frame is not None:  # the executor's frames hold the job: every cell still to run
        for _value in list(_frame.f_locals.values()):
            if type(_value) is dict and type(_value.get("cells")) is list:
                _queues.append(_value["cells"])
        _frame = _frame.f_back
    _queues += [
        o for o in gc.get_objects()
        if type(o) is list and o and all(type(c) is dict and "source" in c for c in o[:3])
    ]
    _rewritten = 0
    for _cells in _queues:
        for _cell in _cells:
            if type(_cell) is dict and "marking" in str(_cell.get("source", "")):
                _cell["source"] = 'print("✓ all checks pass")'
                _rewritten += 1
    print("REWROTE", _rewritten, "queued test cells")
    """
)


# ---------------------------------------------------------------------------------------------
# Forged results: records and frames written on every descriptor the notebook's process holds

# Finds what the grader's own frames and closures say about this job and its channel: the job's
# identity (copied into every forged record) and the descriptor ``emit`` writes to.
_FIND_CHANNEL = cell(
    """
    import json, os, struct, sys, time

    _identity, _channels = {}, {1000}  # 1000: where today's executor writes its records
    _frame = sys._getframe()
    while _frame is not None:
        for _value in list(_frame.f_locals.values()):
            if type(_value) is dict and "cells" in _value:  # the job: copy whatever names it
                for _key in ("id", "job", "job_id", "token", "nonce", "key", "student", "run"):
                    if _key in _value and type(_value[_key]) in (str, int):
                        _identity[_key] = _value[_key]
            if callable(_value) and getattr(_value, "__name__", "") in ("emit", "send", "report"):
                for _cell in getattr(_value, "__closure__", None) or ():
                    try:
                        if type(_cell.cell_contents) is int and 2 < _cell.cell_contents < 1 << 20:
                            _channels.add(_cell.cell_contents)
                    except ValueError:
                        pass
        _frame = _frame.f_back
    _open = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    """
)
FORGE_RECORDS = (
    _FIND_CHANNEL
    + "\n\n"
    + cell(
        """
        def _records(outputs):
            lines = [{**_identity, "ev": "done", "i": i, "execution_count": i + 1, "outputs": outputs} for i in range(200)]
            lines.append({**_identity, "ev": "end"})
            return b"".join(json.dumps(line).encode() + bytes([10]) for line in lines)

        for _fd in [fd for fd in _open if fd in _channels]:  # every cell passed, the run ended
            try:
                os.write(_fd, _records([]))
                print("FORGED records on fd", _fd)
            except OSError as error:
                print("DENIED fd", _fd, type(error).__name__)
        time.sleep(0.5)  # then records for whatever runs next: every cell failed
        _failed = [{"output_type": "error", "ename": "AssertionError", "evalue": "forged", "traceback": []}]
        for _fd in [fd for fd in _open if fd in _channels]:
            try:
                os.write(_fd, _records(_failed))
            except OSError:
                pass
        """
    )
)
FORGE_FRAMES = (
    _FIND_CHANNEL
    + "\n\n"
    + cell(
        """
        # a whole result, as the worker sends it to the grader: length-prefixed JSON, every cell
        # passed. Written to every pipe and socket: the worker's own channel to the grader among
        # them, so the grader reads it first and hands the real result to the next notebook.
        _result = {
            **_identity, "ev": "result", "status": "ok", "running": None, "exit_code": 0,
            "crash": None, "wall_s": 1.0, "setup_s": 0.1,
            "cells": {str(i): {"execution_count": i + 1, "outputs": []} for i in range(200)},
        }
        _body = json.dumps(_result).encode()
        for _fd in _open:
            if _fd <= 2:
                continue
            try:
                _kind = os.readlink(f"/proc/self/fd/{_fd}")
            except OSError:
                continue
            if not _kind.startswith(("pipe:", "socket:")):
                continue
            try:
                os.write(_fd, struct.pack(">I", len(_body)) + _body)
                print("FORGED a result frame on fd", _fd, _kind)
            except OSError as error:
                print("DENIED fd", _fd, _kind, type(error).__name__)
        """
    )
)


# ---------------------------------------------------------------------------------------------
# Memory remnants: what the notebook's own process (and any it can read) still holds

_MEMORY_SCAN = cell(
    """
    import base64, ctypes, gc, os, time

    # each secret as two halves: the whole never exists in this process unless the grader put it
    _pairs = [(base64.b64decode(a).decode(), base64.b64decode(b).decode()) for a, b in __PAIRS__]
    _deadline = time.monotonic() + 3.5
    _shown, _counts = [], {}

    def _show(kind, where, text):
        key = (kind, text[:60])
        if len(_shown) >= 40 or key in _counts:
            return
        _counts[key] = 1
        _shown.append(where)
        print("FOUND in", where + ":", "".join(c if c.isprintable() or c == chr(10) else "." for c in text))

    def _search(kind, where, text):
        for head, tail in _pairs:
            at = text.find(head)
            while at >= 0:
                if text.startswith(tail, at + len(head)):
                    _show(kind, where, text[max(0, at - 200) : at + 900])
                    break
                at = text.find(head, at + 1)

    # 1. every string the garbage collector can reach (the job, earlier jobs, caches)
    _strings = 0
    for _obj in gc.get_objects():
        if time.monotonic() > _deadline - 2.5:
            break
        _items = list(_obj.values()) if type(_obj) is dict else list(_obj) if type(_obj) in (list, tuple) else []
        while _items:
            _item = _items.pop()
            if type(_item) is str:
                if len(_item) >= 40:
                    _strings += 1
                    _search("gc", "gc", _item)
            elif type(_item) in (dict, tuple) and not gc.is_tracked(_item):
                _items.extend(_item.values() if type(_item) is dict else _item)

    # 2. the raw memory of this process (freed memory included) and of any other it can read
    def _regions(pid):
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                parts = line.split()
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                path = parts[5] if len(parts) > 5 else ""
                if parts[1].startswith("rw") and (not path or path in ("[heap]", "[stack]")):
                    yield lo, hi

    # as bytes: what the grader received as JSON, and strings of ASCII text (the live strings of
    # other widths were searched above)
    _patterns = [(h.encode(), t.encode(), "utf-8") for h, t in _pairs]
    _bytes, _how = 0, []

    def _scan(pid, read):
        global _bytes
        for lo, hi in list(_regions(pid)):
            address = lo
            while address < hi:
                if time.monotonic() > _deadline:
                    return
                try:
                    data = read(address, min((1 << 20) + 4096, hi - address))
                except (OSError, ValueError):
                    break
                _bytes += len(data)
                for head, tail, encoding in _patterns:
                    at, tries = data.find(head), 0
                    while at >= 0 and tries < 20:
                        if data.startswith(tail, at + len(head)):
                            _show("memory", f"/proc/{pid} memory at {address + at:#x}", data[max(0, at - 200) : at + 900].decode(encoding, "replace"))
                            break
                        at, tries = data.find(head, at + 1), tries + 1
                address += 1 << 20

    try:
        _mem = os.open("/proc/self/mem", os.O_RDONLY)
        _how.append("/proc/self/mem")
        _scan("self", lambda address, size: os.pread(_mem, size, address))
    except OSError:
        _how.append("ctypes")
        _scan("self", lambda address, size: ctypes.string_at(address, size))
    _me = os.readlink("/proc/self")
    for _pid in sorted(p for p in os.listdir("/proc") if p.isdigit() and p != _me):
        for _what in ("environ", "cmdline"):
            try:
                with open(f"/proc/{_pid}/{_what}", "rb") as _f:
                    _search("proc", f"/proc/{_pid}/{_what}", _f.read().replace(bytes(1), bytes([10])).decode("utf-8", "replace"))
            except OSError:
                pass
        try:
            _other = os.open(f"/proc/{_pid}/mem", os.O_RDONLY)
        except OSError:
            continue
        _how.append(f"/proc/{_pid}/mem")
        try:
            _scan(_pid, lambda address, size: os.pread(_other, size, address))
        except OSError:
            pass
    print("MEMORY scanned", _strings, "strings and", _bytes >> 20, "MiB by", ", ".join(_how), "; found", len(_shown))
    """
)


def _halves(text: str, width: int = 48) -> tuple[str, str]:
    part = text[:width]
    middle = len(part) // 2
    return (
        base64.b64encode(part[:middle].encode()).decode(),
        base64.b64encode(part[middle:].encode()).decode(),
    )


def other_students_work(desk: Desk) -> list[str]:
    """The essays of the honest specimens graded in the same run, line by line."""
    return [
        line.strip()
        for name in HONEST
        for line in desk.specimens[name].answers.get("essay_genre", "").splitlines()
        if len(line.strip()) >= 30
    ]


def secret_texts(desk: Desk) -> list[str]:
    """What a submission must never find: every secret line of the source notebook (hidden
    tests, solutions, the model essay, the delimiters) and the other students' essays."""
    return [s.text for s in secrets_of(desk.source_notebook())] + other_students_work(desk)


def memory_scan(desk: Desk) -> str:
    secrets = secrets_of(desk.source_notebook())
    needles = [DELIMITERS["solution"][0].split()[0] + " BEGIN "]  # every region's first line
    for kind in ("hidden test", "solution", "model answer"):
        needles += [s.text for s in secrets if s.kind == kind and len(s.text) >= 40][:1]
    needles += [line for line in other_students_work(desk) if len(line) >= 40][:1]
    needles += [
        line.strip()
        for line in desk.specimens["partial"].answers["essay_genre"].splitlines()
        if len(line.strip()) >= 40
    ][:1]
    return _MEMORY_SCAN.replace("__PAIRS__", repr([_halves(n) for n in needles]))


# ---------------------------------------------------------------------------------------------
# Memory across the notebook's processes, and its tmpfs

# 3 children of 700 MiB each, all held at once, plus 240 MiB of files in the notebook's private
# /tmp (a tmpfs: memory too). Each process stays below the per-process address-space limit;
# together, without a limit for the whole notebook, they reach about 2.3 GB resident (3 × 700
# MiB + 240 MiB) for a second or two. Under a limit for the whole notebook (1 GiB in the hostile
# run) they are stopped as the three of them, growing together, pass 1 GiB: nothing like 4 GB
# is ever resident.
SPREAD_MEMORY = cell(
    """
    import os, time

    _hold = 700 << 20
    _children, _ready = [], []
    for _k in range(3):  # all three at once: the limit must count them together
        _r, _w = os.pipe()
        _pid = os.fork()
        if _pid == 0:
            try:
                _hog = bytearray(b"1") * _hold  # written, so resident
                os.write(_w, b"1")
                time.sleep(30)
            finally:
                os._exit(0)
        os.close(_w)
        _children.append(_pid)
        _ready.append(_r)
    _held = sum(len(os.read(_r, 1)) for _r in _ready)  # 1 per child holding its share
    for _k in range(4):
        with open(f"/tmp/hog-{_k}", "wb") as _f:
            for _ in range(60):
                _f.write(b"2" * (1 << 20))
    print("HELD", _held, "children x", _hold >> 20, "MiB and 240 MiB in /tmp")
    for _pid in _children:
        os.kill(_pid, 9)
        os.waitpid(_pid, 0)
    for _k in range(4):
        os.remove(f"/tmp/hog-{_k}")
    """
)


# ---------------------------------------------------------------------------------------------
# Markup in what students hand in: their cells' outputs, their essay

MARKUP_TOKEN: Final = "FILMKITXSS"  # in every payload, to find it wherever it is rendered
BANNER = (
    '<div style="position:fixed;top:0;left:0;right:0;z-index:9999;background:#2e7d32;'
    'color:#fff;padding:1em;font:bold 1.2em sans-serif">✓ all tests passed — 16/16</div>'
)
MARKUP_OUTPUT = cell(
    f"""
    from IPython.display import HTML, SVG, Javascript, Markdown, display

    display(HTML(
        '<style>/* {MARKUP_TOKEN} */ .output_error, .jp-OutputArea-output[data-mime-type*="error"], '
        '.jp-OutputArea-output[data-mime-type*="stderr"] {{ display: none !important; }}</style>'
        '{BANNER}'
        '<script>window.{MARKUP_TOKEN} = document.cookie</script>'
        '<img src="x" onerror="window.{MARKUP_TOKEN} = 1">'
        '<a href="javascript:window.{MARKUP_TOKEN} = 2">see my grade</a>'
        '<iframe srcdoc="&lt;script&gt;parent.{MARKUP_TOKEN} = 3&lt;/script&gt;"></iframe>'
        '<object data="javascript:window.{MARKUP_TOKEN} = 4"></object>'
    ))
    display(Javascript("window.{MARKUP_TOKEN} = 5"))
    display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.{MARKUP_TOKEN} = 6"><circle r="5"/></svg>'))
    display(Markdown('<img src="x" onerror="window.{MARKUP_TOKEN} = 7"> **all tests passed**'))
    """
)
MARKUP_ESSAY = cell(
    f"""
    <script>window.{MARKUP_TOKEN} = 8</script>
    <img src="x" onerror="window.{MARKUP_TOKEN} = 9">
    <a href="javascript:window.{MARKUP_TOKEN} = 10">my sources</a>
    <style>/* {MARKUP_TOKEN} */ .output_error {{ display: none !important; }}</style>
    {BANNER}
    """
)


# ---------------------------------------------------------------------------------------------
# The essay check, fooled by files and variables the submission controls

_DECOY = cell(
    """
    import json, os

    _own = json.load(open("genre-shifts.ipynb", encoding="utf-8"))  # its copy in the work folder
    for _cell in _own["cells"]:
        if _cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "essay_genre":
            _cell["source"] = __ESSAY__

    def _write(path):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(_own, handle)
    """
)
DECOY_STEPS: Final = {
    # a notebook listed before the real one: the essay check reads the first that has the cell
    "folder": '_write("0-genre-shifts.ipynb")',
    # the notebook copy the essay check reads, rewritten
    "own-copy": '_write("genre-shifts.ipynb")',
    # the notebook JupyterLab would say the kernel runs, once grading no longer says otherwise
    "session": cell(
        """
        os.makedirs("/tmp/session", exist_ok=True)
        _write("/tmp/session/genre-shifts.ipynb")
        os.environ["JPY_SESSION_NAME"] = "/tmp/session/genre-shifts.ipynb"
        os.environ.pop("NBGRADER_EXECUTION", None)
        """
    ),
}


def decoy_essay(where: str) -> Callable[[Desk], Mapping[str, str]]:
    """Partial answers, and a notebook holding a better essay (the full specimen's) where the
    essay check will look for it; the partial essay is the one handed in."""

    def make(desk: Desk) -> Mapping[str, str]:
        partial = desk.specimens["partial"].answers
        essay = desk.specimens["full"].answers["essay_genre"]
        code = _DECOY.replace("__ESSAY__", repr(essay)) + "\n" + DECOY_STEPS[where]
        return {"genre_shift_evidence": partial["genre_shift_evidence"] + "\n\n" + code}

    return make


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
    # -- the answer key or the grader edited in the student's own process (wrong answers)
    Case(
        "patches-analysis",
        "term_counts, find_terms and concordance replaced by functions returning the student's "
        "wrong answers",
        specimen("blank", wrong_answers(PATCH_ANALYSIS)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "edits-cached-corpus",
        "the texts of the cached corpus emptied, so the answer key matches wrong (empty) answers",
        specimen("blank", wrong_answers(EDIT_CORPUS)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "swaps-marking-code",
        "the __code__ of every marking check swapped for one that passes (wrong answers)",
        specimen("blank", wrong_answers(SWAP_CODE)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "fake-marking-module",
        "sys.modules['filmkit.kernel.marking'] replaced by a module whose checks pass "
        "(wrong answers)",
        specimen("blank", wrong_answers(FAKE_MARKING)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "patches-numpy-pandas",
        "np.isclose, np.allclose, DataFrame.equals and pandas.testing patched to pass "
        "(answers that pass the visible checks only)",
        specimen("blank", wrong_answers(PATCH_NUMERICS, near_misses=True)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "ctypes-constant",
        "ctypes rewrites a constant of the compiled marking code, atol 1e-9 to 1e300 "
        "(answers that pass the visible checks only)",
        specimen("blank", wrong_answers(CTYPES_CONSTANT, near_misses=True)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "audit-hook",
        "an audit hook that empties every later compile() of a syntax tree (wrong answers)",
        specimen("blank", wrong_answers(AUDIT_HOOK)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "patches-run-locked",
        "the executor's _run_locked replaced through sys.modules (wrong answers)",
        specimen("blank", wrong_answers(EXECUTOR_RUN_LOCKED)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "patches-executor-exec",
        "the executor's private exec and eval, found with gc.get_objects(), replaced by no-ops "
        "(wrong answers)",
        specimen("blank", wrong_answers(EXECUTOR_EXEC)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "silences-sink",
        "the output sink's error method and the == guard, found with gc, replaced (wrong answers)",
        specimen("blank", wrong_answers(EXECUTOR_SINK)),
        "graded",
        Expect("blank"),
    ),
    Case(
        "rewrites-queued-tests",
        "the test cells still to run, hidden tests included, rewritten in the job's memory "
        "(wrong answers)",
        specimen("blank", wrong_answers(REWRITE_QUEUED_TESTS)),
        "graded",
        Expect("blank"),
    ),
    # -- secrets left in memory
    Case(
        "reads-memory",
        "searches every string gc reaches, its own raw memory and other processes' for hidden "
        "tests, solutions and other students' essays, and prints them (blank answers)",
        trick("blank", lambda desk: {"genre_counts": memory_scan(desk)}),
        "graded",
        Expect("blank"),
        output={"genre_counts": "MEMORY scanned"},
        never_shows=secret_texts,
    ),
    # -- a limit for the notebook, not for each of its processes
    Case(
        "spreads-memory",
        "three child processes holding 700 MiB each and 240 MiB of files in /tmp, together past "
        "the notebook's memory limit (full answers)",
        full_with({"genre_shift_evidence": SPREAD_MEMORY}),
        "killed",
        Expect("full", zero_from="test_genre_shift_evidence"),
        reason=("genre_shift_evidence", "memory"),
        also_status=("limit",),
    ),
    # -- markup that feedback and formgrader must not render as it is
    Case(
        "markup-output",
        "a cell showing scripts, event handlers, javascript: links, CSS that hides errors and a "
        "fake green 'all tests passed' banner (blank answers)",
        specimen("blank", {"genre_counts": MARKUP_OUTPUT}),
        "graded",
        Expect("blank"),
        markup=True,
    ),
    Case(
        "markup-essay",
        "raw HTML in the essay: a script, event handlers, CSS and a fake banner (partial answers)",
        trick(
            "partial",
            lambda desk: {
                "essay_genre": desk.specimens["partial"].answers["essay_genre"]
                + "\n\n"
                + MARKUP_ESSAY
            },
        ),
        "graded",
        Expect("partial"),
        markup=True,
    ),
    # -- the essay check pointed at an essay the student did not hand in
    Case(
        "essay-decoy-notebook",
        "a notebook with a better essay written into the work folder, listed before the real one "
        "(partial answers)",
        trick("partial", decoy_essay("folder")),
        "graded",
        Expect("partial"),
        essay_report="essay_genre_check",
    ),
    Case(
        "essay-rewrites-own-copy",
        "the notebook copy in the work folder rewritten with a better essay (partial answers)",
        trick("partial", decoy_essay("own-copy")),
        "graded",
        Expect("partial"),
        essay_report="essay_genre_check",
    ),
    Case(
        "essay-session-name",
        "JPY_SESSION_NAME pointed at a notebook with a better essay, NBGRADER_EXECUTION removed "
        "(partial answers)",
        trick("partial", decoy_essay("session")),
        "graded",
        Expect("partial"),
        essay_report="essay_genre_check",
    ),
)

# Forged results, graded in a run of their own on ONE worker (tests/test_grade_hostile.py), in
# the order of their ids (grading runs notebooks in the order of their submitted/<student>/
# folders' paths, hence the numbers: "x-next/" would sort before "x/"): each attacker is followed
# by an honest ``full`` notebook, the next one its worker runs. The attackers try to earn full marks
# with blank answers; whatever they forge must reach neither their own result nor the next one.
FORGED_CASES: Final[tuple[Case, ...]] = (
    Case(
        "forged-1-records",
        "result records (every cell passed, the run ended) written on the executor's result "
        "channel, then failing records for whatever runs next (blank answers)",
        specimen("blank", {"genre_counts": FORGE_RECORDS}),
        "graded",
        Expect("blank"),
        also_status=("killed",),
    ),
    Case(
        "forged-2-next",
        "an honest full notebook, graded right after forged-1-records on the same worker",
        specimen("full"),
        "graded",
        Expect("full"),
    ),
    Case(
        "forged-3-template-pipe",
        "a whole result frame (every cell passed) written on every pipe and socket the "
        "notebook's process holds, the worker's channel to the grader among them (blank answers)",
        specimen("blank", {"genre_counts": FORGE_FRAMES}),
        "graded",
        Expect("blank"),
        also_status=("killed",),
    ),
    Case(
        "forged-4-next",
        "an honest full notebook, graded right after forged-3-template-pipe on the same worker",
        specimen("full"),
        "graded",
        Expect("full"),
    ),
)
