"""The weight of a built page as a browser loads it: its HTML plus every file it references.

A page's *first load* is its HTML and every local file it makes the browser fetch: scripts,
stylesheets (and what they ``@import``), preloaded files, icons and images, and the fonts and
images referenced from those stylesheets by ``url()``; each file counted once however often it is
referenced. Its *own* weight is the HTML plus the files no other page references (its images):
what a reader pays for the page once the shared assets are cached.

A font is counted when a loaded stylesheet names it in an ``@font-face`` rule whose family some
rule of the page's stylesheets applies to an element class the page uses, the way a browser only
downloads a web font that text on the page needs (the theme's stylesheet declares Font Awesome's
brands and regular faces, which no page of the site uses). Other ``url()`` references (images,
cursors) are always counted: an upper bound.

Only static references count: files a script fetches later (the search index on the search page)
are not, nor remote URLs (the site loads none: the tests check it), nor links (``<a href>``,
``<link rel="next">``): a link is fetched only when followed, like the notebook a lesson page
offers for download (``<a href="NN-name.ipynb" download>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["PageWeight", "font_faces", "page_weights", "references"]

_LOADED_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon"}
_SRC_TAGS = {"script", "img", "iframe", "source", "audio", "video", "embed", "track"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?([^'")\s;]+)""")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}")
_FAMILY = re.compile(r"font-family\s*:\s*([^;}]+)")
_RULE = re.compile(r"([^{}@;]+){([^{}]*)}")
_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_FONT_SUFFIXES = {".woff", ".woff2", ".ttf", ".otf", ".eot"}


@dataclass(frozen=True)
class PageWeight:
    """One page: bytes on first load, bytes of its own, and the files it loads."""

    page: Path  # relative to the site
    html_bytes: int
    first_load_bytes: int  # HTML + every referenced file, once each
    own_bytes: int  # HTML + the files only this page references
    assets: tuple[Path, ...]  # relative to the site, sorted


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.classes: set[str] = set()
        self.styles: list[str] = []  # inline <style> blocks and style="" attributes
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.classes.update(values.get("class", "").split())
        if values.get("style"):
            self.styles.append(values["style"])
        if tag in _SRC_TAGS and values.get("src"):
            self.urls.append(values["src"])
        if tag in ("img", "source") and values.get("srcset"):
            self.urls.extend(part.split()[0] for part in values["srcset"].split(",") if part)
        if tag == "video" and values.get("poster"):
            self.urls.append(values["poster"])
        if tag == "object" and values.get("data"):
            self.urls.append(values["data"])
        rels = set(values.get("rel", "").lower().split())
        if tag == "link" and values.get("href") and _LOADED_RELS & rels:
            self.urls.append(values["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _local(url: str, base: Path, site: Path) -> Path | None:
    """The site file ``url`` (relative to the folder ``base``) names, if it is one."""
    parsed = urlparse(url.strip())
    if parsed.scheme or parsed.netloc or not parsed.path:  # remote, data:, or a fragment only
        return None
    path = unquote(parsed.path)
    target = (site / path.lstrip("/")) if path.startswith("/") else (base / path)
    target = target.resolve()
    if not target.is_file() or not target.is_relative_to(site):
        return None
    return target


def _css_references(css: str) -> tuple[list[str], list[str], list[tuple[str, list[str]]]]:
    """``(imports, other urls, font faces as (family, urls))`` of a stylesheet."""
    css = _COMMENT.sub("", css)
    imports = _CSS_IMPORT.findall(css)
    faces: list[tuple[str, list[str]]] = []
    for body in _FONT_FACE.findall(css):
        family = _FAMILY.search(body)
        name = _family_names(family.group(1))[0] if family else ""
        faces.append((name, [m.group(2) for m in _CSS_URL.finditer(body)]))
    rest = _FONT_FACE.sub("", _CSS_IMPORT.sub("", css))
    return imports, [m.group(2) for m in _CSS_URL.finditer(rest)], faces


def font_faces(css: str) -> list[tuple[str, list[str]]]:
    """The ``@font-face`` rules of a stylesheet: (family, lower case, ``url()`` references)."""
    return _css_references(css)[2]


def _family_names(value: str) -> list[str]:
    names = []
    for part in value.split(","):
        name = part.strip().strip("'\"").replace("\\", "").strip()
        if name:
            names.append(" ".join(name.split()).lower())
    return names


def _font_text(stylesheets: Iterable[str], classes: set[str], inline: Sequence[str]) -> str:
    """The text of every declaration block that applies to the page: rules whose selector names
    a class of the page, the font declarations of rules naming no class (element selectors), and
    the inline styles."""
    blocks = list(inline)
    for css in stylesheets:
        for selector, body in _RULE.findall(_FONT_FACE.sub("", _COMMENT.sub("", css))):
            if "font" not in body and "--" not in body:
                continue
            named = set(_CLASS.findall(selector))
            if named & classes:
                blocks.append(body)
            elif not named:  # element or :root rules: their custom properties apply only
                # where a rule of a used class reads them, so their own font declarations only
                blocks.extend(d for d in body.split(";") if not d.strip().startswith("--"))
    return "\n".join(blocks).replace("\\", "").lower()


def references(site: Path, page: Path) -> set[Path]:
    """Every site file the page at ``site/page`` loads (absolute paths), the page excluded."""
    site = site.resolve()
    html_path = (site / page).resolve()
    parser = _References()
    parser.feed(html_path.read_text(encoding="utf-8", errors="replace"))
    found: set[Path] = set()
    sheets: dict[Path, str] = {}
    faces: list[tuple[str, Path]] = []
    pending = [(url, html_path.parent) for url in parser.urls]
    for style in parser.styles:
        imports, urls, inline_faces = _css_references(style)
        pending += [(u, html_path.parent) for u in [*imports, *urls]]
        faces += [
            (family, target)
            for family, urls_ in inline_faces
            for u in urls_
            if (target := _local(u, html_path.parent, site))
        ]
    while pending:
        url, base = pending.pop()
        target = _local(url, base, site)
        if target is None or target in found or target == html_path:
            continue
        if target.suffix.lower() in _FONT_SUFFIXES and base == html_path.parent:
            found.add(target)  # a font the page itself preloads: loaded whatever uses it
            continue
        found.add(target)
        if target.suffix.lower() == ".css":
            text = target.read_text(encoding="utf-8", errors="replace")
            sheets[target] = text
            imports, urls, sheet_faces = _css_references(text)
            pending += [(u, target.parent) for u in [*imports, *urls]]
            faces += [
                (family, font)
                for family, urls_ in sheet_faces
                for u in urls_
                if (font := _local(u, target.parent, site))
            ]
    used = _font_text(sheets.values(), parser.classes, parser.styles)
    for family, font in faces:
        if not family or family in used:
            found.add(font)
    return found


def page_weights(site: Path, pages: Sequence[Path]) -> list[PageWeight]:
    """The weight of each of ``pages`` (relative to ``site``), in the order given."""
    site = site.resolve()
    loaded = {page: references(site, page) for page in pages}
    users: dict[Path, int] = {}
    for files in loaded.values():
        for path in files:
            users[path] = users.get(path, 0) + 1
    weights = []
    for page, files in loaded.items():
        html_bytes = (site / page).stat().st_size
        sizes = {path: path.stat().st_size for path in files}
        weights.append(
            PageWeight(
                page=page,
                html_bytes=html_bytes,
                first_load_bytes=html_bytes + sum(sizes.values()),
                own_bytes=html_bytes + sum(s for p, s in sizes.items() if users[p] == 1),
                assets=tuple(sorted(p.relative_to(site) for p in files)),
            )
        )
    return weights
