"""The published site in a real browser: headless chromium, the site served on 127.0.0.1.

From the home page, the table of contents is followed to every lesson; on each, every plotly
figure must have drawn its SVG, the console must log no error, the page must raise none, and no
request may leave the machine (such requests are blocked and recorded).

On a phone (390 px wide) and a laptop (1366 px), every page must not scroll sideways, and on each
lesson every figure must be an image with a name and its "Figure: …" sentence as description,
with every tick label it asks for drawn and none overlapping; the partial plotly.js must hold
every trace type drawn, and the theme's icons must still come from its webfont. Each lesson's
download link must be on the screen whole, a target at least 44 px high, and clicking it must save
the lesson's ``course/`` notebook, byte for byte, without leaving the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from filmkit.lessons import ExecutedLesson
from filmkit.site import SiteReport
from filmkit.sitebuild.postprocess import DOWNLOAD_LINK_TEXT
from tests.browser import LAYOUT_CHECK, block_remote, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

pytestmark = pytest.mark.slow

FIGURES_DRAWN = (
    "n => document.querySelectorAll('.plotly-graph-div svg.main-svg').length >= n"
    " && [...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg.main-svg'))"
)
TOC_LINKS = "#main-content .toctree-wrapper a.reference.internal"


def check_figures(page: Page) -> tuple[int, bool]:
    """Wait for every figure on the page to draw; hover a data point of the first that has one.

    Returns the number of figures and whether a hover label appeared (the figure is live)."""
    count = page.locator(".plotly-graph-div").count()
    page.wait_for_function(FIGURES_DRAWN, arg=count, timeout=20_000)
    for index in range(count):
        figure = page.locator(".plotly-graph-div").nth(index)
        point = figure.locator("g.trace path.point, g.trace g.point path").first
        if point.count():
            point.hover(force=True)
            try:
                figure.locator("g.hovertext").first.wait_for(state="attached", timeout=3_000)
            except Exception:
                return count, False
            return count, True
    return count, False


def test_the_site_works_in_a_browser_offline(
    built_site: SiteReport,
    executed_lessons: list[ExecutedLesson],
    browser: Browser,
    tmp_path: Path,
) -> None:
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error on {page.url}: {message.text}")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    remote = block_remote(context)
    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error on {page.url}: {error}"))
    expected = sorted(f"lessons/{lesson.source.stem}.html" for lesson in executed_lessons)
    shot = tmp_path / f"{Path(expected[0]).stem}.png"
    visited: dict[str, int] = {}
    live = False
    try:
        with serve(built_site.out) as base:
            page.goto(f"{base}/index.html", wait_until="load")
            toc = page.locator(TOC_LINKS)
            targets = [toc.nth(i).get_attribute("href") or "" for i in range(toc.count())]
            assert targets == [*expected, "manifest.html"], "the table of contents"
            for target in targets:
                page.locator(f'{TOC_LINKS}[href="{target}"]').click()
                page.wait_for_load_state("load")
                assert page.url == f"{base}/{target}"
                if target.startswith("lessons/"):
                    visited[target], hovered = check_figures(page)
                    live = live or hovered
                    if target == expected[0]:
                        page.evaluate("window.scrollTo(0, 0)")
                        page.screenshot(path=str(shot), full_page=True)
                page.go_back(wait_until="load")
                assert page.url == f"{base}/index.html"
    finally:
        context.close()
    assert sorted(visited) == expected
    assert all(count >= 2 for count in visited.values()), visited
    assert live, "no figure showed a hover label: the figures are not interactive"
    assert not problems, "\n".join(problems)
    assert not remote, f"requests left the machine: {remote}"
    assert shot.stat().st_size > 20_000, "the screenshot of a lesson is missing or blank"


LAID_OUT = "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d.dataset.layout)"
TRACE_TYPES = """() => [...new Set([...document.querySelectorAll('.plotly-graph-div')]
  .flatMap(d => (d.data || []).map(t => t.type || 'scatter')))]"""
BUNDLE_TRACES = "() => Object.keys(Plotly.PlotSchema.get().traces)"
# The theme's search icon: Font Awesome's webfont glyph, drawn without Font Awesome's JavaScript.
ICON_DRAWN = """async () => {
  await document.fonts.ready;
  const icon = document.querySelector('.fa-solid.fa-magnifying-glass');
  const glyph = icon && getComputedStyle(icon, '::before').content;
  return !!icon && !!glyph && glyph !== 'none'
    && document.fonts.check('900 16px "Font Awesome 7 Free"');
}"""


def settled_layout(page: Page) -> dict[str, Any]:
    """:data:`LAYOUT_CHECK`'s result once two in a row agree: plotly redraws a figure again after
    a relayout when its labels need more margin (automargin)."""
    last: dict[str, Any] | None = None
    for _ in range(25):
        now: dict[str, Any] = page.evaluate(LAYOUT_CHECK)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(200)
    raise AssertionError(f"{page.url}: the figures never settled: {last}")


@pytest.mark.parametrize("width", [390, 1366])
def test_pages_fit_the_screen_and_figures_are_accessible(
    built_site: SiteReport,
    executed_lessons: list[ExecutedLesson],
    browser: Browser,
    width: int,
) -> None:
    problems: list[str] = []
    context = browser.new_context(viewport={"width": width, "height": 844})
    block_remote(context)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error on {page.url}: {error}"))
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"console error on {page.url}: {m.text}"),
    )
    lessons = [f"lessons/{lesson.source.stem}.html" for lesson in executed_lessons]
    drawn: set[str] = set()
    bundle: set[str] = set()
    try:
        with serve(built_site.out) as base:
            for target in [*lessons, "index.html", "manifest.html"]:
                page.goto(f"{base}/{target}", wait_until="load")
                count = page.locator(".plotly-graph-div").count()
                if count:
                    page.wait_for_function(FIGURES_DRAWN, arg=count, timeout=20_000)
                    page.wait_for_function(LAID_OUT, timeout=20_000)  # phone layout applied
                layout = settled_layout(page)
                where = f"{target} at {width} px"
                assert layout["scroll"] <= layout["view"], f"{where} scrolls sideways"
                for figure in layout["figures"]:
                    name = f"{where}, figure {figure['name']!r}"
                    assert figure["role"] == "img", name
                    assert figure["name"], f"{where}: a figure has no accessible name"
                    assert (figure["description"] or "").startswith("Figure:"), name
                    for axis in figure["axes"]:
                        assert axis["drawn"] == axis["wanted"], f"{name}: {axis}"
                        assert axis["overlaps"] == 0, f"{name}: {axis}"
                if target in lessons:
                    assert len(layout["figures"]) >= 2, where
                    download = page.get_by_role("link", name=DOWNLOAD_LINK_TEXT, exact=True)
                    assert download.count() == 1 and download.is_visible(), where
                    box = download.bounding_box()
                    assert box, where
                    right = box["x"] + box["width"]
                    assert box["x"] >= 0 and right <= layout["view"], f"{where}: {box}"
                    assert box["height"] >= 44, f"{where}: the download link is {box}"
                    drawn |= set(page.evaluate(TRACE_TYPES))
                    bundle = set(page.evaluate(BUNDLE_TRACES))
                assert page.evaluate(ICON_DRAWN), f"{where}: the theme's icons are not drawn"
    finally:
        context.close()
    assert {"bar", "heatmap", "scatter"} <= drawn
    assert drawn <= bundle, f"drawn but not in the plotly.js bundle: {sorted(drawn - bundle)}"
    assert not problems, "\n".join(problems)


def test_the_download_link_saves_the_lessons_notebook(
    built_site: SiteReport, executed_lessons: list[ExecutedLesson], browser: Browser
) -> None:

    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    remote = block_remote(context)
    page = context.new_page()
    try:
        with serve(built_site.out) as base:
            for lesson in executed_lessons:
                address = f"{base}/lessons/{lesson.source.stem}.html"
                page.goto(address, wait_until="load")
                with page.expect_download() as started:
                    page.get_by_role("link", name=DOWNLOAD_LINK_TEXT, exact=True).click()
                download = started.value
                assert download.failure() is None, download.failure()
                assert download.url == f"{base}/lessons/{lesson.source.name}"
                assert download.suggested_filename == lesson.source.name
                saved = Path(download.path())
                assert saved.read_bytes() == lesson.source.read_bytes(), lesson.source.name
                assert page.url == address  # saved, not opened in place of the lesson
    finally:
        context.close()
    assert not remote, f"requests left the machine: {remote}"
