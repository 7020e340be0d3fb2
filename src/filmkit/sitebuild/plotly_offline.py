"""Sphinx extension: ship plotly.js once for the whole site, in plotly's cartesian partial bundle.

The lessons and the class report draw only bar, scatter, heatmap and histogram traces, so they use
``plotly.js-cartesian-dist-min`` (1.5 MB, against 4.8 MB for the full bundle the plotly wheel
ships): the smallest official bundle holding all four (``-basic`` has no heatmap nor histogram).
It is an npm package, pinned in ``web/package.json`` to the plotly.js version the Python plotly
package bundles, and installed into ``web/node_modules`` by ``make setup`` (``npm ci``): never
fetched at build time. A build without it fails, naming ``make setup``.

The bundle is copied into a build-time static folder appended to ``html_static_path``, so Sphinx
copies it to ``_static/plotly.min.js`` (one file for the site, nothing from a CDN). Only pages
whose body holds a plotly figure get its ``<script defer>`` tag; the figures' inline scripts wait
for it (:func:`filmkit.sitebuild.plotly_mime.figure_html`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the class report imports this module too: no Sphinx at run time for it
    from docutils import nodes
    from sphinx.application import Sphinx

SCRIPT = "plotly.min.js"
FIGURE_CLASS = "plotly-graph-div"
BUNDLE = "plotly.js-cartesian-dist-min"
BUNDLE_FILE = "plotly-cartesian.min.js"
# The trace types the bundle registers (its README: "Contains trace modules ...").
BUNDLE_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)
# The npm project beside src/: src/filmkit/sitebuild/plotly_offline.py -> <checkout>/web
WEB = Path(__file__).resolve().parents[3] / "web"
WEB_ENV = "FILMKIT_WEB"  # another folder holding node_modules/ (an installed kit)


class PlotlyMissingError(FileNotFoundError):
    """The plotly.js bundle is not installed."""


def web_dir() -> Path:
    """The npm project holding ``node_modules/`` (``$FILMKIT_WEB``, else ``<checkout>/web``)."""
    override = os.environ.get(WEB_ENV)
    return Path(override).resolve() if override else WEB


def plotly_js() -> Path:
    """The plotly.js partial bundle installed by ``make setup`` (npm ci in ``web/``)."""
    package = web_dir() / "node_modules" / BUNDLE
    path = package / BUNDLE_FILE
    if not path.is_file():
        raise PlotlyMissingError(
            f"plotly.js ({BUNDLE}) is not installed: {path} is missing. Run `make setup` "
            f"(it runs `npm ci` in {web_dir()}; Node.js and npm are needed)"
        )
    return path


def bundle_version() -> str:
    """The installed bundle's version (its package.json)."""
    manifest = plotly_js().parent / "package.json"
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def wheel_plotly_js_version() -> str:
    """The plotly.js version the Python plotly package bundles (the figures are made for it)."""
    from plotly.offline import get_plotlyjs_version  # plotly ships no type information

    return str(get_plotlyjs_version())


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
