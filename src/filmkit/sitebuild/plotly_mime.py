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
import html
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
_DIV = re.compile(r'(<div id="[^"]*" class="plotly-graph-div"[^>]*?)\s*>')
_DIV_ID = re.compile(r'<div id="([^"]*)" class="plotly-graph-div"')
_TAG = re.compile(r"<[^>]+>")
# plotly's inline script calls the global Plotly as soon as it is parsed. The site loads
# plotly.min.js with ``defer`` (and some themes put scripts at the end of <body>), so the call
# waits until window.Plotly exists: at once, at DOMContentLoaded or at load.
_WAIT_FOR_PLOTLY = (
    "(function(){function draw(){%s;fit();}"
    "%s"
    "if(window.Plotly){draw();return;}"
    "function retry(){if(window.Plotly)draw();"
    "else window.addEventListener('load',draw,{once:true});}"
    "if(document.readyState==='loading')"
    "document.addEventListener('DOMContentLoaded',retry,{once:true});"
    "else retry();})();"
)
# On a narrow screen (a phone: the figure under NARROW_PX wide) the legend goes below the plot
# (the figure grows to hold it) instead of taking half the width beside it, and a long title
# wraps instead of being cut off. Desktop layouts are untouched; the figure's data never changes.
# Once laid out, the figure's ``data-layout`` says which layout it has ("narrow" or "wide").
NARROW_PX = 600
_FIT_NARROW = (
    "function fit(){var d=document.getElementById(%s);"
    "if(!d||!window.Plotly)return;"
    "if(d.clientWidth>=" + str(NARROW_PX) + "){d.dataset.layout='wide';return;}"
    "var l=d.layout||{},u={},t=l.title&&(typeof l.title==='string'?l.title:l.title.text);"
    "if(l.showlegend!==false&&(d.data||[]).length>1){u['legend.orientation']='h';"
    "u['legend.xref']='container';u['legend.x']=0;u['legend.xanchor']='left';"
    "u['legend.yref']='container';u['legend.y']=0;u['legend.yanchor']='bottom';"
    "u['legend.title.side']='top';"
    # the figure grows by the legend's rows, so the plot keeps its height
    "var n=(d.data||[]).filter(function(x){return x.showlegend!==false;}).length,"
    "h=d.clientHeight+22*n+40,p=d.parentElement;"
    "if(p&&p.style.height)p.style.height=h+'px';u.height=h;}"
    "if(t&&t.indexOf('<br>')<0){var c=Math.max(20,Math.floor(d.clientWidth/10)),s=[''];"
    "t.split(' ').forEach(function(w){var k=s.length-1;"
    "if(s[k]&&(s[k]+' '+w).length>c)s.push(w);else s[k]=s[k]?s[k]+' '+w:w;});"
    "u['title.text']=s.join('<br>');}"
    "Plotly.relayout(d,u).then(function(){d.dataset.layout='narrow';});}"
)


class MimeDataLike(Protocol):
    """What the plugin reads of myst-nb's ``MimeData``."""

    mime_type: str
    content: str | bytes | dict[str, Any]
    cell_index: int | None
    output_index: int | None


def accessible_name(figure: Mapping[str, Any]) -> str:
    """The figure's title as plain text (its accessible name), else a generic name."""
    layout = figure.get("layout") or {}
    title = layout.get("title") if isinstance(layout, Mapping) else None
    text = title.get("text") if isinstance(title, Mapping) else title
    plain = " ".join(html.unescape(_TAG.sub(" ", str(text or ""))).split())
    return plain or "Interactive chart"


def compact_template(figure: Mapping[str, Any]) -> dict[str, Any]:
    """``figure`` with its layout template's trace defaults only for the trace types it draws.

    A figure made with a named template (``plotly_white``) carries the whole template: trace
    defaults for some 40 types (4.3 kB of 7 kB), yet ``template.data.<type>`` applies only to
    traces of that type, so dropping the others draws the same figure. The template's layout
    stays whole."""
    layout = figure.get("layout")
    if not isinstance(layout, Mapping):
        return dict(figure)
    template = layout.get("template")
    defaults = template.get("data") if isinstance(template, Mapping) else None
    if not isinstance(template, Mapping) or not isinstance(defaults, Mapping):
        return dict(figure)
    drawn = {str(trace.get("type") or "scatter") for trace in figure.get("data") or []}
    kept = {kind: value for kind, value in defaults.items() if kind in drawn}
    return {**figure, "layout": {**layout, "template": {**template, "data": kept}}}


def figure_html(
    figure: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    div_id: str | None = None,
) -> str:
    """``<div>`` + inline ``Plotly.newPlot`` script for a figure dict, without plotly.js.

    The ``<div>`` is ``role="img"``, named by the figure's title (``aria-label``): screen readers
    announce the figure instead of plotly's SVG pieces. The figure's template keeps only what it
    draws with (:func:`compact_template`)."""
    pio = importlib.import_module("plotly.io")  # plotly ships no type information
    html_text: str = pio.to_html(
        compact_template(figure),
        config={**DEFAULT_CONFIG, **(config or {})},
        include_plotlyjs=False,  # the site ships _static/plotly.min.js once
        include_mathjax=False,
        full_html=False,
        default_height=DEFAULT_HEIGHT,
        default_width="100%",
        validate=False,
        div_id=div_id,
    )
    label = html.escape(accessible_name(figure), quote=True)
    html_out, tagged = _DIV.subn(
        lambda m: f'{m.group(1)} role="img" aria-label="{label}">', html_text, count=1
    )
    if tagged != 1:
        raise ValueError("plotly.io.to_html returned no plotly-graph-div to label")
    drawn_id = _DIV_ID.search(html_out)
    fit = _FIT_NARROW % json.dumps(drawn_id.group(1) if drawn_id else "")
    wrapped, count = _SCRIPT.subn(
        lambda m: m.group(1) + _WAIT_FOR_PLOTLY % (m.group(2), fit) + m.group(3),
        html_out,
        count=1,
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
