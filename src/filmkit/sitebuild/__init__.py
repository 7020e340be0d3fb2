"""The Sphinx build behind ``filmkit publish``: settings, and one call that builds HTML.

Sphinx with myst-nb, configured here instead of in a ``conf.py``: the source tree is generated
afresh for every build (:mod:`filmkit.site`), so the settings live with the code. Everything the
site needs is installed beforehand (the theme's assets in its wheel, plotly.js by ``make setup``),
so the build and the site work offline. Any Sphinx warning fails the build: a figure myst-nb
cannot render, a broken link or an unknown mime type would otherwise be silently missing from the
site.

The site carries only what its pages use: plotly.js in its cartesian partial bundle, installed by
``make setup`` (:mod:`filmkit.sitebuild.plotly_offline`); the theme's layout without Font
Awesome's 1.5 MB JavaScript (the theme's icons come from its stylesheet and webfont) and without
the search scripts search-as-you-type alone needs (``templates/layout.html``, Sphinx's documented
way to override a theme's template). Once built, the theme's and myst-nb's stylesheets keep only
the rules the pages and their scripts can use, and Font Awesome's webfonts only the glyphs those
rules draw (:mod:`filmkit.sitebuild.trim`: PurgeCSS, installed by ``make setup``, and fontTools'
subsetter): 0.5 MB less on every page, which puts a lesson under its 2 MB target (issue 12).
Without Node.js or purgecss the build stops before Sphinx runs, naming ``make setup``.
:mod:`filmkit.sitebuild.postprocess` then ties every figure
to its "*Figure: …*" sentence for screen readers and lets long code wrap on phones, and puts at
the top of each lesson page the link that downloads its notebook (the file :mod:`filmkit.site`
copies next to the page) and, for a site built for the course hub, the link to the student's copy
there.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TITLE = "The Perfection (2019): a filmkit course"
TEMPLATES = Path(__file__).parent / "templates"


class SiteError(RuntimeError):
    """The site cannot be built or written."""


def settings(
    hub_links: Mapping[str, tuple[str, str]] | None = None,
    downloads: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Sphinx configuration (what a ``conf.py`` would hold).

    ``hub_links``: the pages that link to the student's copy on the course hub, docname to
    (URL, the copy's path in the student's home folder); ``downloads``: the pages that link to
    their notebook for download, docname to the notebook's file name beside the page (the caller
    puts it there); see :mod:`.postprocess`."""
    from filmkit.sitebuild.postprocess import DOWNLOADS, HUB_LINKS

    return {
        "project": TITLE,
        "author": "filmkit",
        "copyright": "filmkit contributors",
        "language": "en",
        # The course is about exact quotation: text is shown as written, quotes and dashes included.
        "smartquotes": False,
        "extensions": [
            "myst_nb",
            "filmkit.sitebuild.plotly_offline",
            "filmkit.sitebuild.postprocess",
            "filmkit.sitebuild.trim",
        ],
        # The lessons are executed beforehand (filmkit.lessons), in fresh kernels.
        "nb_execution_mode": "off",
        # myst-nb adds require.js and the widget manager from CDNs when a notebook carries
        # ipywidgets state: the site has no widgets and loads nothing remote.
        "nb_ipywidgets_js": {},
        # A text/latex output would become math, which Sphinx renders with MathJax from a CDN;
        # every output that has one also has text/plain or text/html.
        "nb_mime_priority_overrides": [
            ("html", "text/latex", None),
            ("dirhtml", "text/latex", None),
        ],
        "exclude_patterns": ["**.ipynb_checkpoints"],
        "html_theme": "sphinx_book_theme",
        "html_title": TITLE,
        "html_static_path": [],
        # pydata-sphinx-theme (under sphinx-book-theme) otherwise logs a console error on a
        # first visit ("Got invalid theme mode"); light also suits plotly's default template.
        # filmkit_fontawesome_js: Font Awesome's JavaScript is needed only for custom icons
        # (FontAwesome.library.add); the site has none (templates/layout.html).
        "html_context": {
            "default_mode": "light",
            "filmkit_fontawesome_js": False,
            HUB_LINKS: dict(hub_links or {}),
            DOWNLOADS: dict(downloads or {}),
        },
        "templates_path": [str(TEMPLATES)],
        # Sphinx copies no sources (they are the *executed* lessons): the clean notebooks a
        # lesson page offers for download are copied by filmkit.site, byte for byte.
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_theme_options": {
            "home_page_in_toc": True,
            "show_toc_level": 2,
            # it would offer the executed notebook from _sources/: the page links the clean one
            "use_download_button": False,
            "use_fullscreen_button": False,
            "use_repository_button": False,
            "navigation_with_keys": False,
        },
    }


def build_html(
    source: Path,
    out: Path,
    work: Path,
    *,
    hub_links: Mapping[str, tuple[str, str]] | None = None,
    downloads: Mapping[str, str] | None = None,
) -> None:
    """Build ``source`` into ``out`` as HTML; ``work`` holds the doctrees. Warnings are errors.

    ``hub_links`` and ``downloads`` as for :func:`settings`."""
    from sphinx.application import Sphinx
    from sphinx.deprecation import RemovedInSphinx11Warning
    from sphinx.errors import SphinxError
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    from filmkit.sitebuild.plotly_offline import PlotlyMissingError, plotly_js
    from filmkit.sitebuild.trim import ToolMissingError, check_tools

    try:
        plotly_js()
        check_tools()
    except (PlotlyMissingError, ToolMissingError) as error:
        raise SiteError(str(error)) from None
    messages = io.StringIO()
    with warnings.catch_warnings():
        # sphinx-book-theme 1.4 reads Transform.app, deprecated in Sphinx 9 (pending, hidden by
        # default); the theme's to fix, harmless until Sphinx 11.
        warnings.filterwarnings(
            "ignore", category=RemovedInSphinx11Warning, module=r"sphinx_book_theme\."
        )
        try:
            # docutils keeps directives, roles and nodes in global registries: one namespace per
            # build, as sphinx-build does, so a later build in the same process starts clean.
            with patch_docutils(source), docutils_namespace():
                app = Sphinx(
                    srcdir=source,
                    confdir=None,
                    outdir=out,
                    doctreedir=work / "doctrees",
                    buildername="html",
                    confoverrides=settings(hub_links, downloads),
                    status=None,
                    warning=messages,
                    freshenv=True,
                    warningiserror=True,
                )
                app.build()
        except SphinxError as error:
            raise SiteError(f"the site build failed: {error}\n{messages.getvalue()}") from error
    problems = messages.getvalue().strip()
    if app.statuscode or problems:
        raise SiteError(f"the site build reported problems (warnings are errors):\n{problems}")
