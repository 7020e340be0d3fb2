"""The published site in a real browser: headless chromium, the site served on 127.0.0.1.

From the home page, the table of contents is followed to every lesson; on each, every plotly
figure must have drawn its SVG, the console must log no error, the page must raise none, and no
request may leave the machine (such requests are blocked and recorded).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from filmkit.lessons import ExecutedLesson
from filmkit.site import SiteReport
from tests.browser import is_local, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

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
    remote: list[str] = []

    def route(request_route: Route) -> None:
        if is_local(request_route.request.url):
            request_route.continue_()
        else:
            remote.append(request_route.request.url)
            request_route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error on {page.url}: {message.text}")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", route)
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
