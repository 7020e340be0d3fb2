"""Plotly figures on the site: the notebooks' plotly JSON rendered to HTML at build time.

Inside a Jupyter kernel plotly 7 writes a figure only as ``application/vnd.plotly.v1+json``
(JupyterLab draws it with the mime extension shipped in the plotly wheel). Plain myst-nb cannot
render that type: the figure would silently be missing from the page. :class:`PlotlyMimeRenderer`
is a myst-nb mime-render plugin, registered in ``pyproject.toml`` under the entry-point group
``myst_nb.mime_renderers``, that turns the JSON into a ``<div>`` plus an inline script calling
``Plotly.newPlot``, **without** plotly.js: the site ships ``_static/plotly.min.js`` once (see
:mod:`filmkit.sitebuild.plotly_offline`). The notebooks stay plain, and changing the HTML needs no
re-execution of the lessons.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from docutils import nodes

MIME_TYPE = "application/vnd.plotly.v1+json"
# Lower is preferred; myst-nb ranks text/html at 30 for the HTML builders.
PRIORITY = 25
# Figures are a fixed height: plotly's default (100% of a parent of automatic height) is fragile.
DEFAULT_HEIGHT = "500px"
# The plotly logo in the mode bar links to plotly's web site: an offline course site has no use
# for it. A figure's own config (``fig.show(config=...)``) still wins.
DEFAULT_CONFIG: Mapping[str, Any] = {"displaylogo": False}

_SCRIPT = re.compile(r"(<script[^>]*>)(.*?)(</script>)", re.S)
# plotly's inline script calls the global Plotly as soon as it is parsed. The site loads
# plotly.min.js with ``defer`` (and some themes put scripts at the end of <body>), so the call
# waits until window.Plotly exists: at once, at DOMContentLoaded or at load.
_WAIT_FOR_PLOTLY = (
    "(function(){function draw(){%s}"
    "if(window.Plotly){draw();return;}"
    "function retry(){if(window.Plotly)draw();"
    "else window.addEventListener('load',draw,{once:true});}"
    "if(document.readyState==='loading')"
    "document.addEventListener('DOMContentLoaded',retry,{once:true});"
    "else retry();})();"
)


class MimeDataLike(Protocol):
    """What the plugin reads of myst-nb's ``MimeData``."""

    mime_type: str
    content: str | bytes | dict[str, Any]
    cell_index: int | None
    output_index: int | None


def figure_html(
    figure: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    div_id: str | None = None,
) -> str:
    """``<div>`` + inline ``Plotly.newPlot`` script for a figure dict, without plotly.js."""
    pio = importlib.import_module("plotly.io")  # plotly ships no type information
    html: str = pio.to_html(
        dict(figure),
        config={**DEFAULT_CONFIG, **(config or {})},
        include_plotlyjs=False,  # the site ships _static/plotly.min.js once
        include_mathjax=False,
        full_html=False,
        default_height=DEFAULT_HEIGHT,
        default_width="100%",
        validate=False,
        div_id=div_id,
    )
    wrapped, count = _SCRIPT.subn(
        lambda m: m.group(1) + _WAIT_FOR_PLOTLY % m.group(2) + m.group(3), html, count=1
    )
    if count != 1:
        raise ValueError("plotly.io.to_html returned no <script> block to wrap")
    return wrapped


class PlotlyMimeRenderer:
    """myst-nb mime-render plugin (entry point ``myst_nb.mime_renderers``) for plotly JSON."""

    mime_priority_overrides: ClassVar[list[tuple[str, str, int | None]]] = [
        (builder, MIME_TYPE, PRIORITY) for builder in ("html", "dirhtml", "singlehtml")
    ]

    @staticmethod
    def handle_mime(
        renderer: object, data: MimeDataLike, inline: bool
    ) -> list[nodes.Element] | None:
        if data.mime_type != MIME_TYPE or inline:
            return None
        content = data.content
        if isinstance(content, bytes):
            content = content.decode("utf-8")
        figure: dict[str, Any] = dict(json.loads(content) if isinstance(content, str) else content)
        config = figure.pop("config", None)  # plotly's mime renderer puts the config in the JSON
        # A stable id (the content and the output's place in the notebook) keeps builds
        # reproducible, where plotly would draw a random one.
        digest = hashlib.sha1(
            json.dumps(figure, sort_keys=True).encode(), usedforsecurity=False
        ).hexdigest()[:12]
        div_id = f"plotly-{digest}-{data.cell_index or 0}-{data.output_index or 0}"
        html = figure_html(figure, config=config, div_id=div_id)
        return [nodes.raw(text=html, format="html", classes=["output", "text_html"])]
