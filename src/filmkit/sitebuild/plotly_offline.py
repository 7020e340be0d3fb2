"""Sphinx extension: ship plotly.js once for the whole site, from the installed plotly wheel.

``plotly/package_data/plotly.min.js`` is copied into a build-time static folder appended to
``html_static_path``, so Sphinx copies it to ``_static/plotly.min.js`` (one file for the site,
nothing from a CDN). Only pages whose body holds a plotly figure get its ``<script defer>`` tag;
the figures' inline scripts wait for it (:func:`filmkit.sitebuild.plotly_mime.figure_html`).
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

SCRIPT = "plotly.min.js"
FIGURE_CLASS = "plotly-graph-div"


def plotly_js() -> Path:
    """The plotly.js bundle inside the installed plotly package."""
    path = Path(str(resources.files("plotly") / "package_data" / SCRIPT))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.js is not where the plotly package keeps it: {path}")
    return path


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    static = Path(app.doctreedir).parent / "_plotly_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(plotly_js(), static / SCRIPT)
    app.config.html_static_path = [*app.config.html_static_path, str(static)]


def _html_page_context(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    if FIGURE_CLASS in str(context.get("body", "")):
        # Added during html-page-context, the script goes on this page only.
        app.add_js_file(SCRIPT, priority=400, loading_method="defer")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _html_page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
