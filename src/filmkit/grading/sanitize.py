"""Untrusted notebook content made safe to render: what is kept, what is cleaned, what is dropped.

The problem. An autograded notebook is read in browsers: the student's feedback page (nbgrader
``generate_feedback``: nbconvert's ``HTMLExporter`` with nbgrader's ``feedback`` template) and
the instructor's formgrader (the same exporter with the ``formgrade`` template). nbconvert copies
``text/html`` outputs into the page as they are, puts ``application/javascript`` outputs in a
``<script>``, and renders markdown cells with raw HTML passed through. So a submission that
displays ``<script>…</script>``, ``<img src=x onerror=…>``, a ``<style>`` that hides the failing
tests or a ``position: fixed`` "✓ all tests passed" banner, or writes such HTML into its essay
(a markdown cell), runs code in, or rewrites, the page the marker reads.

Two layers, each enough on its own for the pages nbconvert renders:

1. **What is written into ``autograded/``.** :func:`untrusted_outputs` is applied by the grader
   to every output that came out of the sandbox: produced by a process that ran student code,
   which includes the outputs of the instructor's read-only and test cells run there (the
   student's code ran first in that process and could forge them). Outputs made by the trusted
   judge are not passed through it. It returns new, valid nbformat v4 outputs; the input is not
   changed, so ``error`` outputs (what nbgrader scores) are kept as they are. Its place is
   ``filmkit.grading.fastgrade.PrecomputedExecute.preprocess``, where a run's outputs are
   written into the notebook that nbgrader then scores and saves.

2. **How notebooks are rendered.** ``assignments/nbgrader_config.py`` sets
   ``HTMLExporter.sanitize_html = True`` and replaces two of the exporter's Jinja filters with
   :func:`clean_html` and :func:`markdown2html` below. That covers outputs already in
   ``autograded/`` (graded before layer 1 existed), outputs of any origin, and students' markdown
   cells, whose stored source is never changed (the quotation checks read the essays exactly).
   Both are needed because of what the stock pieces do (nbconvert 7.17, nbgrader 0.9.6):

   - ``sanitize_html`` makes nbconvert's templates pipe ``text/html`` and ``text/markdown``
     outputs through the ``clean_html`` filter and leave out ``application/javascript`` and
     widget outputs. nbconvert's own ``clean_html`` (bleach with its minimal tag list) escapes a
     DataFrame's ``<thead>``, ``<th>``, ``<tbody>`` and ``<style>`` into visible text: every table
     would become unreadable. :func:`clean_html` keeps tables.
   - nbgrader's ``feedback`` and ``formgrade`` templates override the ``markdowncell`` block
     with ``cell.source | markdown2html`` and no ``clean_html``, whatever ``sanitize_html``
     says, and nbconvert's ``markdown2html`` renders with ``escape=False`` (raw HTML passes).
     :func:`markdown2html` renders the same markdown and then sanitises the HTML.

   Formgrader builds its exporter as ``HTMLExporter(config=...)`` from the configuration it
   loads from the course folder's ``nbgrader_config.py``, so it gets the same settings as
   feedback. MathJax (loaded by both templates from nbconvert's default URL) already has the
   ``Safe`` extension, which keeps ``\\href{javascript:…}``, ``\\style`` and the like out of
   typeset math in essays.

   The rendering layer cannot tell trusted outputs from untrusted ones, so it applies to all:
   in feedback and formgrader no output's JavaScript runs and every ``text/html`` output is
   held to the policy below, the judge's and the instructor's included; markdown headings lose
   their ``¶`` anchors. ``autograded/`` itself keeps trusted outputs as they were made.

Output policy of :func:`untrusted_outputs` (per output type, then per mime type of
``display_data`` and ``execute_result``):

=============================================  =================================================
what                                           done
=============================================  =================================================
``stream``                                     kept: ``name`` (stdout or stderr) and ``text`` as
                                               a string (rendered as escaped text everywhere)
``error``                                      kept: ``ename``, ``evalue``, ``traceback`` as
                                               strings (nbgrader scores these)
other output types                             dropped
``text/plain``                                 kept (a string)
``image/png``, ``image/jpeg``, ``image/gif``   kept if the value is strict base64 of that format
                                               (magic bytes checked), re-encoded without line
                                               breaks
``text/html``                                  sanitised by :func:`clean_html` (below); dropped
                                               if nothing is left
``text/markdown``                              rendered and sanitised
                                               (:func:`untrusted_markdown`), stored as
                                               ``text/html`` unless the bundle has one; never
                                               kept as markdown (it would be rendered again)
``image/svg+xml``                              rebuilt by :func:`clean_svg` (allow-listed SVG
                                               elements; no script, event handler, external
                                               reference, ``<style>`` or foreign content);
                                               dropped if it is not a well-formed SVG document
``text/latex``                                 kept unless it uses a TeX macro that makes links,
                                               classes, ids, styles or HTML (``\\href``,
                                               ``\\url``, ``\\style``, ``\\class``, ``\\cssId``,
                                               ``\\data``, ``\\unicode``, ``\\require``,
                                               ``\\html…``): then dropped (not every MathJax
                                               set-up loads ``Safe``)
``application/json``                           kept if it is a JSON object or array (inert data;
                                               nbconvert does not render it, JupyterLab shows a
                                               tree)
``application/vnd.plotly.v1+json``             dropped (see Plotly below)
``application/javascript``                     dropped: executable
``text/javascript``                            dropped: executable
``application/x-javascript``                   dropped: executable
``application/ecmascript``                     dropped: executable
``application/vnd.jupyter.widget-view+json``   dropped: drives JavaScript widget managers
``application/vnd.jupyter.widget-state+json``  dropped: drives JavaScript widget managers
``text/vnd.mermaid``                           dropped: rendered by mermaid.js
any other mime type                            dropped
output ``metadata``                            only ``width``, ``height`` (numbers),
                                               ``unconfined`` (bool) and ``alt`` (string) of
                                               kept raster images: no ``text/html`` ``isolated``
                                               (an iframe of the raw HTML), no ``filenames`` (an
                                               ``<img src>`` path)
``transient``, other keys                      dropped
=============================================  =================================================

When every mime type of a bundle is dropped, ``text/plain`` says which were left out
(:data:`NOT_SHOWN`), so the marker knows something was there.

Sizes. bleach parses with html5lib, in pure Python, and some markup is slow to parse (a tag
with thousands of repeated attributes takes time quadratic in its length), while the grader
and formgrader sanitise on one thread. So ``text/html`` and ``text/markdown`` values are
sanitised up to :data:`MAX_MARKUP_CHARS` each, :data:`MAX_CELL_MARKUP_CHARS` per cell and, if
the caller passes a :class:`MarkupBudget`, :data:`MAX_NOTEBOOK_MARKUP_CHARS` per notebook; SVG
up to :data:`MAX_SVG_CHARS`. Past that they are dropped (a DataFrame keeps its ``text/plain``
table), and the renderers' filters show a note instead (or, for markdown, the source as text).
A 60-row DataFrame is about 10 KB and takes about 10 ms; 64 KB built to be slow, about 0.7 s.

Plotly. The grader's processes set plotly's renderer to ``plotly_mimetype``, so a figure is an
``application/vnd.plotly.v1+json`` bundle and nothing else. nbconvert's HTML exporter has no
template block for that mime type (it warns "is not able to be represented" and renders
nothing), so no plotly figure, the student's or the instructor's, ever appears in feedback or
formgrader, and dropping it costs the marker nothing there. The one place it would render is
JupyterLab opening ``autograded/`` directly: the installed ``jupyterlab-plotly`` renderer is
registered as safe, so it draws figures even in untrusted notebooks, with plotly.js. The figure
JSON is an open schema of strings plotly.js turns into SVG text with its own HTML subset (links
with ``href``, ``<span style>``), plus ``layout.images`` sources and ``config`` (such as
``showLink`` and ``plotlyServerURL``, which send the figure to a URL of the submission's choice on
a click) that fetch or post to the network. Cleaning all of that means tracking plotly.js's
schema; the grade never depends on the figure. So student-process plotly output is dropped, and
figures an instructor must see are the judge's (trusted, never passed through here).

HTML policy (:func:`clean_html`, bleach, as nbconvert's ``SanitizeHTML`` and ``clean_html`` use):
text, headings, paragraphs, lists, emphasis, code, quotations, tables and their parts, links to
``http``, ``https``, ``mailto`` or ``#fragment`` targets, ``<img>`` only from ``data:image/png``,
``jpeg``, ``gif`` or ``webp`` URLs (a path or a remote address would be fetched as the page
opens, from formgrader's server with the marker's cookies, or from anywhere). No element that
runs, embeds or submits (``script``, ``iframe``, ``object``, ``embed``, ``form``, ``input``,
``button``, ``svg``, ``math``, ``link``, ``meta``, ``base``, ``style``…), no event-handler
attribute, no ``id`` or
``name`` (they could take over the ids formgrader's own score inputs use), no ``class`` but
``dataframe`` and the syntax highlighter's token classes (the page's bootstrap CSS has classes
such as ``modal-backdrop`` and ``navbar-fixed-top`` that position an element over the page), and
in ``style`` attributes only alignment, weight, slant, decoration, white space and borders,
without functions such as ``url()`` (so nothing can be positioned, hidden, shrunk, coloured to
vanish or overlaid). In outputs a ``<script>`` or ``<style>`` element is removed with its content
and other disallowed tags are removed leaving their text; in markdown written by a student
(:func:`untrusted_markdown`) a disallowed tag is shown as the text the student typed.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any, Final

import bleach  # type: ignore[import-untyped]  # no type information; nbconvert depends on it
import tinycss2  # type: ignore[import-untyped]  # bleach[css]'s CSS parser
from bleach.css_sanitizer import CSSSanitizer  # type: ignore[import-untyped]
from jinja2 import pass_context
from jinja2.runtime import Context
from pygments.token import STANDARD_TYPES  # type: ignore[import-untyped]

Output = dict[str, Any]

NOT_SHOWN: Final = "[not shown: {mimes} output from the student's code]"
# bleach parses with html5lib, in pure Python: ~10 ms for a 60-row DataFrame (10 KB), but some
# markup costs far more (a tag with thousands of repeated attributes is quadratic: 64 KB of it
# take about 1 s, 800 KB six minutes). Grading and formgrader do this on one thread, so markup
# is only sanitised up to these sizes (in characters); larger values are not shown.
MAX_MARKUP_CHARS: Final = 64 * 1024  # one text/html or text/markdown value
MAX_SVG_CHARS: Final = 1024 * 1024  # one image/svg+xml value (parsed by expat, in C)
MAX_CELL_MARKUP_CHARS: Final = 256 * 1024  # all HTML and markdown of one untrusted_outputs call
MAX_NOTEBOOK_MARKUP_CHARS: Final = 1024 * 1024  # default of a notebook's MarkupBudget
TOO_LARGE: Final = "[not shown: {what} of {size:,} characters (the limit is {limit:,})]"

# --- HTML -----------------------------------------------------------------------------------

ALLOWED_TAGS: Final = frozenset(
    {
        *("a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code"),
        *("col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption"),
        *("figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd"),
        *("li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike"),
        *("strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr"),
        *("tt", "u", "ul", "var", "wbr"),
    }
)
_TAG_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    "*": frozenset({"class", "style", "title", "lang", "dir"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "table": frozenset({"border"}),
    "th": frozenset({"colspan", "rowspan", "align", "valign", "scope", "halign"}),
    "td": frozenset({"colspan", "rowspan", "align", "valign"}),
    "tr": frozenset({"align", "valign"}),
    "col": frozenset({"span", "align"}),
    "colgroup": frozenset({"span", "align"}),
    "ol": frozenset({"start", "type", "reversed"}),
    "li": frozenset({"value"}),
}
ALLOWED_CLASSES: Final = frozenset(
    {"dataframe", "highlight", *(c for c in STANDARD_TYPES.values() if c)}
)
_HIGHLIGHT_LANGUAGE = re.compile(r"hl-[A-Za-z0-9_+-]{1,40}")
ALLOWED_CSS_PROPERTIES: Final = frozenset(
    {
        *("text-align", "vertical-align", "font-weight", "font-style", "text-decoration"),
        *("white-space", "border", "border-top", "border-bottom", "border-left"),
        *("border-right", "border-collapse", "border-color", "border-style", "border-width"),
    }
)
_IMAGE_DATA_URL = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.I)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):")
_DIMENSION = re.compile(r"\d{1,5}%?")
# removed with their content from outputs: their text is code or CSS, not something to read
_CODE_ELEMENTS = re.compile(
    r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)


def _decode(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class _NoFunctionsCSSSanitizer(CSSSanitizer):  # type: ignore[misc]
    """bleach's CSS sanitizer (allowed properties only) that also drops any declaration whose
    value holds a function or a URL token (``url()``, ``expression()``, ``var()``, ``image()``…)
    or a backslash escape; ``allow_fragment_urls`` keeps ``url(#id)`` (SVG paint servers)."""

    def __init__(self, properties: Iterable[str], *, allow_fragment_urls: bool = False) -> None:
        super().__init__(allowed_css_properties=frozenset(properties), allowed_svg_properties=())
        self.allow_fragment_urls = allow_fragment_urls

    def _safe_value(self, tokens: Iterable[Any]) -> bool:
        for token in tokens:
            kind = getattr(token, "type", "")
            if kind == "url":
                if not (self.allow_fragment_urls and str(token.value).startswith("#")):
                    return False
            elif kind == "function":
                args = [a for a in token.arguments if getattr(a, "type", "") != "whitespace"]
                fragment = (
                    token.lower_name == "url"
                    and len(args) == 1
                    and getattr(args[0], "type", "") == "string"
                    and str(args[0].value).startswith("#")
                )
                if not (self.allow_fragment_urls and fragment):
                    return False
            elif kind in ("() block", "[] block", "{} block", "error"):
                return False
        return True

    def sanitize_css(self, style: str) -> str:
        if "\\" in style:
            return ""
        kept = []
        for token in tinycss2.parse_declaration_list(style, skip_comments=True):
            if token.type != "declaration" or token.lower_name not in self.allowed_css_properties:
                continue
            if self._safe_value(token.value):
                kept.append(f"{token.lower_name}: {tinycss2.serialize(token.value).strip()}")
        return "; ".join(kept)


def _allowed_url(tag: str, name: str, value: str) -> bool:
    """Links: http, https, mailto or a #fragment; images: data: URLs of raster images only.

    No path: a page served by formgrader would fetch ``<img src="/…">`` from the notebook
    server with the marker's cookies."""
    target = value.strip()
    if tag == "img":
        return _IMAGE_DATA_URL.fullmatch(target) is not None
    scheme = _SCHEME.match(target)
    if scheme is None:
        return target.startswith("#")
    return scheme.group(1).lower() in ("http", "https", "mailto")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name not in _TAG_ATTRIBUTES["*"] and name not in _TAG_ATTRIBUTES.get(tag, ()):
        return False
    if name == "class":
        return all(c in ALLOWED_CLASSES or _HIGHLIGHT_LANGUAGE.fullmatch(c) for c in value.split())
    if name in ("href", "src"):
        return _allowed_url(tag, name, value)
    if name in ("width", "height"):
        return _DIMENSION.fullmatch(value.strip()) is not None
    return True


_cleaners = threading.local()  # bleach's Cleaner is not thread-safe: one per thread


def _cleaner(*, escape: bool) -> Any:
    key = "escaping" if escape else "stripping"
    cleaner = getattr(_cleaners, key, None)
    if cleaner is None:
        cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=_allowed_attribute,
            protocols=("http", "https", "mailto", "data"),
            strip=not escape,
            strip_comments=True,
            css_sanitizer=_NoFunctionsCSSSanitizer(ALLOWED_CSS_PROPERTIES),
        )
        setattr(_cleaners, key, cleaner)
    return cleaner


def _too_large(what: str, size: int) -> str:
    note = TOO_LARGE.format(what=what, size=size, limit=MAX_MARKUP_CHARS)
    return f"<pre>{html.escape(note)}</pre>"


def clean_html(element: object) -> str:
    """HTML from an output made safe to show in a page (the policy in the module docstring).

    ``<script>`` and ``<style>`` elements go with their content; other disallowed tags go and
    leave their text. Over :data:`MAX_MARKUP_CHARS`, a note saying so instead. Also the
    ``clean_html`` Jinja filter of the course's ``HTMLExporter``
    (``assignments/nbgrader_config.py``), which passes a string, markup or bytes.
    """
    text = _decode(element)
    if len(text) > MAX_MARKUP_CHARS:
        return _too_large("HTML", len(text))
    return str(_cleaner(escape=False).clean(_CODE_ELEMENTS.sub("", text)))


def clean_written_html(element: object) -> str:
    """HTML rendered from what a person wrote: as :func:`clean_html`, but a disallowed tag (a
    ``<script>``, an ``<iframe>``) is shown as the text that was typed instead of removed."""
    text = _decode(element)
    if len(text) > MAX_MARKUP_CHARS:
        return _too_large("HTML", len(text))
    return str(_cleaner(escape=True).clean(text))


# --- markdown -------------------------------------------------------------------------------


def untrusted_markdown(
    source: str, *, attachments: Mapping[str, Any] | None = None, path: str = ""
) -> str:
    """The HTML to show for markdown a student wrote (a markdown cell, a ``text/markdown``
    output): nbconvert's own rendering (mistune with math, as ``HTMLExporter.markdown2html``),
    then :func:`clean_written_html`. Returns HTML; the markdown itself is never changed.

    Differences from nbconvert's rendering: raw HTML is sanitised (a disallowed tag shows as
    text), ``javascript:``-style link targets become ``#harmful-link``, and headings get no
    ``id`` and no ``¶`` anchor link (an id could collide with the ids of formgrader's inputs).
    ``attachments`` (a cell's) and ``path`` (the notebook's folder) are as nbconvert's.
    """
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    if len(source) > MAX_MARKUP_CHARS:  # every word still shown, as typed
        note = TOO_LARGE.format(what="markdown", size=len(source), limit=MAX_MARKUP_CHARS)
        return f"<p>{html.escape(note)}</p><pre>{html.escape(source)}</pre>"
    renderer = IPythonRenderer(
        escape=False,
        allow_harmful_protocols=False,
        exclude_anchor_links=True,
        attachments=dict(attachments) if attachments else None,
        path=path,
    )
    return clean_written_html(MarkdownWithMath(renderer=renderer).render(source))


@pass_context
def markdown2html(context: Context, source: str) -> str:
    """The ``markdown2html`` Jinja filter of the course's ``HTMLExporter``: nbconvert's filter
    (which takes the cell's attachments and the notebook's path from the template context),
    made safe by :func:`untrusted_markdown`. nbgrader's templates use it for every markdown cell
    and for the marker's comments; trusted markdown is sanitised too, which only costs raw HTML
    outside the allow-list (the course's notebooks have none) and heading anchors."""
    cell = context.get("cell") or {}
    resources = context.get("resources") or {}
    attachments = cell.get("attachments") if hasattr(cell, "get") else None
    metadata = resources.get("metadata", {}) if hasattr(resources, "get") else {}
    path = metadata.get("path", "") if hasattr(metadata, "get") else ""
    return untrusted_markdown(
        str(source),
        attachments=attachments if isinstance(attachments, Mapping) else None,
        path=str(path or ""),
    )


# --- SVG ------------------------------------------------------------------------------------

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
ALLOWED_SVG_ELEMENTS: Final = frozenset(
    {
        *("svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line"),
        *("polyline", "polygon", "text", "tspan", "title", "desc", "clipPath", "mask"),
        *("pattern", "marker", "linearGradient", "radialGradient", "stop"),
    }
)
_SVG_CSS_PROPERTIES: Final = frozenset(
    {
        *("fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap"),
        *("stroke-linejoin", "stroke-opacity", "stroke-dasharray", "stroke-dashoffset"),
        *("stroke-miterlimit", "opacity", "font-family", "font-size", "font-weight"),
        *("font-style", "text-anchor", "dominant-baseline", "alignment-baseline"),
        *("stop-color", "stop-opacity", "clip-rule", "color", "paint-order"),
    }
)
_URL_REFERENCE = re.compile(r"url\s*\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_DOCUMENT_TYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_MAX_DEPTH: Final = 200


def _svg_attribute(
    key: str, value: str, svg_css: _NoFunctionsCSSSanitizer
) -> tuple[str, str] | None:
    """The attribute as it is written out (name, value), or None to drop it."""
    namespace, _, local = key[1:].partition("}") if key.startswith("{") else ("", "", key)
    if namespace == XLINK_NS and local == "href":
        name = "xlink:href"
    elif namespace == XML_NS and local in ("space", "lang"):
        name = f"xml:{local}"
    elif namespace:
        return None
    else:
        name = local
    lowered = local.lower()
    if lowered.startswith("on") or lowered in ("class", "base"):
        return None
    if lowered == "href":
        return (name, value) if value.strip().startswith("#") else None
    if lowered == "style":
        kept = svg_css.sanitize_css(value)
        return (name, kept) if kept else None
    if "javascript:" in re.sub(r"\s", "", value).lower() or "\\" in value:
        return None
    if "url" in value.lower():
        refs = _URL_REFERENCE.findall(value)
        leftover = _URL_REFERENCE.sub("", value)
        if "url" in leftover.lower() or not all(ref.startswith("#") for _, ref in refs):
            return None
    return name, value


def _svg_markup(element: ET.Element, depth: int, svg_css: _NoFunctionsCSSSanitizer) -> str:
    if depth > _MAX_DEPTH or not isinstance(element.tag, str):
        return ""
    namespace, _, local = element.tag[1:].partition("}")
    if namespace != SVG_NS or local not in ALLOWED_SVG_ELEMENTS:
        return ""
    attributes: list[str] = []
    if depth == 0:
        attributes.append(f'xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"')
    for key, value in element.attrib.items():
        kept = _svg_attribute(key, value, svg_css)
        if kept is not None:
            attributes.append(f'{kept[0]}="{html.escape(kept[1], quote=True)}"')
    inner = html.escape(element.text or "", quote=False)
    for child in element:
        inner += _svg_markup(child, depth + 1, svg_css)
        inner += html.escape(child.tail or "", quote=False)
    opening = " ".join([local, *attributes])
    return f"<{opening}>{inner}</{local}>"


def clean_svg(svg: str) -> str | None:
    """An SVG document rebuilt from its allow-listed parts, or None if it is not one.

    Parsed as XML (a document type or entity declaration is refused), then written out again
    with only :data:`ALLOWED_SVG_ELEMENTS` in the SVG namespace (so no ``script``,
    ``foreignObject``, ``a``, ``image``, ``style``, animation or filter elements; a dropped
    element goes with its content), no event-handler, ``class`` or foreign attributes, ``href``
    only to ``#fragments``, ``url()`` only to ``#fragments``, and ``style`` reduced to paint and
    font properties. Comments, processing instructions and CDATA do not survive the rewrite."""
    if len(svg) > MAX_SVG_CHARS or _DOCUMENT_TYPE.search(svg):
        return None
    try:
        root = ET.fromstring(svg)
    except (ET.ParseError, ValueError):
        return None
    if root.tag != f"{{{SVG_NS}}}svg":
        return None
    css = _NoFunctionsCSSSanitizer(_SVG_CSS_PROPERTIES, allow_fragment_urls=True)
    return _svg_markup(root, 0, css)


# --- outputs --------------------------------------------------------------------------------

_MAGIC: Final = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
_ACTIVE_TEX = re.compile(
    r"\\(href|url|style|class|cssId|data|unicode|require|html[A-Za-z]*|mmlToken)(?![A-Za-z])"
)


def _text(value: object) -> str | None:
    """A nbformat multiline string (a string or a list of strings) as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return None


def _image(mime: str, value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        raw = base64.b64decode(re.sub(r"\s", "", text), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_MAGIC[mime]):
        return None
    return base64.b64encode(raw).decode("ascii")


def _image_metadata(value: object) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    if not isinstance(value, Mapping):
        return kept
    for key in ("width", "height"):
        number = value.get(key)
        if isinstance(number, int | float) and not isinstance(number, bool) and 0 < number < 1e5:
            kept[key] = number
    if isinstance(value.get("unconfined"), bool):
        kept["unconfined"] = value["unconfined"]
    if isinstance(value.get("alt"), str):
        kept["alt"] = value["alt"]
    return kept


class MarkupBudget:
    """How many characters of HTML and markdown may still be sanitised: pass one to every
    :func:`untrusted_outputs` call of a notebook to bound the whole notebook's cost."""

    def __init__(self, chars: int = MAX_NOTEBOOK_MARKUP_CHARS) -> None:
        self.left = chars

    def take(self, size: int) -> bool:
        if size > self.left:
            return False
        self.left -= size
        return True


class _Budget:
    """One call's allowance (:data:`MAX_CELL_MARKUP_CHARS`), within the notebook's if given."""

    def __init__(self, notebook: MarkupBudget | None) -> None:
        self.cell = MarkupBudget(MAX_CELL_MARKUP_CHARS)
        self.notebook = notebook

    def take(self, text: str) -> bool:
        size = len(text)
        if size > MAX_MARKUP_CHARS or size > self.cell.left:
            return False
        if self.notebook is not None and not self.notebook.take(size):
            return False
        return self.cell.take(size)


def _bundle(data: Mapping[str, Any], budget: _Budget) -> tuple[dict[str, Any], list[str]]:
    """(kept mime bundle, mime types dropped)."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for mime, value in data.items():
        result: Any = None
        if mime == "text/plain":
            result = _text(value)
        elif mime in _MAGIC:
            result = _image(mime, value)
        elif mime == "text/html":
            text = _text(value)
            result = clean_html(text) if text is not None and budget.take(text) else None
        elif mime == "text/markdown":
            text = _text(value)
            if text is not None and "text/html" not in data and budget.take(text):
                kept["text/html"] = untrusted_markdown(text)
            elif "text/html" not in data:
                dropped.append(mime)
            continue  # never kept as markdown: it would be rendered again, unsanitised
        elif mime == "image/svg+xml":
            text = _text(value)
            result = clean_svg(text) if text is not None else None
        elif mime == "text/latex":
            text = _text(value)
            result = text if text is not None and not _ACTIVE_TEX.search(text) else None
        elif mime == "application/json":
            result = value if isinstance(value, dict | list) else None
        if result is None or (
            isinstance(result, str) and mime != "text/plain" and not result.strip()
        ):
            dropped.append(str(mime))
        else:
            kept[str(mime)] = result
    return kept, dropped


def _output(output: Mapping[str, Any], budget: _Budget) -> Output | None:
    kind = output.get("output_type")
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        text = _text(output.get("text"))
        return {"output_type": "stream", "name": name, "text": text or ""}
    if kind == "error":
        traceback = output.get("traceback")
        lines = traceback if isinstance(traceback, list) else []
        return {
            "output_type": "error",
            "ename": str(output.get("ename", "Error")),
            "evalue": str(output.get("evalue", "")),
            "traceback": [str(line) for line in lines],
        }
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data")
    kept, dropped = _bundle(data if isinstance(data, Mapping) else {}, budget)
    if not kept:
        shown = ", ".join(sorted(set(dropped))) or "empty"
        kept["text/plain"] = NOT_SHOWN.format(mimes=shown)
    metadata = output.get("metadata")
    meta: dict[str, Any] = {}
    if isinstance(metadata, Mapping):
        for mime in kept:
            if mime.startswith("image/") and mime != "image/svg+xml":
                image = _image_metadata(metadata.get(mime))
                if image:
                    meta[mime] = image
    result: Output = {"output_type": kind, "data": kept, "metadata": meta}
    if kind == "execute_result":
        count = output.get("execution_count")
        valid = isinstance(count, int) and not isinstance(count, bool) and count > 0
        result["execution_count"] = count if valid else None
    return result


def untrusted_outputs(
    outputs: list[dict[str, Any]], *, budget: MarkupBudget | None = None
) -> list[dict[str, Any]]:
    """The outputs of one cell that ran in the sandbox, made safe to render (the table in the
    module docstring). New plain dicts, valid nbformat v4 outputs, in the same order; an output
    of an unknown type is left out. ``outputs`` is not changed.

    A ``text/html`` or ``text/markdown`` value over :data:`MAX_MARKUP_CHARS`, past
    :data:`MAX_CELL_MARKUP_CHARS` of them in the call or past what is left of ``budget`` (one
    :class:`MarkupBudget` shared by the calls for one notebook), and an SVG over
    :data:`MAX_SVG_CHARS`, are dropped like active content (a DataFrame keeps its
    ``text/plain`` table)."""
    cleaned: list[Output] = []
    allowance = _Budget(budget)
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, Mapping):
            kept = _output(output, allowance)
            if kept is not None:
                cleaned.append(kept)
    return cleaned


__all__ = [
    "MAX_CELL_MARKUP_CHARS",
    "MAX_MARKUP_CHARS",
    "MAX_NOTEBOOK_MARKUP_CHARS",
    "MAX_SVG_CHARS",
    "NOT_SHOWN",
    "TOO_LARGE",
    "MarkupBudget",
    "clean_html",
    "clean_svg",
    "clean_written_html",
    "markdown2html",
    "untrusted_markdown",
    "untrusted_outputs",
]
