"""Sphinx extension: the theme's stylesheets and icon fonts cut down to what the pages use.

pydata-sphinx-theme's stylesheet holds all of Bootstrap and a rule for each of Font Awesome's
~2,000 icons (376 kB, already minified), myst-nb's holds rules for widgets and outputs the
lessons never show (43 kB), and Font Awesome's solid and regular webfonts draw every icon
(134 kB): after plotly.js, most of a lesson page's weight. When the build has finished, every
stylesheet a page of the site loads (but ``filmkit.css``, the site's own) is rewritten in
place, in ``_static``, by PurgeCSS (npm ``purgecss``, installed in ``web/`` by ``make setup``
and run with Node.js: never fetched at build time), keeping a rule when every class, id,
element and attribute its selector names occurs as a word in:

- the site's pages (the built HTML, figures included), and
- every script a page loads (the theme's, Bootstrap's, Sphinx's search, plotly.js), since a
  script adds classes and elements after load: Bootstrap's ``show``, ``collapsing``, ``fade``,
  the tooltip's markup, the theme's ``scrolled`` and ``active``, the search results.

What scripts add without naming it as a word is kept explicitly: selectors on the attributes they
set (:data:`DYNAMIC_ATTRIBUTES`: the theme's light and dark modes, Popper's placement of tooltips
and dropdowns, ``aria-expanded``) and the classes Bootstrap builds by concatenation
(:data:`SAFELIST`: ``bs-tooltip-auto``); pseudo-classes count as present, so a selector of
pseudo-classes alone (the theme's focus ring, ``:focus-visible``) stays. ``@keyframes`` no kept
rule animates go too; every ``@font-face`` stays (a browser downloads a face only for text that
uses it). A rule kept is the original text. ``pygments.css`` (:data:`PAGES_ONLY`) is purged
against the pages alone: its token classes are one or two letters, identifiers of every
minified script.

Then each Font Awesome webfont the stylesheets name (``@font-face`` of a family "Font Awesome
…") is cut, in place and in its own format, by fontTools' subsetter to the characters of the
strings in the kept declarations (:func:`glyph_codepoints`): the icons drawn by ``content``,
directly or through a custom property (``--fa``, the theme's ``--pst-icon-…``). Font families'
names are not glyphs.

The trim depends on the content: a lesson that starts using a table, a blockquote or a new icon
keeps the theme's rules and glyphs for it at the next build. Without Node.js or purgecss the
build stops, naming ``make setup``, before Sphinx runs (:func:`check_tools`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from filmkit.sitebuild.plotly_offline import web_dir
from filmkit.sitebuild.postprocess import STYLESHEET
from filmkit.sitebuild.weight import font_faces, references

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PURGECSS = "purgecss"  # the npm package, in web/node_modules
NODE_SCRIPT = Path(__file__).with_name("purgecss.mjs")
STATIC = "_static"
# Attributes scripts set after load, so their values never occur in the pages as written: the
# theme's mode (data-theme, data-mode on <html>) and its busy buttons; Bootstrap's expanded
# toggles and current links; Popper's placement of tooltips and dropdowns.
DYNAMIC_ATTRIBUTES = (
    "data-theme",
    "data-mode",
    "data-busy",
    "aria-current",
    "aria-expanded",
    "data-bs-popper",
    "data-popper-placement",
)
# Kept whatever the content: classes Bootstrap builds by concatenation (`bs-${NAME}-auto`, never
# a word of its script), and pseudo-classes and -elements, which name no content: PurgeCSS would
# otherwise drop a selector made of them alone, such as the theme's focus ring (:focus-visible).
SAFELIST = (r"^bs-tooltip-", r"^bs-popover-", r"^:")
# Stylesheets of what Sphinx writes into the pages and no script adds (pygments: highlighted
# code), purged against the pages alone: its one- and two-letter token classes (.n, .o, .s1)
# are identifiers of every minified script, which would keep all its rules.
PAGES_ONLY = frozenset({"pygments.css"})
ICON_FAMILY = "font awesome"  # the @font-face families of icon fonts (lower case)
_TIMEOUT = 120  # seconds: a purge takes about two
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# A declaration: an icon is a string in content or in a custom property that a content reads
# (.fa-magnifying-glass{--fa:"\f002"} for .fa-solid:before{content:var(--fa)}, the theme's
# --pst-icon-admonition-note for its admonition titles).
_DECLARATION = re.compile(r"[{;]\s*([-\w]+)\s*:([^;{}]*)")
_STRING = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""", re.S)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.S)


class ToolMissingError(FileNotFoundError):
    """Node.js or purgecss is not installed."""


def purgecss_package() -> Path:
    """The purgecss package installed by ``make setup`` (npm ci in ``web/``)."""
    package = web_dir() / "node_modules" / PURGECSS
    if not (package / "package.json").is_file():
        raise ToolMissingError(
            f"purgecss is not installed: {package} is missing. Run `make setup` "
            f"(it runs `npm ci` in {web_dir()}; Node.js and npm are needed)"
        )
    return package


def node() -> str:
    """The Node.js executable that runs purgecss."""
    found = shutil.which("node")
    if not found:
        raise ToolMissingError(
            "Node.js is not installed (the site's stylesheets are trimmed with purgecss, run "
            "by node): install it (Debian: apt-get install nodejs npm), then run `make setup`"
        )
    return found


def check_tools() -> None:
    """Raise :class:`ToolMissingError` unless the site can be trimmed."""
    purgecss_package()
    node()


def site_pages(site: Path) -> list[Path]:
    """The site's HTML pages (``_static`` holds the theme's template macros: not pages)."""
    return sorted(
        p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != STATIC and p.is_file()
    )


def purge(stylesheets: Sequence[Path], content: Sequence[Path]) -> list[str]:
    """The text of each of ``stylesheets`` with only the rules ``content`` can use, in order."""
    job = {
        "css": [str(p) for p in stylesheets],
        "content": [str(p) for p in content],
        "dynamicAttributes": list(DYNAMIC_ATTRIBUTES),
        "safelist": list(SAFELIST),
    }
    try:
        run = subprocess.run(
            [node(), str(NODE_SCRIPT), str(web_dir())],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"purgecss took over {_TIMEOUT} s") from None
    if run.returncode:
        raise RuntimeError(f"purgecss failed (exit {run.returncode}): {run.stderr.strip()}")
    purged: list[str] = json.loads(run.stdout)["css"]
    if len(purged) != len(stylesheets):
        raise RuntimeError(f"purgecss returned {len(purged)} stylesheets of {len(stylesheets)}")
    return purged


def loaded_files(site: Path) -> set[Path]:
    """Every file some page of the site loads (absolute paths)."""
    site = site.resolve()
    return {path for page in site_pages(site) for path in references(site, page.relative_to(site))}


def trim(site: Path) -> None:
    """Rewrite, in place, every stylesheet the pages of ``site`` load but ``filmkit.css``, then
    the icon fonts they name."""
    site = site.resolve()
    loaded = loaded_files(site)
    pages = site_pages(site)
    sheets = sorted(p for p in loaded if p.suffix == ".css" and p.name != STYLESHEET)
    scripts = sorted(p for p in loaded if p.suffix == ".js")
    for group, content in (
        ([p for p in sheets if p.name not in PAGES_ONLY], [*pages, *scripts]),
        ([p for p in sheets if p.name in PAGES_ONLY], pages),
    ):
        if group:
            for path, text in zip(group, purge(group, content), strict=True):
                path.write_text(text, encoding="utf-8")
    subset_icon_fonts(sheets)


def subset_icon_fonts(sheets: Sequence[Path]) -> None:
    """Cut each icon font the ``sheets`` name down to the glyphs they draw (in place)."""
    texts = {sheet: sheet.read_text(encoding="utf-8") for sheet in sheets}
    codepoints = glyph_codepoints(texts.values())
    for font in sorted({font for sheet, css in texts.items() for font in icon_fonts(sheet, css)}):
        subset_font(font, codepoints)


def glyph_codepoints(stylesheets: Iterable[str]) -> set[int]:
    """Every character of a string in a declaration of the ``stylesheets`` (but font families'
    names): what their ``content`` can draw, directly or through a custom property."""
    found: set[int] = set()
    for css in stylesheets:
        for name, value in _DECLARATION.findall(_COMMENT.sub("", css)):
            if "family" not in name:
                for double, single in _STRING.findall(value):
                    found.update(ord(c) for c in _unescape(double or single))
    return found


def _unescape(text: str) -> str:
    """A CSS string's characters: ``\\f002`` is U+F002, ``\\"`` a quote."""
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], text)


def icon_fonts(sheet: Path, css: str) -> list[Path]:
    """The local font files the icon-font ``@font-face`` rules of ``css`` (at ``sheet``) name."""
    fonts = []
    for family, urls in font_faces(css):
        if family.startswith(ICON_FAMILY):
            for url in urls:
                parsed = urlparse(url)
                if not (parsed.scheme or parsed.netloc) and parsed.path:
                    path = (sheet.parent / unquote(parsed.path)).resolve()
                    if path.is_file():
                        fonts.append(path)
    return fonts


def subset_font(path: Path, codepoints: Iterable[int]) -> None:
    """Keep, of the font at ``path``, only the glyphs of ``codepoints`` (in place, same format).

    fontTools' subsetter: the kept glyphs are the font's own; the layout tables stay for them."""
    from fontTools import subset  # fontTools ships no type information
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    font = TTFont(path, recalcTimestamp=False)  # the same bytes from the same build
    flavor = font.flavor  # "woff2", "woff" or None: saved as it came
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    font.flavor = flavor
    font.save(path)


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    if exception is None and app.builder.format == "html":
        trim(Path(app.outdir))


def setup(app: Sphinx) -> dict[str, Any]:
    # Last (Sphinx runs lower priorities first; 500 by default): pydata-sphinx-theme writes its
    # pygments.css at build-finished too.
    app.connect("build-finished", _build_finished, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
