"""``filmkit publish``: the executed lessons as a static HTML site that works offline.

The site has a home page (the course outline: each lesson's title and learning objectives, taken
from the lesson's opening markdown, and the table of contents), one page per lesson with its
plotly figures interactive, and a page for the corpus manifest and cleaning log. It is built with
Sphinx and myst-nb (:mod:`filmkit.sitebuild`) from a source tree generated in a temporary folder:

- ``lessons/NN-name.ipynb``: the lessons of ``course/``, executed (:mod:`filmkit.lessons`);
- ``index.md`` and ``manifest.md``, written here.

Every lesson page offers its notebook for download, for the student to run: right under its
title, a link "Download this lesson as a notebook (.ipynb)", with the ``download`` attribute (the
browser saves the file rather than showing its JSON), to ``lessons/NN-name.ipynb`` beside the
page: ``course/NN-name.ipynb`` copied byte for byte after the Sphinx build, as stored, without
outputs or execution counts. Copied here rather than by Sphinx's ``download`` role, which would
need the role in a lesson's markdown and put the file under a hashed ``_downloads/<md5>/``
folder: the copy is exact by construction and has a stable address, the page's own name with
``.ipynb``. A ``course/`` notebook that holds outputs or execution counts, nbgrader cells or
markers, or other cells than the executed copy the page shows stops the publication (checked
before the lessons run too); these are the site's only notebooks (a build that wrote another
stops it as well).

Nothing else goes in: the site is made only of the ``course/`` lessons (their pages and clean
notebooks) and ``source_texts/`` metadata, never of ``assignments/``. As a second guard, a lesson
or a built file holding an nbgrader marker (``BEGIN SOLUTION``, ``BEGIN HIDDEN TESTS``, ``BEGIN
MARK SCHEME``) or nbgrader cell metadata stops the publication.

plotly.js is shipped once, as ``_static/plotly.min.js`` (plotly's cartesian partial bundle,
installed by ``make setup``), and loaded only by pages with figures. ``filmkit publish`` reports
each page's weight as a browser loads it (:mod:`filmkit.sitebuild.weight`): its HTML plus every
file it loads, each counted once; the notebook it links to for download is not loaded with it and
not counted (the site's total size counts it).

Built for the course hub (``hub_url``, ``filmkit publish --hub-url https://hub.example.edu``), every
lesson page opens, right under its title and before the download link, with a link "Open this
lesson in JupyterLab on the course hub" to JupyterHub's
``<hub_url>/hub/user-redirect/lab/tree/lessons/NN-name.ipynb`` (:func:`hub_lesson_url`): the hub
sends a logged-in student to their own server, where ``filmkit hub`` copied the lessons into
``~/lessons`` (:data:`filmkit.paths.STUDENT_LESSONS_DIR`), and asks anyone else to log in first.
Both links are plain ``<a href>``: the site still loads nothing from the network. The address is
checked before anything is executed (:func:`hub_address`): ``http`` or ``https`` with a host,
optionally a path (JupyterHub's ``base_url``), no query, fragment or credentials, and not a page
of the hub (``/hub/…``, ``/user/…``); a trailing slash is dropped. Without it the site has no
hub link.

A lesson states its objectives in its opening markdown cells (before the first code cell): a
heading or paragraph mentioning objectives (else one saying "by the end of", "you will")
followed by a list, or a MyST admonition titled so; each item is one objective. The lesson's title
is its first level-1 heading.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

import nbformat
from markdown_it import MarkdownIt
from markdown_it.token import Token

from filmkit.corpus import load_corpus
from filmkit.lessons import course_dir, execute_lessons, lesson_paths
from filmkit.paths import STUDENT_LESSONS_DIR, project_root, source_texts_dir
from filmkit.provenance import read_cleaning_log
from filmkit.sitebuild import TITLE, SiteError, build_html
from filmkit.sitebuild.plotly_offline import SCRIPT
from filmkit.sitebuild.weight import PageWeight, page_weights

__all__ = [
    "LESSON_FIRST_LOAD_TARGET",
    "LESSON_OWN_TARGET",
    "NBGRADER_MARKERS",
    "LessonOutline",
    "PageWeight",
    "SiteError",
    "SiteReport",
    "answer_markers_in",
    "hub_address",
    "hub_lesson_url",
    "lesson_outline",
    "lesson_source",
    "main",
    "summary_lines",
]

DEFAULT_OUT = "_site"
LESSONS_DIR = "lessons"
# nbgrader's region markers: a solution, hidden tests, a mark scheme.
NBGRADER_MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME")
_BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".ttf", ".eot"}
# What announces the objectives: first an explicit word, else a looser phrase.
_OBJECTIVES = (
    re.compile(r"\bobjectives?\b|\blearning outcomes?\b|\baims\b", re.IGNORECASE),
    re.compile(r"\bby the end of\b|\byou will\b|\byou'll\b|\byou can\b", re.IGNORECASE),
)
# The weight targets of a lesson page (issue 12): first load (HTML and everything it loads), and
# its own bytes (HTML and the files no other page loads). ``filmkit publish`` flags a page over.
LESSON_FIRST_LOAD_TARGET = 2_000_000
LESSON_OWN_TARGET = 300_000
HEAVIEST_SHOWN = 5
CONTENT_NOTE = (
    "The film depicts the sexual abuse of minors, self-harm and mutilation, and the source texts "
    "discuss these. The lessons analyse how the *texts* discuss them; lessons that touch them "
    "open with a content note."
)


@dataclass(frozen=True)
class LessonOutline:
    """A lesson as the home page lists it."""

    docname: str  # e.g. lessons/01-genre-shifts
    title: str  # plain text
    heading: str  # the title as the lesson writes it, markdown
    objectives: tuple[str, ...]  # markdown, one per objective


@dataclass(frozen=True)
class SiteReport:
    """What ``filmkit publish`` wrote."""

    out: Path  # absolute
    pages: tuple[Path, ...]  # every HTML page, relative to ``out``
    total_bytes: int  # every file of the site
    largest_page: Path  # relative to ``out``: the largest HTML file
    largest_page_bytes: int
    weights: tuple[PageWeight, ...]  # each page as a browser loads it, in ``pages`` order
    lessons: tuple[LessonOutline, ...]
    execute_seconds: float  # 0 when executed notebooks were given
    build_seconds: float
    hub_url: str | None = None  # the course hub the lesson pages link to (no trailing slash)
    notebooks: tuple[Path, ...] = ()  # the lessons' clean notebooks, relative to ``out``


def main(
    *,
    out: Path | None = None,
    root: Path | None = None,
    executed: Sequence[Path] | None = None,
    jobs: int = 2,
    hub_url: str | None = None,
) -> SiteReport:
    """Build the site into ``out`` (default ``<root>/_site``), replacing an earlier build there.

    The lessons of ``<root>/course`` are executed first (``jobs`` at a time), unless ``executed``
    gives already-executed copies of them; each lesson page offers its ``course/`` notebook for
    download. With ``hub_url`` (the course hub's address), each lesson page links to the
    student's copy of the lesson on the hub too.
    """
    hub = None if hub_url is None else hub_address(hub_url)  # before anything is executed
    root = (root or project_root()).resolve()
    out = (out or root / DEFAULT_OUT).resolve()
    _check_replaceable(out)
    with tempfile.TemporaryDirectory(prefix="filmkit-site-") as tmp:
        work = Path(tmp)
        execute_seconds = 0.0
        if executed is None:
            if not lesson_paths(root):
                raise SiteError(f"no lessons to publish: {root / 'course'} has no NN-name.ipynb")
            for path in lesson_paths(root):  # the notebooks offered for download, before the run
                _check_source(path, nbformat.read(path, as_version=4))
            started = time.perf_counter()
            runs = execute_lessons(work / "executed", root=root, jobs=jobs)
            execute_seconds = time.perf_counter() - started
            executed = [run.executed for run in runs]
        if not executed:
            raise SiteError("no lessons to publish")
        started = time.perf_counter()
        source = work / "source"
        lessons = write_source(source, executed, root)
        html = work / "html"
        build_html(
            source,
            html,
            work,
            hub_links=None if hub is None else _hub_links(hub, lessons),
            downloads={o.docname: f"{PurePosixPath(o.docname).name}.ipynb" for o in lessons},
        )
        notebooks = _add_notebooks(html, executed, root)
        _finish(html)
        build_seconds = time.perf_counter() - started
        _install(html, out)
    return _report(out, tuple(lessons), execute_seconds, build_seconds, hub, notebooks)


# --- the course hub ----------------------------------------------------------------------------

_HUB_OPTION = "--hub-url"
_HUB_EXAMPLE = "https://hub.example.edu"


def hub_address(url: str) -> str:
    """``url`` checked as the course hub's address, without a trailing slash.

    Raises :class:`SiteError` naming ``--hub-url`` and the fix."""
    given = url.strip()

    def refuse(problem: str, fix: str = f"e.g. {_HUB_OPTION} {_HUB_EXAMPLE}") -> SiteError:
        return SiteError(f"{_HUB_OPTION} {given!r} {problem}: {fix}")

    if not given or any(c.isspace() or not c.isprintable() for c in given):
        raise refuse("is not an address", f"give the hub's address, e.g. {_HUB_EXAMPLE}")
    if "://" not in given:
        raise refuse("has no https://", f"write {_HUB_OPTION} https://{given.lstrip('/')}")
    try:
        parts = urlsplit(given)
        _ = parts.port  # a port that is not a number raises
    except ValueError as error:
        raise refuse(f"is not a valid address ({error})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise refuse("is not an http or https address")
    if not parts.hostname:
        raise refuse("has no host")
    if parts.username is not None or parts.password is not None:
        raise refuse("holds a user name or password", "the site is public: give the address alone")
    if parts.query or parts.fragment or given.endswith(("?", "#")):
        raise refuse("has a ?query or #fragment", "give the hub's address alone")
    segments = [s for s in parts.path.split("/") if s]
    if "hub" in segments or "user" in segments:
        raise refuse(
            "is a page of the hub", "give the hub's own address, the part before /hub/ or /user/"
        )
    return given.rstrip("/")


def hub_lesson_url(hub: str, stem: str) -> str:
    """JupyterHub's link to a logged-in student's own copy of lesson ``stem`` on the hub ``hub``
    (an address :func:`hub_address` checked): it sends them to their server, starting it if
    needed, and JupyterLab opens ``~/lessons/<stem>.ipynb``."""
    return f"{hub}/hub/user-redirect/lab/tree/{STUDENT_LESSONS_DIR}/{quote(stem)}.ipynb"


def _hub_links(hub: str, lessons: Sequence[LessonOutline]) -> dict[str, tuple[str, str]]:
    """Each lesson page's link to the student's copy: docname to (URL, path in their home)."""
    stems = {lesson.docname: PurePosixPath(lesson.docname).name for lesson in lessons}
    return {
        docname: (hub_lesson_url(hub, stem), f"{STUDENT_LESSONS_DIR}/{stem}.ipynb")
        for docname, stem in stems.items()
    }


# --- the source tree ---------------------------------------------------------------------------


def write_source(source: Path, executed: Sequence[Path], root: Path) -> list[LessonOutline]:
    """Generate the Sphinx source tree: the lessons, the home page and the manifest page."""
    lessons_dir = source / LESSONS_DIR
    lessons_dir.mkdir(parents=True)
    outlines: list[LessonOutline] = []
    for path in sorted(executed, key=lambda p: p.name):
        notebook = nbformat.read(path, as_version=4)
        _check_lesson(path, notebook)
        nbformat.write(notebook, lessons_dir / path.name)
        outlines.append(lesson_outline(notebook, f"{LESSONS_DIR}/{path.stem}"))
    (source / "index.md").write_text(index_page(outlines), encoding="utf-8")
    (source / "manifest.md").write_text(manifest_page(root), encoding="utf-8")
    return outlines


def _check_lesson(path: Path, notebook: Any) -> None:
    code = [c for c in notebook.cells if c.cell_type == "code"]
    if code and all(c.get("execution_count") is None and not c.get("outputs") for c in code):
        raise SiteError(f"{path.name} has not been executed: the site shows executed lessons")
    for index, cell in enumerate(notebook.cells, 1):
        if "nbgrader" in cell.get("metadata", {}):
            raise SiteError(
                f"{path.name} cell {index} is an nbgrader cell: assignments are not published"
            )
    found = answer_markers_in(nbformat.writes(notebook))
    if found:
        raise SiteError(f"{path.name} holds nbgrader marker(s) {found}: it is not published")


def lesson_source(executed: Path, root: Path) -> Path:
    """The ``course/`` notebook the executed lesson ``executed`` was run from, checked to be fit
    to publish as it is: stored without outputs or execution counts, without nbgrader cells or
    markers, and with the executed copy's cells (types and sources)."""
    source = course_dir(root) / executed.name
    if not source.is_file():
        raise SiteError(
            f"{executed.name}: {source} is missing: a lesson page offers the course/ notebook "
            "for download"
        )
    notebook = nbformat.read(source, as_version=4)
    _check_source(source, notebook)
    ran = nbformat.read(executed, as_version=4)
    if _cells(notebook) != _cells(ran):
        raise SiteError(
            f"course/{source.name} has other cells than its executed copy: execute it again, so "
            "that the page shows the notebook it offers"
        )
    return source


def _check_source(path: Path, notebook: Any) -> None:
    """A ``course/`` notebook as it is downloaded: clean, and no assignment."""
    for index, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code" and (
            cell.get("outputs") or cell.get("execution_count") is not None
        ):
            raise SiteError(
                f"course/{path.name} cell {index} has outputs or an execution count: lessons are "
                "stored without them (clear them, e.g. jupyter nbconvert --clear-output --inplace)"
            )
        if "nbgrader" in cell.get("metadata", {}):
            raise SiteError(
                f"course/{path.name} cell {index} is an nbgrader cell: assignments are not "
                "published"
            )
    found = answer_markers_in(path.read_text(encoding="utf-8"))
    if found:
        raise SiteError(f"course/{path.name} holds nbgrader marker(s) {found}: it is not published")


def _cells(notebook: Any) -> list[tuple[str, str]]:
    return [(str(cell.cell_type), str(cell.source)) for cell in notebook.cells]


def answer_markers_in(text: str) -> list[str]:
    """The nbgrader markers that occur in ``text``."""
    return [marker for marker in NBGRADER_MARKERS if marker in text]


_md = MarkdownIt("commonmark")


def lesson_outline(notebook: Any, docname: str) -> LessonOutline:
    """Title and learning objectives from a lesson's opening markdown cells."""
    opening: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            break
        if cell.cell_type == "markdown":
            opening.append(str(cell.source))
    tokens = _md.parse("\n\n".join(opening))
    heading = next(
        (
            tokens[i + 1]
            for i, token in enumerate(tokens)
            if token.type == "heading_open" and token.tag == "h1"
        ),
        None,
    )
    if heading is None or not heading.content.strip():
        raise SiteError(f"{docname}: the lesson's opening markdown has no level-1 heading (title)")
    objectives = next((found for p in _OBJECTIVES if (found := _objectives(tokens, p))), [])
    return LessonOutline(docname, _plain(heading), heading.content.strip(), tuple(objectives))


_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")
_DIRECTIVE_OPTION = re.compile(r"^:[\w-]+:.*$", re.MULTILINE)


def _objectives(tokens: list[Token], announce: re.Pattern[str]) -> list[str]:
    """The items of the first list after a heading or paragraph announcing objectives.

    Also looks inside a fenced MyST directive (an admonition titled "Learning objectives").
    """
    armed = False
    depth = 0
    for index, token in enumerate(tokens):
        if token.type in _LIST_OPEN:
            if armed and depth == 0:
                return _list_items(tokens, index)
            depth += 1
        elif token.type in _LIST_CLOSE:
            depth -= 1
        elif depth:
            continue
        elif token.type == "inline":
            if announce.search(token.content):
                armed = True
            elif tokens[index - 1].type == "heading_open":
                armed = False  # a new section that is not about objectives
        elif token.type == "fence" and token.info.startswith("{"):
            inner = _md.parse(_DIRECTIVE_OPTION.sub("", token.content))
            # a directive titled "Learning objectives": its first list; else look inside it
            found = (
                _first_list(inner)
                if armed or announce.search(token.info)
                else _objectives(inner, announce)
            )
            if found:
                return found
    return []


def _first_list(tokens: list[Token]) -> list[str]:
    start = next((i for i, t in enumerate(tokens) if t.type in _LIST_OPEN), None)
    return [] if start is None else _list_items(tokens, start)


def _list_items(tokens: list[Token], start: int) -> list[str]:
    """The first paragraph of each top-level item of the list opening at ``tokens[start]``."""
    items: list[str] = []
    depth = 0
    want_inline = False
    for token in tokens[start:]:
        if token.type in _LIST_OPEN:
            depth += 1
        elif token.type in _LIST_CLOSE:
            depth -= 1
            if depth == 0:
                break
        elif token.type == "list_item_open" and depth == 1:
            want_inline = True
        elif token.type == "inline" and want_inline:
            items.append(" ".join(token.content.split()))
            want_inline = False
    return items


def _plain(inline: Token) -> str:
    return "".join(
        child.content for child in inline.children or [] if child.type in ("text", "code_inline")
    ).strip()


def index_page(lessons: Sequence[LessonOutline]) -> str:
    toc = "\n".join(lesson.docname for lesson in lessons)
    outline: list[str] = []
    for lesson in lessons:
        outline.append(f"### {lesson.heading}\n")
        if lesson.objectives:
            outline.append("Learning objectives:\n")
            outline.extend(f"- {objective}" for objective in lesson.objectives)
            outline.append("")
        outline.append(f"{{doc}}`Open the lesson <{lesson.docname}>`\n")
    return f"""# {TITLE}

A film-studies course on Netflix's *The Perfection* (2019), built on five published reviews and
explainers. Each lesson below is shown as executed, with its interactive figures; the
{{doc}}`corpus manifest <manifest>` lists the source texts.

```{{admonition}} Content note
{CONTENT_NOTE}
```

```{{toctree}}
:caption: Contents
:maxdepth: 1

{toc}
manifest
```

## Course outline

{chr(10).join(outline)}
"""


_CELL_ESCAPE = re.compile(r"([\\`*_\[\]<>|{}#$])")


def _cell(value: object) -> str:
    text = " ".join(str(value).split())
    return _CELL_ESCAPE.sub(r"\\\1", text) if text else "—"


def manifest_page(root: Path) -> str:
    """The corpus manifest and the cleaning log, verified against their checksums."""
    documents = load_corpus(root).documents  # raises when a text does not match the manifest
    texts = [
        "| id | title | author | published | kind | words |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    files = [
        "| id | original file | sha256 of the cleaned text |",
        "| --- | --- | --- |",
    ]
    for doc in documents.itertuples():
        texts.append(
            f"| `{doc.id}` | {_cell(doc.title)} | {_cell(doc.author)} | {_cell(doc.published)} "
            f"| {_cell(doc.kind)} | {int(str(doc.words)):,} |"
        )
        files.append(f"| `{doc.id}` | `{doc.original_file}` | `{str(doc.sha256)[:16]}…` |")
    removals = read_cleaning_log(source_texts_dir(root) / "cleaning_log.csv")
    log = [
        "| source | line | why it was removed |",
        "| --- | ---: | --- |",
        *(f"| `{r.id}` | {r.line} | {_cell(r.reason)} |" for r in removals),
    ]
    sources = len({r.id for r in removals})
    return f"""# Corpus manifest

The five source texts every lesson works from, as listed in `source_texts/manifest.csv`. A
dash means the text itself does not give the field: no author, outlet or date is inferred. Every
text was verified against its checksum when this site was built.

{chr(10).join(texts)}

## Files and checksums

The original of each text is in `source_texts/originals/`; the checksum is the cleaned text's,
shortened here (the manifest holds all 64 digits).

{chr(10).join(files)}

## Cleaning log

Each cleaned text is its original, exactly as received, minus whole lines listed in
`source_texts/cleaning_log.csv` with the reason for each: {len(removals)} lines from
{sources} of the texts. Nothing else was changed: the sources' own spellings and
disagreements (Weber/Webber, Shepard/Shepherd/Shephard, 2018/2019) are kept.

{chr(10).join(log)}
"""


# --- output ------------------------------------------------------------------------------------


def _add_notebooks(html: Path, executed: Sequence[Path], root: Path) -> tuple[Path, ...]:
    """Copy each lesson's ``course/`` notebook, byte for byte, beside its page in ``html``;
    returns their paths relative to ``html``, in name order."""
    written = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.ipynb"))
    if written:
        raise SiteError(f"the build wrote notebooks {written}: only the lessons' own are published")
    notebooks = []
    for path in sorted(executed, key=lambda p: p.name):
        target = html / LESSONS_DIR / path.name
        if not target.with_suffix(".html").is_file():
            raise SiteError(f"{path.name}: the build wrote no page for it")
        shutil.copyfile(lesson_source(path, root), target)
        notebooks.append(target.relative_to(html))
    return tuple(notebooks)


def _finish(html: Path) -> None:
    """Drop what the site does not need, and refuse a site that holds an nbgrader marker."""
    for path in html.rglob("*.map"):  # the themes' JavaScript source maps: 3.5 MB, debug only
        path.unlink()
    for folder in sorted((p for p in html.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):  # _sources/ stays empty: no sources are copied
            folder.rmdir()
    for path in _files(html):
        if path.suffix not in _BINARY_SUFFIXES and path.name != SCRIPT:
            found = answer_markers_in(path.read_text(encoding="utf-8", errors="replace"))
            if found:
                raise SiteError(f"{path.relative_to(html)} holds nbgrader marker(s) {found}")


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / ".buildinfo").is_file():
        raise SiteError(
            f"{out} is not empty and is not a site built by filmkit publish: refusing to replace it"
        )


def _install(html: Path, out: Path) -> None:
    _check_replaceable(out)
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(html, out)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _report(
    out: Path,
    lessons: tuple[LessonOutline, ...],
    execute_seconds: float,
    build_seconds: float,
    hub_url: str | None,
    notebooks: tuple[Path, ...],
) -> SiteReport:
    files = _files(out)
    # _static/ holds the theme's template macros (*.html) too: assets, not pages
    pages = [p for p in files if p.suffix == ".html" and p.relative_to(out).parts[0] != "_static"]
    largest = max(pages, key=lambda p: p.stat().st_size)
    return SiteReport(
        out=out,
        pages=tuple(p.relative_to(out) for p in pages),
        total_bytes=sum(p.stat().st_size for p in files),
        largest_page=largest.relative_to(out),
        largest_page_bytes=largest.stat().st_size,
        weights=tuple(page_weights(out, [p.relative_to(out) for p in pages])),
        lessons=lessons,
        execute_seconds=execute_seconds,
        build_seconds=build_seconds,
        hub_url=hub_url,
        notebooks=notebooks,
    )


def summary_lines(report: SiteReport) -> list[str]:
    """What ``filmkit publish`` prints: timings, the pages written, the sizes, where the site is.

    Each page's weight is as a browser loads it on a first visit: the HTML and every file it
    references (scripts, stylesheets, the fonts they use, images), each once; "own" is the HTML
    and the files no other page loads. The heaviest pages are listed, lessons over their target
    flagged. Then the lessons' notebooks offered for download; a site built for the course hub
    says so, with the hub's address."""
    timing = f"built the site in {report.build_seconds:.1f} s."
    if report.execute_seconds:
        timing = (
            f"Executed {len(report.lessons)} lessons in {report.execute_seconds:.1f} s; {timing}"
        )
    heaviest = sorted(report.weights, key=lambda w: (-w.first_load_bytes, w.page.as_posix()))
    shown = heaviest[:HEAVIEST_SHOWN]
    return [
        timing[0].upper() + timing[1:],
        f"Pages written ({len(report.pages)}):",
        *(f"  {page.as_posix()}" for page in report.pages),
        f"Total size: {_size(report.total_bytes)} ({report.total_bytes:,} bytes)",
        f"Heaviest pages on first load (HTML + every file it loads, once each; {len(shown)} of "
        f"{len(heaviest)}):",
        *(f"  {_weight_line(weight)}" for weight in shown),
        f"Notebooks offered for download, as stored in course/ ({len(report.notebooks)}):",
        *(f"  {notebook.as_posix()}" for notebook in report.notebooks),
        *(
            [f"Lesson pages link to each student's copy on the course hub at {report.hub_url}"]
            if report.hub_url
            else []
        ),
        f"Site: {report.out / 'index.html'}",
    ]


def _weight_line(weight: PageWeight) -> str:
    line = (
        f"{weight.page.as_posix()}: {_size(weight.first_load_bytes)} "
        f"({weight.first_load_bytes:,} bytes, {len(weight.assets)} files), "
        f"own {_size(weight.own_bytes)}"
    )
    if weight.page.parts[0] == LESSONS_DIR:
        over = []
        if weight.first_load_bytes >= LESSON_FIRST_LOAD_TARGET:
            over.append(f"first load over the {_size(LESSON_FIRST_LOAD_TARGET)} target")
        if weight.own_bytes >= LESSON_OWN_TARGET:
            over.append(f"own over the {_size(LESSON_OWN_TARGET)} target")
        if over:
            line += f" [{'; '.join(over)}]"
    return line


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    return f"{count / 1000:.1f} kB"
