"""Sphinx extension: the site's pages made readable on a phone and with a screen reader.

- Every plotly figure is an image for assistive technology: :func:`figure_html
  <filmkit.sitebuild.plotly_mime.figure_html>` gives its ``<div>`` ``role="img"`` and an
  ``aria-label`` (the figure's title); here, at build time, the "*Figure: …*" sentence the lesson
  writes after it gets an id and the figure ``aria-describedby`` that id. A figure with no such
  sentence before the next figure fails the build (every Sphinx warning does).
- ``filmkit.css`` lets long inline code (paths, source ids) wrap instead of widening the page.
- Every lesson page offers its notebook for download: the pages named in the ``html_context``
  entry ``filmkit_downloads`` (docname to the notebook's file name, which :mod:`filmkit.site`
  copies next to the page) get, right after their title, a link "Download this lesson as a
  notebook (.ipynb)" (:func:`download_link_html`) with the ``download`` attribute, so the browser
  saves the file instead of showing its JSON.
- A site built for the course hub (``filmkit publish --hub-url``): the pages named in the
  ``html_context`` entry ``filmkit_hub_links`` (docname to the hub URL of the student's copy and
  that copy's path in their home folder) get, right after their title and before the download
  link, a link "Open this lesson in JupyterLab on the course hub" (:func:`hub_link_html`).

Both links are plain ``<a href>`` (the page loads nothing more, from the network or the site),
drawn by ``filmkit.css`` as buttons of the same size: the hub link filled, the download outlined.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the class report imports this module too: no Sphinx at run time for it
    from docutils import nodes
    from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"
STYLESHEET = "filmkit.css"
DESCRIPTION_PREFIX = "Figure:"
HUB_LINKS = "filmkit_hub_links"  # the html_context entry: {docname: (url, path in the home)}
HUB_LINK_TEXT = "Open this lesson in JupyterLab on the course hub"
HUB_LINK_CLASS = "filmkit-hub-link"
DOWNLOADS = "filmkit_downloads"  # the html_context entry: {docname: notebook file name}
DOWNLOAD_LINK_TEXT = "Download this lesson as a notebook (.ipynb)"
DOWNLOAD_LINK_CLASS = "filmkit-download-link"
NOTEBOOK_TYPE = "application/x-ipynb+json"  # the media type nbformat documents for notebooks

_FIGURE_DIV = re.compile(r'<div id="(?P<id>[^"]+)" class="plotly-graph-div"(?P<attrs>[^>]*)>')
# A paragraph, its text starting (after inline tags such as <em>) with "Figure:".
_PARAGRAPH = re.compile(r"<p(?P<attrs>(?:\s[^>]*)?)>(?P<inner>.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")
_ID = re.compile(r'\sid="([^"]+)"')
_TITLE_END = re.compile(r"</h1>", re.IGNORECASE)


def description_id(div_id: str) -> str:
    return f"{div_id}-description"


def describe_figures(body: str) -> tuple[str, list[str]]:
    """``body`` with each figure ``aria-describedby`` its "Figure: …" paragraph (given an id).

    Returns the new body and the ids of the figures that have no such paragraph after them
    (before the next figure)."""
    figures = list(_FIGURE_DIV.finditer(body))
    missing: list[str] = []
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied from the end
    for index, figure in enumerate(figures):
        end = figures[index + 1].start() if index + 1 < len(figures) else len(body)
        paragraph = next(
            (
                p
                for p in _PARAGRAPH.finditer(body, figure.end(), end)
                if _text(p.group("inner")).startswith(DESCRIPTION_PREFIX)
            ),
            None,
        )
        div_id = figure.group("id")
        if paragraph is None:
            missing.append(div_id)
            continue
        attrs = paragraph.group("attrs")
        own_id = _ID.search(attrs)
        described = own_id.group(1) if own_id else description_id(div_id)
        if not own_id:
            edits.append(
                (
                    paragraph.start(),
                    paragraph.start() + len("<p") + len(attrs) + 1,
                    f'<p id="{described}"{attrs}>',
                )
            )
        if "aria-describedby=" not in figure.group("attrs"):
            edits.append(
                (
                    figure.start(),
                    figure.end(),
                    figure.group(0)[:-1] + f' aria-describedby="{described}">',
                )
            )
    for start, stop, replacement in sorted(edits, reverse=True):
        body = body[:start] + replacement + body[stop:]
    return body, missing


def hub_link_html(url: str, notebook: str) -> str:
    """The link to the student's copy of a lesson on the hub, ``notebook`` its path in their
    home folder."""
    return (
        '<p class="filmkit-hub">'
        f'<a class="{HUB_LINK_CLASS}" href="{html.escape(url, quote=True)}">{HUB_LINK_TEXT}</a> '
        '<span class="filmkit-hub-note">Your own copy, '
        f'<code class="filmkit-hub-path">~/{html.escape(notebook)}</code>: log in to the hub if '
        "it asks.</span></p>"
    )


def download_link_html(notebook: str) -> str:
    """The link that downloads a lesson's notebook, ``notebook`` its file name next to the page
    (the link's address and the name the browser saves it under)."""
    name = html.escape(notebook, quote=True)
    return (
        '<p class="filmkit-download">'
        f'<a class="{DOWNLOAD_LINK_CLASS}" href="{name}" download="{name}" '
        f'type="{NOTEBOOK_TYPE}">{DOWNLOAD_LINK_TEXT}</a> '
        '<span class="filmkit-download-note">Without outputs: open it in JupyterLab and run the '
        "cells from the top.</span></p>"
    )


def after_title(body: str, snippet: str) -> str:
    """``body`` with ``snippet`` right after its title (its first ``<h1>``), or first if it has
    none."""
    title = _TITLE_END.search(body)
    at = title.end() if title else 0
    return body[:at] + snippet + body[at:]


def with_hub_link(body: str, url: str, notebook: str) -> str:
    """``body`` with :func:`hub_link_html` right after its title."""
    return after_title(body, hub_link_html(url, notebook))


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    app.config.html_static_path = [*app.config.html_static_path, str(STATIC)]
    app.add_css_file(STYLESHEET, priority=900)


def _html_page_context(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    body = context.get("body")
    if not isinstance(body, str):
        return
    hub_link = (context.get(HUB_LINKS) or {}).get(pagename)
    notebook = (context.get(DOWNLOADS) or {}).get(pagename)
    links = (hub_link_html(*hub_link) if hub_link else "") + (
        download_link_html(notebook) if notebook else ""
    )
    if links:  # the hub link first: on the hub, the student's copy is already there
        context["body"] = body = after_title(body, links)
    if "plotly-graph-div" not in body:
        return
    from sphinx.util import logging

    context["body"], missing = describe_figures(body)
    for div_id in missing:
        logging.getLogger(__name__).warning(
            "%s: the figure %s has no paragraph starting %r after it to describe it "
            "(screen readers read it as the figure's description)",
            pagename,
            div_id,
            DESCRIPTION_PREFIX,
            location=pagename,
        )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _html_page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
