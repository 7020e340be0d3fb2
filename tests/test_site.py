"""filmkit publish: the course site, built once per session from the executed lessons."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from filmkit import site as site_module
from filmkit.cli import main as cli
from filmkit.lessons import ExecutedLesson, lesson_paths
from filmkit.paths import STUDENT_LESSONS_DIR, project_root
from filmkit.site import (
    LESSON_FIRST_LOAD_TARGET,
    LESSON_OWN_TARGET,
    NBGRADER_MARKERS,
    SiteError,
    SiteReport,
    hub_address,
    lesson_outline,
    lesson_source,
    summary_lines,
)
from filmkit.site import main as publish
from filmkit.sitebuild import trim as trim_module
from filmkit.sitebuild.plotly_mime import PlotlyMimeRenderer, compact_template, figure_html
from filmkit.sitebuild.plotly_offline import (
    BUNDLE,
    BUNDLE_TRACES,
    WEB_ENV,
    bundle_version,
    plotly_js,
    wheel_plotly_js_version,
)
from filmkit.sitebuild.postprocess import (
    DOWNLOAD_LINK_CLASS,
    DOWNLOAD_LINK_TEXT,
    HUB_LINK_CLASS,
    describe_figures,
)
from filmkit.sitebuild.trim import DYNAMIC_ATTRIBUTES, glyph_codepoints
from filmkit.sitebuild.weight import page_weights, references

pytestmark = pytest.mark.slow

REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)  # http://, https://, //host


class _Page(HTMLParser):
    """The parts of a page the tests look at: resource URLs, links, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []  # (tag, url) of what the browser loads
        self.links: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "img", "iframe", "source", "video", "audio") and values.get("src"):
            self.resources.append((tag, values["src"]))
        loaded = {"stylesheet", "preload", "icon", "modulepreload"}
        if tag == "link" and values.get("href") and loaded & set(values.get("rel", "").split()):
            self.resources.append((tag, values["href"]))
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


class _Anchors(HTMLParser):
    """Every ``<a>`` of a page: its attributes and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: list[tuple[dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open.append((dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            attrs, text = self._open.pop()
            self.anchors.append((attrs, words("".join(text))))

    def handle_data(self, data: str) -> None:
        for _, text in self._open:
            text.append(data)


def anchors(path: Path, css_class: str) -> list[tuple[dict[str, str | None], str]]:
    """The links of the page at ``path`` that have the class ``css_class``."""
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return [(a, t) for a, t in parser.anchors if css_class in (a.get("class") or "").split()]


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def words(text: str) -> str:
    return " ".join(text.split())


def lesson_pages(site: SiteReport, lessons: list[ExecutedLesson]) -> list[Path]:
    return [site.out / "lessons" / f"{lesson.source.stem}.html" for lesson in lessons]


def text_files(site: SiteReport) -> list[Path]:
    """Every file of the site but plotly.js (checked to be the plotly wheel's own copy)."""
    return [
        p
        for p in sorted(site.out.rglob("*"))
        if p.is_file() and p.name != "plotly.min.js" and p.suffix not in {".png", ".woff2", ".ico"}
    ]


def test_the_course_has_lessons(executed_lessons: list[ExecutedLesson]) -> None:
    assert executed_lessons, "course/ holds no NN-name.ipynb lesson"


def test_a_page_per_lesson_plus_the_home_page_and_the_manifest(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    pages = {p.as_posix() for p in built_site.pages}
    expected = {f"lessons/{lesson.source.stem}.html" for lesson in executed_lessons}
    assert expected | {"index.html", "manifest.html"} <= pages
    assert {p for p in pages if p.startswith("lessons/")} == expected
    assert [o.docname for o in built_site.lessons] == sorted(
        f"lessons/{lesson.source.stem}" for lesson in executed_lessons
    )
    assert not (built_site.out / "_sources").exists()


def assignment_notebooks(root: Path) -> list[Path]:
    """Every notebook of the nbgrader course folder: sources, releases, submissions."""
    return sorted((root / "assignments").glob("**/*.ipynb"))


def test_each_lesson_page_offers_its_own_clean_notebook_and_only_those_are_published(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    root = project_root()
    lessons = lesson_paths(root)
    assert lessons and [lesson.source for lesson in executed_lessons] == lessons
    published = sorted(p.relative_to(built_site.out) for p in built_site.out.rglob("*.ipynb"))
    # one per lesson, beside its page, and no other notebook
    assert published == [Path("lessons", lesson.name) for lesson in lessons]
    assert list(built_site.notebooks) == published
    for lesson in lessons:
        notebook = built_site.out / "lessons" / lesson.name
        assert notebook.read_bytes() == lesson.read_bytes(), f"{lesson.name}: not the course/ file"
        code = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
        assert code, lesson.name
        assert all(not c.outputs and c.execution_count is None for c in code), lesson.name
        page = built_site.out / "lessons" / f"{lesson.stem}.html"
        links = anchors(page, DOWNLOAD_LINK_CLASS)
        assert len(links) == 1, page.name
        attrs, text = links[0]
        # its own notebook, saved (download) under its own name; the link text names it
        assert attrs["href"] == lesson.name and attrs["download"] == lesson.name, attrs
        assert (page.parent / str(attrs["href"])).resolve() == notebook.resolve()
        assert text == DOWNLOAD_LINK_TEXT == "Download this lesson as a notebook (.ipynb)"
        # near the top: right after the lesson's title, before its first cell
        body = page.read_text(encoding="utf-8")
        title_end = body.index("</h1>", body.index('<article class="bd-article"')) + len("</h1>")
        at = body.index(f'class="{DOWNLOAD_LINK_CLASS}"')
        assert re.fullmatch(r'\s*<p class="filmkit-download"><a ', body[title_end:at]), page.name
        assert at < body.index('<div class="cell', title_end), page.name
    lesson_page_names = {f"lessons/{lesson.stem}.html" for lesson in lessons}
    for relative in built_site.pages:
        if relative.as_posix() not in lesson_page_names:
            assert not anchors(built_site.out / relative, DOWNLOAD_LINK_CLASS), relative
    stylesheet = (built_site.out / "_static" / "filmkit.css").read_text(encoding="utf-8")
    assert f".{DOWNLOAD_LINK_CLASS}" in stylesheet


def test_no_assignment_notebook_is_published(built_site: SiteReport) -> None:
    root = project_root()
    assignments = assignment_notebooks(root)
    assert any(p.is_relative_to(root / "assignments" / "source") for p in assignments)
    published = list(built_site.out.rglob("*.ipynb"))
    assert published
    names = {p.name for p in assignments}  # genre-shifts.ipynb, … in source/ and release/
    contents = {p.read_bytes() for p in assignments}
    for notebook in published:
        assert notebook.name not in names, notebook
        assert notebook.read_bytes() not in contents, notebook
        cells = nbformat.read(notebook, as_version=4).cells
        assert not [c for c in cells if "nbgrader" in c.metadata], notebook
    assert not (built_site.out / "assignments").exists()
    assert not [p for p in built_site.out.rglob("*") if p.name in ("source", "release")]


def test_the_home_page_has_the_outline_and_a_table_of_contents(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    index = built_site.out / "index.html"
    page = parse(index)
    text = words("".join(page.text))
    render = MarkdownIt("commonmark")
    for outline in built_site.lessons:
        assert outline.title in text
        assert outline.objectives, f"{outline.docname}: no learning objectives found in its opening"
        for objective in outline.objectives:
            rendered = _Page()
            rendered.feed(render.renderInline(objective))
            assert words("".join(rendered.text)) in text, objective
    toc = re.search(r'<div class="toctree-wrapper compound">(.*?)</div>', index.read_text(), re.S)
    assert toc, "the home page has no table of contents"
    targets = re.findall(r'href="([^"#]+)"', toc.group(1))
    expected = [f"lessons/{lesson.source.stem}.html" for lesson in executed_lessons]
    assert targets == [*sorted(expected), "manifest.html"]


def test_outline_reads_the_title_and_objectives_in_several_styles() -> None:
    def outline(*cells: str) -> tuple[str, tuple[str, ...]]:
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_markdown_cell(c) for c in cells]
            + [nbformat.v4.new_code_cell("1"), nbformat.v4.new_markdown_cell("- not this")]
        )
        found = lesson_outline(nb, "lessons/x")
        return found.title, found.objectives

    assert outline(
        "# Genre *shifts*\n\n> **Content note.** …\n\n- a list that is not the objectives\n\n"
        "## Learning objectives\n\n- Trace the *genre*.\n- Compare\n  two texts.\n\n## Next\n\n- no"
    ) == ("Genre shifts", ("Trace the *genre*.", "Compare two texts."))
    assert outline("# T\n\nBy the end of this lesson you can:\n\n1. One.\n2. Two.") == (
        "T",
        ("One.", "Two."),
    )
    assert outline("# T", "```{admonition} Learning objectives\n:class: tip\n- One\n```") == (
        "T",
        ("One",),
    )
    assert outline(
        "# T\n\n> Content note: you can skip\n>\n> - these scenes",
        "## Learning objectives\n\n1. The real one.",
    ) == ("T", ("The real one.",))
    assert outline("# T\n\nNo list of objectives here.\n\n## Plan\n\n- a step") == ("T", ())
    with pytest.raises(SiteError, match="level-1 heading"):
        outline("## Only a subheading")


def test_manifest_page_lists_every_source(built_site: SiteReport) -> None:
    text = words("".join(parse(built_site.out / "manifest.html").text))
    documents = load_documents()
    for row in documents:
        assert row["id"] in text and row["original_file"] in text
        assert row["sha256"][:16] in text and row["sha256"] not in text  # shortened
        for field in ("title", "author", "published", "kind"):
            assert words(row[field]) in text
    assert "Cleaning log" in text and "cleaning_log.csv" in text


def load_documents() -> list[dict[str, str]]:
    import csv

    with (project_root() / "source_texts" / "manifest.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_plotly_js_is_shipped_once_in_the_npm_partial_bundle(built_site: SiteReport) -> None:
    copies = [p for p in built_site.out.rglob("*") if p.is_file() and "plotly" in p.name.lower()]
    assert [p.relative_to(built_site.out).as_posix() for p in copies] == ["_static/plotly.min.js"]
    assert copies[0].read_bytes() == plotly_js().read_bytes()
    assert plotly_js().is_relative_to(project_root() / "web" / "node_modules" / BUNDLE)
    for relative in built_site.pages:
        page = built_site.out / relative
        body = page.read_text(encoding="utf-8")
        scripts = [url for tag, url in parse(page).resources if "plotly" in url]
        has_figures = 'class="plotly-graph-div"' in body
        assert len(scripts) == (1 if has_figures else 0), relative
        if scripts:
            assert scripts[0].split("?")[0].endswith("_static/plotly.min.js")
            assert (page.parent / scripts[0].split("?")[0]).resolve() == copies[0].resolve()
        assert page.stat().st_size < 500_000, f"{relative}: plotly.js inlined?"


def test_the_bundle_matches_the_python_plotly_and_is_locked() -> None:
    assert bundle_version() == wheel_plotly_js_version()  # the figures are made for that plotly.js
    web = project_root() / "web"
    manifest = json.loads((web / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((web / "package-lock.json").read_text(encoding="utf-8"))
    assert manifest["dependencies"][BUNDLE] == bundle_version()  # pinned exactly
    assert all(v[:1].isdigit() for v in manifest["dependencies"].values())  # all of them
    assert lock["packages"][f"node_modules/{BUNDLE}"]["version"] == bundle_version()
    assert "npm ci" in (project_root() / "Makefile").read_text(encoding="utf-8")
    # the trace types the bundle says it holds
    readme = (plotly_js().parent / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"Contains trace modules (.*?)\.\n", readme, re.S)
    assert listed, "the bundle's README no longer lists its trace modules"
    assert set(re.findall(r"`([a-z0-9]+)`", listed.group(1))) == BUNDLE_TRACES


def plotted_figures(body: str) -> list[dict[str, Any]]:
    """The data and layout of every ``Plotly.newPlot`` call of a page, as drawn."""
    decoder = json.JSONDecoder()
    figures = []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', body):
        data, end = decoder.raw_decode(body, call.end())
        layout, _ = decoder.raw_decode(body[end:].lstrip().removeprefix(",").lstrip())
        figures.append({"data": data, "layout": layout})
    return figures


def trace_types(figures: list[dict[str, Any]]) -> set[str]:
    return {str(trace.get("type", "scatter")) for f in figures for trace in f["data"]}


def test_every_figure_type_drawn_is_in_the_bundle(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    used: set[str] = set()
    for page in lesson_pages(built_site, executed_lessons):
        figures = plotted_figures(page.read_text(encoding="utf-8"))
        assert len(figures) >= 2, page.name
        used |= trace_types(figures)
    assert {"bar", "heatmap", "scatter"} <= used  # what the lessons draw today
    assert used <= BUNDLE_TRACES, f"{sorted(used - BUNDLE_TRACES)} are not in {BUNDLE}"


def test_every_category_is_labelled_and_a_shortened_label_is_whole_on_hover(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    shortened = 0
    for page in lesson_pages(built_site, executed_lessons):
        for figure in plotted_figures(page.read_text(encoding="utf-8")):
            hover = " ".join(
                html.unescape(re.sub(r"<[^>]+>", " ", str(text)))
                for trace in figure["data"]
                for row in (trace.get("hovertext") or [])
                for text in (row if isinstance(row, list) else [row])
            )
            hover = words(hover)
            for name, axis in figure["layout"].items():
                if not re.fullmatch(r"[xy]axis\d*", name) or "ticktext" not in axis:
                    continue
                assert len(axis["ticktext"]) == len(axis["tickvals"]), (page.name, name)
                for value, text in zip(axis["tickvals"], axis["ticktext"], strict=True):
                    if "…" in text:
                        shortened += 1
                        full = words(str(value))
                        assert full in hover, f"{page.name} {name}: {full!r} not in the hover"
    assert shortened, "no long label was shortened: the check checks nothing"


def test_the_theme_loads_no_font_awesome_javascript(built_site: SiteReport) -> None:
    """The theme's icons come from its stylesheet and webfont; the 1.5 MB script is dropped."""
    assert (built_site.out / "_static" / "scripts" / "fontawesome.js").is_file()  # the theme's
    for relative in built_site.pages:
        loaded = [url for _, url in parse(built_site.out / relative).resources]
        assert not [url for url in loaded if "fontawesome" in url], relative
    index = (built_site.out / "index.html").read_text(encoding="utf-8")
    assert 'class="fa-solid fa-magnifying-glass' in index  # icons still marked up
    search = [url for _, url in parse(built_site.out / "search.html").resources]
    assert any("searchtools.js" in url for url in search)  # the search page keeps its scripts


def test_page_weights_as_a_browser_loads_them(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    weights = {w.page.as_posix(): w for w in built_site.weights}
    assert list(weights) == [p.as_posix() for p in built_site.pages]
    recomputed = page_weights(built_site.out, list(built_site.pages))
    assert list(built_site.weights) == recomputed
    lessons = {f"lessons/{lesson.source.stem}.html" for lesson in executed_lessons}
    plotly = built_site.out / "_static" / "plotly.min.js"
    for name, weight in weights.items():
        files = [built_site.out / a for a in weight.assets]
        assert len(set(files)) == len(files)  # each counted once
        assert weight.first_load_bytes == weight.html_bytes + sum(f.stat().st_size for f in files)
        assert weight.html_bytes <= weight.own_bytes <= weight.first_load_bytes
        stylesheets = [a for a in weight.assets if a.suffix == ".css"]
        assert stylesheets, name
        fonts = {a.name for a in weight.assets if a.suffix == ".woff2"}
        assert "fa-solid-900.woff2" in fonts, name  # the theme's icons: from its stylesheet
        assert "fa-brands-400.woff2" not in fonts, name  # declared, used by no page
        assert (plotly in files) == (name in lessons), name
        # the notebook a lesson page links to is downloaded when asked for, not on page load
        assert not [a for a in weight.assets if a.suffix == ".ipynb"], name
        if name in lessons:
            assert weight.own_bytes < LESSON_OWN_TARGET, name
            # the full plotly.js alone was 4.8 MB, the theme's icon script 1.5 MB
            assert weight.first_load_bytes < 2_500_000, name
    lines = summary_lines(built_site)
    heaviest = max(built_site.weights, key=lambda w: w.first_load_bytes)
    at = lines.index(next(line for line in lines if line.startswith("Heaviest pages")))
    assert lines[at + 1].startswith(f"  {heaviest.page.as_posix()}: ")
    assert f"({heaviest.first_load_bytes:,} bytes, {len(heaviest.assets)} files)" in lines[at + 1]


def test_a_link_is_not_part_of_a_pages_weight(tmp_path: Path) -> None:
    """A download link (or any link) is fetched when followed, not when the page loads."""
    (tmp_path / "lessons").mkdir()
    (tmp_path / "style.css").write_text("p { color: red }")
    (tmp_path / "lessons" / "00-x.ipynb").write_text("{}" + " " * 50_000)
    (tmp_path / "lessons" / "00-x.html").write_text(
        '<html><head><link rel="stylesheet" href="../style.css"></head><body>'
        '<a class="filmkit-download-link" href="00-x.ipynb" download="00-x.ipynb">Download</a>'
        '<a href="../style.css">the stylesheet, as a link</a></body></html>'
    )
    page = Path("lessons/00-x.html")
    assert references(tmp_path, page) == {(tmp_path / "style.css").resolve()}
    [weight] = page_weights(tmp_path, [page])
    assert weight.assets == (Path("style.css"),)
    assert weight.first_load_bytes == (tmp_path / page).stat().st_size + len("p { color: red }")


def test_every_lesson_loads_under_two_megabytes(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    """Issue 12's target: the 1.5 MB plotly.js bundle and, trimmed to what the pages use
    (filmkit.sitebuild.trim), the theme's stylesheets and icon fonts."""
    lessons = {f"lessons/{lesson.source.stem}.html" for lesson in executed_lessons}
    weights = [w for w in built_site.weights if w.page.as_posix() in lessons]
    assert len(weights) == len(lessons)
    heavy = {
        w.page.as_posix(): (w.first_load_bytes, w.own_bytes)
        for w in weights
        if w.first_load_bytes >= LESSON_FIRST_LOAD_TARGET or w.own_bytes >= LESSON_OWN_TARGET
    }
    assert not heavy
    assert not [line for line in summary_lines(built_site) if "over the" in line]


# --- the stylesheets and icon fonts, trimmed -----------------------------------------------------

_AT_BLOCK = re.compile(r"@(?:font-face|page)[^{};]*{[^{}]*}")  # flat at-rules: no selectors
_KEYFRAMES = re.compile(r"@(?:-webkit-)?keyframes[^{]*{(?:[^{}]*{[^{}]*})*[^{}]*}")
_RULE = re.compile(r"([^{}@;]+){([^{}]*)}")
_SELECTOR_PARTS = re.compile(r"""\[[^\]]*\]|"[^"]*"|'[^']*'""")  # attributes, strings
_ATTRIBUTE = re.compile(r"\[\s*([\w-]+)")
_CLASSES = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_IDS = re.compile(r"#(-?[_a-zA-Z][\w-]*)")
_TAGS = re.compile(r"(?:^|[\s>+~(,])([a-zA-Z][\w-]*)")
_VAR = re.compile(r"var\(\s*(--[\w-]+)")
# An icon glyph in a CSS string: escaped ("\\f0f3") or as the character itself.
_PRIVATE_USE_CHARACTER = re.compile("[\ue000-\uf8ff]")
_PRIVATE_USE = re.compile(r"\\([eE][0-9a-fA-F]{3}|[fF][0-8][0-9a-fA-F]{2})(?![0-9a-fA-F])")


class _Elements(HTMLParser):
    """The element names, classes, ids and attribute names a page's markup uses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.classes: set[str] = set()
        self.ids: set[str] = set()
        self.attributes: set[str] = set(DYNAMIC_ATTRIBUTES)  # what scripts set on them

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.add(tag)
        self.attributes.update(values)
        self.classes.update(values.get("class", "").split())
        if values.get("id"):
            self.ids.add(values["id"])


def elements(path: Path) -> _Elements:
    found = _Elements()
    found.feed(path.read_text(encoding="utf-8"))
    return found


def css_rules(css: str) -> list[tuple[str, str]]:
    """Every style rule of a stylesheet, in @media blocks too, as (one selector, its body)."""
    css = _KEYFRAMES.sub("", _AT_BLOCK.sub("", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))
    return [
        (" ".join(selector.split()), body)
        for selectors, body in _RULE.findall(css)
        for selector in _top_level_split(selectors)
    ]


def _top_level_split(selectors: str) -> list[str]:
    """A selector list split at its commas, not those inside :is(…) or :not(…)."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(selectors):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(selectors[start:at])
            start = at + 1
    return [p.strip() for p in [*parts, selectors[start:]] if p.strip()]


def applies_to(selector: str, page: _Elements) -> bool:
    """Whether every class, id, element and attribute the selector names is on the page or set
    by its scripts (attributes' values and pseudo-classes aside: scripts and the reader change
    them)."""
    if not {a.lower() for a in _ATTRIBUTE.findall(selector)} <= page.attributes:
        return False
    bare = _SELECTOR_PARTS.sub("", selector)
    bare = re.sub(r"::?[\w-]+", " ", bare)  # pseudo-class and -element names are not tags
    return (
        set(_CLASSES.findall(bare)) <= page.classes
        and set(_IDS.findall(bare)) <= page.ids
        and {t.lower() for t in _TAGS.findall(_CLASSES.sub(" ", _IDS.sub(" ", bare)))} <= page.tags
    )


@pytest.fixture(scope="module")
def untrimmed_site(
    executed_lessons: list[ExecutedLesson], tmp_path_factory: pytest.TempPathFactory
) -> SiteReport:
    """The site as Sphinx wrote it: the same build without the stylesheets and fonts trimmed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trim_module, "trim", lambda site: None)
        return publish(
            out=tmp_path_factory.mktemp("untrimmed-site") / "_site",
            executed=[lesson.executed for lesson in executed_lessons],
        )


def test_the_trimmed_stylesheets_keep_every_rule_a_page_can_use(
    built_site: SiteReport, untrimmed_site: SiteReport
) -> None:
    """Each rule of the theme's stylesheets whose classes, ids and elements a page has is still
    there, selector and declarations as Sphinx wrote them; most others are gone."""
    weights = {w.page: w for w in built_site.weights}
    for untrimmed in untrimmed_site.weights:
        page = elements(built_site.out / untrimmed.page)
        assert weights[untrimmed.page].first_load_bytes < untrimmed.first_load_bytes
        for asset in (a for a in untrimmed.assets if a.suffix == ".css"):
            kept = set(css_rules((built_site.out / asset).read_text(encoding="utf-8")))
            original = css_rules((untrimmed_site.out / asset).read_text(encoding="utf-8"))
            lost = [rule for rule in original if applies_to(rule[0], page) and rule not in kept]
            assert not lost, f"{untrimmed.page}: {asset} lost {lost[:5]}"
    theme = Path("_static/styles/pydata-sphinx-theme.css")
    trimmed, whole = ((site.out / theme).stat().st_size for site in (built_site, untrimmed_site))
    assert trimmed < whole / 3


def test_every_icon_a_page_draws_is_in_the_trimmed_font(
    built_site: SiteReport, untrimmed_site: SiteReport
) -> None:
    """Every Font Awesome glyph named by a rule that applies to a page (directly, or through
    the custom property its content reads, as the admonitions' icons) is in the subset font."""
    from fontTools.ttLib import TTFont

    for untrimmed in untrimmed_site.weights:
        page = elements(untrimmed_site.out / untrimmed.page)
        sheets = [
            (untrimmed_site.out / a).read_text(encoding="utf-8")
            for a in untrimmed.assets
            if a.suffix == ".css"
        ]
        rules = [rule for css in sheets for rule in css_rules(css)]
        drawn = icon_codepoints(rules, page)
        fonts = [a for a in untrimmed.assets if a.suffix == ".woff2"]
        assert fonts and drawn, untrimmed.page
        for font in fonts:
            whole = TTFont(untrimmed_site.out / font).getBestCmap()
            cut = TTFont(built_site.out / font).getBestCmap()
            assert len(cut) < len(whole) / 10, font
            missing = {hex(c) for c in drawn if c in whole and c not in cut}
            assert not missing, f"{untrimmed.page}: {font} lost {sorted(missing)}"


def icon_codepoints(rules: list[tuple[str, str]], page: _Elements) -> set[int]:
    """The private-use characters (icon glyphs) the rules that apply to the page name, and those
    of the custom properties they read, through any chain of var() (declared by any rule)."""
    properties: dict[str, list[str]] = {}
    for _, body in rules:
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            if name.strip().startswith("--"):
                properties.setdefault(name.strip(), []).append(value)
    values = [body for selector, body in rules if applies_to(selector, page)]
    read: set[str] = set()
    pending = [name for value in values for name in _VAR.findall(value)]
    while pending:
        name = pending.pop()
        if name not in read:
            read.add(name)
            values += properties.get(name, [])
            pending += [n for value in properties.get(name, []) for n in _VAR.findall(value)]
    escaped = {int(c, 16) for value in values for c in _PRIVATE_USE.findall(value)}
    return escaped | {ord(c) for value in values for c in _PRIVATE_USE_CHARACTER.findall(value)}


def test_glyph_codepoints_reads_content_and_custom_properties() -> None:
    css = (
        '.a{--fa:"\\f002"}.b:after{content:"\\e0a1 x"}'
        ':root{--pst-icon-note:"\\f0f3";font-family:"Zed"}.c{--x-family:"Q"}'
    )
    assert glyph_codepoints([css]) == {0xF002, 0xE0A1, ord("x"), 0xF0F3}


def test_a_missing_purgecss_names_make_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = tmp_path / "web"
    bundle = web / "node_modules" / BUNDLE
    bundle.mkdir(parents=True)
    shutil.copy(plotly_js(), bundle)  # plotly.js is there: only purgecss is missing
    monkeypatch.setenv(WEB_ENV, str(web))
    lesson = lesson_notebook(tmp_path / "00-x.ipynb", "1 + 1")
    with pytest.raises(SiteError, match=r"purgecss is not installed.*Run `make setup`"):
        publish(out=tmp_path / "site", executed=[lesson])


def test_pages_load_nothing_remote(built_site: SiteReport) -> None:
    for relative in built_site.pages:
        resources = parse(built_site.out / relative).resources
        remote = [(tag, url) for tag, url in resources if REMOTE.match(url) or "cdn." in url]
        assert not remote, f"{relative} loads {remote}"
    for css in built_site.out.rglob("*.css"):
        imports = re.findall(
            r"""(?:@import|url\()\s*["']?((?:https?:)?//[^"')\s]+)""", css.read_text()
        )
        assert not imports, f"{css.relative_to(built_site.out)} loads {imports}"


def test_every_lesson_page_has_its_figures(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    for page in lesson_pages(built_site, executed_lessons):
        body = page.read_text(encoding="utf-8")
        ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', body)
        assert len(ids) >= 2, f"{page.name}: {len(ids)} plotly figures"
        assert len(set(ids)) == len(ids)
        for div_id in ids:
            assert f'document.getElementById("{div_id}")' in body


def test_reported_sizes_match_the_files(built_site: SiteReport) -> None:
    files = [p for p in built_site.out.rglob("*") if p.is_file()]
    assert built_site.total_bytes == sum(p.stat().st_size for p in files)
    pages = {p.relative_to(built_site.out) for p in files if p.suffix == ".html"}
    pages = {p for p in pages if p.parts[0] != "_static"}
    assert set(built_site.pages) == pages
    largest = max(pages, key=lambda p: (built_site.out / p).stat().st_size)
    assert built_site.largest_page == largest
    assert built_site.largest_page_bytes == (built_site.out / largest).stat().st_size
    lines = summary_lines(built_site)
    count = len(built_site.lessons)
    at = lines.index(f"Notebooks offered for download, as stored in course/ ({count}):")
    assert count == len(built_site.notebooks)
    assert lines[at + 1 : at + 1 + len(built_site.lessons)] == [
        f"  {notebook.as_posix()}" for notebook in built_site.notebooks
    ]
    assert (
        f"Total size: {built_site.total_bytes / 1e6:.1f} MB ({built_site.total_bytes:,} bytes)"
        in lines
    )
    assert lines[-1] == f"Site: {built_site.out / 'index.html'}"


# --- no answers in the site --------------------------------------------------------------------

_REGION = re.compile(
    r"^[^\n]*?BEGIN (SOLUTION|HIDDEN TESTS?|MARK SCHEME)\b[^\n]*\n(.*?)^[^\n]*?END \1\b",
    re.MULTILINE | re.DOTALL,
)


def answer_texts(root: Path) -> list[str]:
    """Each line of every solution region, hidden-test block and mark scheme of the nbgrader
    source notebooks, and of every markdown solution cell: the lines of 20 characters and four
    words or more (shorter ones, a source id or a variable's name, are not answers by themselves).
    """
    found: list[str] = []
    for path in sorted((root / "assignments" / "source").glob("**/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            regions = [m.group(2) for m in _REGION.finditer(cell.source)]
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "markdown" and not regions:
                regions = [cell.source]
            for region in regions:
                found.extend(
                    words(line)
                    for line in region.splitlines()
                    if len(words(line)) >= 20 and len(re.findall(r"\w+", line)) >= 4
                )
    return sorted(set(found))


def test_answer_collection_finds_regions(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x = 1\n### BEGIN SOLUTION\nanswer = compute_the_secret(answer_key, level=3)\n"
                '"madness-music-genius",\n'
                "### END SOLUTION\n### BEGIN HIDDEN TESTS\nassert answer == the_hidden_expectation(level=3)\n"
                "### END HIDDEN TESTS\nvisible_line_that_is_long_enough = 2"
            ),
            nbformat.v4.new_markdown_cell(
                "Task\n=== BEGIN MARK SCHEME ===\nGive two marks for a clear argument.\n"
                "=== END MARK SCHEME ==="
            ),
        ]
    )
    essay = nbformat.v4.new_markdown_cell("A model essay written by the instructor.")
    essay.metadata["nbgrader"] = {"solution": True, "grade": True}
    nb.cells.append(essay)
    (tmp_path / "assignments" / "source" / "a").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "assignments" / "source" / "a" / "a.ipynb")
    assert answer_texts(tmp_path) == [
        "A model essay written by the instructor.",
        "Give two marks for a clear argument.",
        "answer = compute_the_secret(answer_key, level=3)",
        "assert answer == the_hidden_expectation(level=3)",
    ]


def test_no_solution_hidden_test_or_mark_scheme_appears_in_the_site(built_site: SiteReport) -> None:
    answers = answer_texts(project_root())  # none yet while the assignments are being written
    for path in text_files(built_site):
        raw = path.read_text(encoding="utf-8", errors="replace")
        texts = [words(raw), words(html.unescape(raw))]
        if path.suffix == ".html":
            texts.append(words("".join(parse(path).text)))  # code split into highlighted spans
        for marker in NBGRADER_MARKERS:
            assert not any(marker in t for t in texts), f"{path.name}: {marker}"
        leaked = [a for a in answers if any(a in t for t in texts)]
        assert not leaked, (
            f"{path.relative_to(built_site.out)} shows assignment answers: {leaked[:3]}"
        )


# --- publishing guards and the command ---------------------------------------------------------


def lesson_notebook(path: Path, *code: str, executed: bool = True) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A lesson\n\nObjectives:\n\n- One."),
            *(nbformat.v4.new_code_cell(c) for c in code),
        ]
    )
    for index, cell in enumerate(nb.cells[1:], 1):
        cell.execution_count = index if executed else None
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_a_lesson_with_an_nbgrader_marker_is_not_published(tmp_path: Path) -> None:
    lesson = lesson_notebook(tmp_path / "00-x.ipynb", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    with pytest.raises(SiteError, match="nbgrader marker"):
        publish(out=tmp_path / "site", executed=[lesson])
    assert not (tmp_path / "site").exists()


def test_an_unexecuted_lesson_is_not_published(tmp_path: Path) -> None:
    lesson = lesson_notebook(tmp_path / "00-x.ipynb", "1 + 1", executed=False)
    with pytest.raises(SiteError, match="not been executed"):
        publish(out=tmp_path / "site", executed=[lesson])


def test_a_course_notebook_with_outputs_is_refused_before_any_lesson_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the lessons ran before the course/ notebooks were checked")

    monkeypatch.setattr(site_module, "execute_lessons", never)
    lesson_notebook(tmp_path / "course" / "00-x.ipynb", "1 + 1")  # saved with execution counts
    with pytest.raises(SiteError, match=r"course/00-x\.ipynb cell 2 has outputs or an execution"):
        publish(root=tmp_path, out=tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_the_notebook_offered_is_the_clean_course_file_the_page_was_executed_from(
    tmp_path: Path,
) -> None:
    executed = lesson_notebook(tmp_path / "run" / "00-x.ipynb", "1 + 1")
    with pytest.raises(SiteError, match=r"course/00-x\.ipynb is missing"):
        lesson_source(executed, tmp_path)
    course = lesson_notebook(tmp_path / "course" / "00-x.ipynb", "1 + 1", executed=False)
    assert lesson_source(executed, tmp_path) == course
    lesson_notebook(course, "2 + 2", executed=False)  # changed since it was executed
    with pytest.raises(SiteError, match="other cells than its executed copy"):
        lesson_source(executed, tmp_path)
    nb = nbformat.read(course, as_version=4)
    nb.cells[1].source = "1 + 1"
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="2\n")]
    nbformat.write(nb, course)
    with pytest.raises(SiteError, match="has outputs or an execution count"):
        lesson_source(executed, tmp_path)
    nb.cells[1].outputs = []
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "q1", "points": 1}
    nbformat.write(nb, course)
    with pytest.raises(SiteError, match="is an nbgrader cell"):
        lesson_source(executed, tmp_path)
    nb.cells[1].metadata = {}
    nb.cells[0].source += "\n\n### BEGIN SOLUTION"
    nbformat.write(nb, course)
    with pytest.raises(SiteError, match="nbgrader marker"):
        lesson_source(executed, tmp_path)


def test_a_site_publishes_the_course_notebooks_byte_for_byte(
    corpus_copy: Path, tmp_path: Path
) -> None:
    root = corpus_copy  # a project root with the source texts: the manifest page needs them
    executed = lesson_notebook(tmp_path / "run" / "00-x.ipynb", "1 + 1")
    ran = nbformat.read(executed, as_version=4)
    ran.metadata["language_info"] = {"name": "python"}  # as an executed lesson has it
    nbformat.write(ran, executed)
    course = lesson_notebook(root / "course" / "00-x.ipynb", "2 + 2", executed=False)
    with pytest.raises(SiteError, match="other cells than its executed copy"):
        publish(root=root, out=root / "site", executed=[executed])
    assert not (root / "site").exists()
    lesson_notebook(course, "1 + 1", executed=False)
    course.write_bytes(course.read_bytes().replace(b"\n", b"\r\n"))  # any bytes, kept as they are
    report = publish(root=root, out=root / "site", executed=[executed])
    assert report.notebooks == (Path("lessons/00-x.ipynb"),)
    assert (root / "site" / "lessons" / "00-x.ipynb").read_bytes() == course.read_bytes()
    [(attrs, _)] = anchors(root / "site" / "lessons" / "00-x.html", DOWNLOAD_LINK_CLASS)
    assert attrs["href"] == "00-x.ipynb"


def test_a_folder_that_is_not_a_site_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    lesson = lesson_notebook(tmp_path / "00-x.ipynb", "1 + 1")
    with pytest.raises(SiteError, match="refusing to replace"):
        publish(out=tmp_path / "out", executed=[lesson])
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


def test_publish_help() -> None:
    result = CliRunner().invoke(cli, ["publish", "--help"])
    assert result.exit_code == 0
    assert "static HTML site" in result.output
    assert "--out DIRECTORY" in result.output and "--jobs" in result.output


def test_publish_reports_an_error_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "course").mkdir()
    monkeypatch.setenv("FILMKIT_ROOT", str(tmp_path))
    result = CliRunner().invoke(cli, ["publish", "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("filmkit publish: no lessons to publish")


# --- built for the course hub -----------------------------------------------------------------

HUB = "https://hub.example.edu/course/"  # a hub under a base_url, given with a trailing slash


@pytest.fixture(scope="module")
def hub_site(
    executed_lessons: list[ExecutedLesson], tmp_path_factory: pytest.TempPathFactory
) -> SiteReport:
    """The site built for the course hub (filmkit publish --hub-url), from the same lessons."""
    return publish(
        out=tmp_path_factory.mktemp("hub-site") / "_site",
        executed=[lesson.executed for lesson in executed_lessons],
        hub_url=HUB,
    )


def hub_links(page: Path) -> list[str]:
    """The page's links into a hub: to the test's hub, or to any hub's user-redirect."""
    return [url for url in parse(page).links if "hub.example.edu" in url or "user-redirect" in url]


def test_a_site_for_the_hub_links_each_lesson_page_to_the_students_copy(
    hub_site: SiteReport, built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    # JupyterHub's /hub/user-redirect/ sends a logged-in student to their own server, where
    # filmkit hub copied the lessons into ~/lessons
    expected = {
        f"lessons/{lesson.source.stem}.html": (
            f"{HUB.rstrip('/')}/hub/user-redirect/lab/tree/"
            f"{STUDENT_LESSONS_DIR}/{lesson.source.name}"
        )
        for lesson in executed_lessons
    }
    assert expected
    assert hub_site.pages == built_site.pages
    for relative in hub_site.pages:
        page = hub_site.out / relative
        url = expected.get(relative.as_posix())
        assert hub_links(page) == ([url] if url else []), relative
        remote = [u for _, u in parse(page).resources if REMOTE.match(u) or "cdn." in u]
        assert not remote, f"{relative} loads {remote}"  # the link is a link, nothing loaded
        if url is None:
            continue
        body = page.read_text(encoding="utf-8")
        link = re.search(
            rf'<a class="filmkit-hub-link" href="{re.escape(html.escape(url))}">', body
        )
        assert link, relative
        # near the top: right after the lesson's title (the article's first heading), before
        # its first cell
        title_end = body.index("</h1>", body.index('<article class="bd-article"')) + len("</h1>")
        assert re.fullmatch(r'\s*<p class="filmkit-hub">', body[title_end : link.start()]), relative
        assert link.start() < body.index('<div class="cell', title_end), relative
        text = words("".join(parse(page).text))
        assert text.count("Open this lesson in JupyterLab on the course hub") == 1, relative
    hub_line = f"Lesson pages link to each student's copy on the course hub at {HUB.rstrip('/')}"
    assert hub_site.hub_url == HUB.rstrip("/") and hub_line in summary_lines(hub_site)
    assert built_site.hub_url is None
    assert not [line for line in summary_lines(built_site) if "hub" in line]
    stylesheet = (hub_site.out / "_static" / "filmkit.css").read_text(encoding="utf-8")
    assert ".filmkit-hub-link" in stylesheet
    for relative in built_site.pages:  # without --hub-url: no hub link anywhere
        assert not hub_links(built_site.out / relative), relative
        assert "filmkit-hub" not in (built_site.out / relative).read_text(encoding="utf-8")


def test_a_site_for_the_hub_has_both_links_under_the_title_the_hub_first(
    hub_site: SiteReport, built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    assert hub_site.notebooks == built_site.notebooks
    for lesson in executed_lessons:
        page = hub_site.out / "lessons" / f"{lesson.source.stem}.html"
        body = page.read_text(encoding="utf-8")
        hub = body.index(f'class="{HUB_LINK_CLASS}"')
        download = body.index(f'class="{DOWNLOAD_LINK_CLASS}"')
        hub_paragraph_end = body.index("</p>", hub) + len("</p>")
        # the hub's paragraph, then the download's at once, both before the first cell
        assert re.fullmatch(
            r'\s*<p class="filmkit-download"><a ', body[hub_paragraph_end:download]
        ), page.name
        assert download < body.index('<div class="cell', download), page.name
        [(attrs, text)] = anchors(page, DOWNLOAD_LINK_CLASS)
        assert (attrs["href"], attrs["download"], text) == (
            lesson.source.name,
            lesson.source.name,
            DOWNLOAD_LINK_TEXT,
        )
        notebook = hub_site.out / "lessons" / lesson.source.name
        assert notebook.read_bytes() == lesson.source.read_bytes()


def test_the_hub_address_is_checked_and_loses_its_trailing_slash() -> None:
    assert hub_address("https://hub.example.edu/") == "https://hub.example.edu"
    assert hub_address("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert hub_address(HUB) == "https://hub.example.edu/course"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://x", "not an http or https address"),
        ("hub.example.edu", "write --hub-url https://hub.example.edu"),
        ("https://", "no host"),
        ("https://hub.example.edu/?next=1", "query"),
        ("https://alice:secret@hub.example.edu", "password"),
        ("https://hub.example.edu/hub/login", "the part before /hub/"),
        ("https://hub.example.edu/user/alice/lab", "the part before /hub/"),
    ],
)
def test_a_bad_hub_address_is_refused_before_any_lesson_runs(
    url: str, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the lessons ran before the hub address was checked")

    monkeypatch.setattr(site_module, "execute_lessons", never)
    with pytest.raises(SiteError, match="--hub-url") as refused:
        publish(out=tmp_path / "site", hub_url=url)
    assert why in str(refused.value)
    assert not (tmp_path / "site").exists()


# --- plotly on the site ------------------------------------------------------------------------


def test_the_plotly_renderer_is_registered_with_myst_nb() -> None:
    from myst_nb.core.render import load_mime_renders

    assert PlotlyMimeRenderer in load_mime_renders(), "see [project.entry-points] in pyproject"


def test_figure_html_draws_with_the_shared_plotly_js_once_it_is_there() -> None:
    figure = {"data": [{"type": "bar", "y": [1, 2]}], "layout": {"title": {"text": "</script>"}}}
    snippet = figure_html(figure, div_id="fig-1")
    assert snippet.count("<script") == 1 and snippet.count("</script>") == 1
    assert 'id="fig-1"' in snippet and "Plotly.newPlot" in snippet
    assert "if(window.Plotly){draw();return;}" in snippet  # waits for the deferred plotly.js
    assert '"displaylogo": false' in snippet.replace("\\", "")
    assert len(snippet) < 20_000 and "cdn" not in snippet  # no plotly.js, nothing remote
    # an image for assistive technology, named by its title as plain text (plotly's tags are
    # formatting), escaped; a figure with no title text gets a generic name
    assert 'role="img" aria-label="Interactive chart"' in snippet
    quoted = figure_html({"data": [], "layout": {"title": 'Tom & "Jerry"'}}, div_id="fig-4")
    assert 'aria-label="Tom &amp; &quot;Jerry&quot;"' in quoted
    untitled = figure_html({"data": [{"type": "bar", "y": [1]}]}, div_id="fig-2")
    assert 'role="img" aria-label="Interactive chart"' in untitled
    titled = figure_html(
        {"data": [], "layout": {"title": "Words<br>per <b>source</b>"}}, div_id="fig-3"
    )
    assert 'aria-label="Words per source"' in titled


def test_a_figures_template_keeps_the_defaults_of_the_types_it_draws() -> None:
    """Trace defaults of other types never apply to the figure: dropped, it draws the same."""
    import plotly.graph_objects as go

    made = go.Figure([go.Bar(y=[1]), go.Scatter(y=[2])], layout={"template": "plotly_white"})
    figure = json.loads(made.to_json())
    compact = compact_template(figure)
    template, whole = compact["layout"]["template"], figure["layout"]["template"]
    assert set(template["data"]) == {"bar", "scatter"} < set(whole["data"])
    assert all(template["data"][kind] == whole["data"][kind] for kind in ("bar", "scatter"))
    assert template["layout"] == whole["layout"] and compact["data"] == figure["data"]
    assert len(json.dumps(compact)) < len(json.dumps(figure)) - 3000
    assert len(figure["layout"]["template"]["data"]) > 2  # the figure given is left as it was
    untemplated = {"data": [{"y": [1]}], "layout": {"title": "T"}}
    assert compact_template(untemplated) == untemplated
    snippet = figure_html(figure, div_id="fig-5")
    assert '"histogram2dcontour"' not in snippet and '"bar"' in snippet


def test_each_figure_is_described_by_the_figure_sentence_after_it() -> None:
    figure = '<div id="{0}" class="plotly-graph-div" role="img" aria-label="T"></div>'
    body = (
        figure.format("a")
        + "<p>Some prose first.</p><p><em>Figure: the first.</em></p>"
        + figure.format("b")
        + '<p id="kept"><em>Figure:</em> the second.</p>'
        + figure.format("c")
        + "<p>No description here.</p>"
    )
    described, missing = describe_figures(body)
    assert (
        'id="a" class="plotly-graph-div" role="img" aria-label="T" aria-describedby="a-description"'
        in described
    )
    assert '<p id="a-description"><em>Figure: the first.</em></p>' in described
    assert 'aria-describedby="kept"' in described and described.count('id="kept"') == 1
    assert "<p>Some prose first.</p>" in described
    assert missing == ["c"]


def test_the_built_figures_are_described_by_their_sentences(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson]
) -> None:
    for page in lesson_pages(built_site, executed_lessons):
        body = page.read_text(encoding="utf-8")
        tags = re.findall(r'<div id="[^"]+" class="plotly-graph-div"[^>]*>', body)
        assert tags, page.name
        for tag in tags:
            assert 'role="img"' in tag, tag
            label = re.search(r'aria-label="([^"]+)"', tag)
            assert label and label.group(1).strip(), tag
            target = re.search(r'aria-describedby="([^"]+)"', tag)
            assert target, tag
            paragraph = re.search(rf'<p id="{re.escape(target.group(1))}">(.*?)</p>', body, re.S)
            assert paragraph, target.group(1)
            assert words(re.sub(r"<[^>]+>", "", paragraph.group(1))).startswith("Figure:")


def plotly_lesson(path: Path) -> Path:
    output = nbformat.v4.new_output(
        "display_data", data={"application/vnd.plotly.v1+json": {"data": [{"y": [1, 3]}]}}
    )
    cell = nbformat.v4.new_code_cell("fig.show()", execution_count=1, outputs=[output])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A lesson"), cell])
    nbformat.write(nb, path)
    return path


def test_a_figure_that_cannot_be_rendered_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = plotly_lesson(tmp_path / "00-figure.ipynb")
    monkeypatch.setattr(PlotlyMimeRenderer, "handle_mime", staticmethod(lambda *args: None))
    with pytest.raises(SiteError, match=r"(?s)warnings are errors.*mime type"):
        publish(out=tmp_path / "site", executed=[lesson])
    assert not (tmp_path / "site").exists()


def test_a_figure_without_its_figure_sentence_fails_the_build(tmp_path: Path) -> None:
    lesson = plotly_lesson(tmp_path / "00-figure.ipynb")
    with pytest.raises(SiteError, match=r"(?s)warnings are errors.*starting 'Figure:'"):
        publish(out=tmp_path / "site", executed=[lesson])


def test_a_missing_plotly_bundle_names_make_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WEB_ENV, str(tmp_path / "web"))
    lesson = lesson_notebook(tmp_path / "00-x.ipynb", "1 + 1")
    with pytest.raises(SiteError, match=r"plotly\.js .*is not installed.*Run `make setup`"):
        publish(out=tmp_path / "site", executed=[lesson])
