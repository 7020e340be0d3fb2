"""Find the quotations in a student's markdown, with the sources they are attributed to.

The citation convention (taught in lesson 00, checked by ``filmkit check``)
    - Quote a source's words between double quotation marks, straight ``"…"`` or curly ``“…”``,
      or as a block quotation (lines starting with ``>``). Single quotation marks are for a
      quotation inside a quotation and are not checked on their own.
    - Attribute it with a parenthetical later in the same sentence that names the source: its
      id, its author's surname, or words of its title, e.g.
      ``“The mistakes make it human” (madness-music-genius).`` A parenthetical applies to every
      quotation before it in its sentence that has none of its own:
      ``It is “creepy” and “disturbing” (perfection-explained).``
      A parenthetical may add a locator after a comma: ``(Glass, ¶4)``.
    - Attribute a block quotation with a parenthetical at its end, inside the block, or on the
      line right after it: ``> The mistakes make it human. (madness-music-genius)``.
    - Mark a left-out passage with ``...`` or ``…``, a word of your own with ``[square brackets]``
      (see :mod:`filmkit.evidence` for what these may stand for).

Text in code (inline ``code`` or fenced blocks) is not read. A parenthetical that names no source,
such as ``(2019)``, is not an attribution; one that could name several is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from filmkit.corpus import AmbiguousSourceError, Corpus, UnknownSourceError, load_corpus

_QUOTED = re.compile(r"[“\"]([^“”\"]+)[”\"]")
_PARENTHETICAL = re.compile(r"\(([^()]*)\)")
_SENTENCE_END = re.compile(r"[.!?](?=[\s)\]]|$)")
_MASK = "\x00"


@dataclass(frozen=True)
class Quotation:
    """A quotation found in markdown: its words, where it is, and whom it cites."""

    text: str
    line: int  # 1-based line of the markdown where the quotation (or its block) starts
    kind: Literal["inline", "block"]
    citation: str | None = None  # the parenthetical as written, when it names a source
    source: str | None = None  # the source id the citation resolves to
    citation_problem: str | None = None  # why a parenthetical that looks like one does not count


def extract_quotations(markdown: str, corpus: Corpus | None = None) -> list[Quotation]:
    """Every quotation in ``markdown``, in reading order."""
    corpus = corpus or load_corpus()
    tokens = MarkdownIt("commonmark").parse(markdown)
    found: list[Quotation] = []
    depth = 0
    block: list[tuple[str, int]] = []
    for index, token in enumerate(tokens):
        if token.type == "blockquote_open":
            depth += 1
            continue
        if token.type == "blockquote_close":
            depth -= 1
            if depth == 0 and block:
                following = _next_inline(tokens, index)
                found.append(_block_quotation(block, following, corpus))
                block = []
            continue
        if token.type != "inline" or token.map is None:
            continue
        text = _plain_text(token)
        first_line = token.map[0] + 1
        if depth > 0:
            block.append((text, first_line))
        elif not _is_citation_line(text, tokens, index):
            found.extend(_inline_quotations(text, first_line, corpus))
    return found


def _plain_text(inline: Token) -> str:
    """The inline's text, with code masked so quotation marks inside it are not read."""
    parts: list[str] = []
    for child in inline.children or []:
        if child.type == "text":
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "code_inline":
            parts.append(_MASK * (len(child.content) + 2))
        elif child.type == "image":
            parts.append(_MASK)
    return "".join(parts)


def _inline_quotations(text: str, first_line: int, corpus: Corpus) -> Iterator[Quotation]:
    quoted = list(_QUOTED.finditer(text))
    # Outside quotation marks only: a source's own parenthetical inside a quotation is no citation.
    outside = list(text)
    for m in quoted:
        outside[m.start() : m.end()] = _MASK * (m.end() - m.start())
    masked = "".join(outside)
    for m in quoted:
        words = m.group(1).strip()
        if not words:
            continue
        line = first_line + text.count("\n", 0, m.start())
        citation, source, problem = _attribution(masked, m, corpus)
        yield Quotation(words, line, "inline", citation, source, problem)


def _attribution(
    masked: str, quote: re.Match[str], corpus: Corpus
) -> tuple[str | None, str | None, str | None]:
    """The first parenthetical after ``quote`` in its sentence that names a source."""
    tail_start = quote.end()
    tail = masked[tail_start:]
    end = len(tail)
    boundary = _SENTENCE_END.search(tail)
    if boundary:
        end = boundary.end()
    if re.search(r"[.!?]\s*$", quote.group(1)):
        # “… human.” She said: a quotation ending a sentence ends it unless a citation follows
        next_text = tail.lstrip()
        if next_text[:1].isupper() or next_text.startswith(_MASK):
            end = 0
    problem: str | None = None
    for paren in _PARENTHETICAL.finditer(tail[:end]):
        citation = paren.group(1).strip()
        source, why = _resolve(citation, corpus)
        if source:
            return citation, source, None
        problem = problem or why
    return None, None, problem


def _resolve(citation: str, corpus: Corpus) -> tuple[str | None, str | None]:
    """Resolve a citation as a whole, then by its first comma-separated part (a locator may follow)."""
    attempts = [citation]
    if "," in citation:
        attempts.append(citation.split(",", 1)[0])
    why: str | None = None
    for attempt in attempts:
        try:
            return corpus.resolve(attempt), None
        except AmbiguousSourceError as error:
            why = why or str(error)
        except UnknownSourceError:
            pass
    return None, why


def _block_quotation(
    block: list[tuple[str, int]], following: str | None, corpus: Corpus
) -> Quotation:
    text = "\n\n".join(part for part, _ in block).strip()
    line = block[0][1]
    citation = source = problem = None
    trailing = re.search(r"\(([^()]*)\)[\s.]*$", text)
    if trailing:
        source, problem = _resolve(trailing.group(1).strip(), corpus)
        if source:
            citation, text = trailing.group(1).strip(), text[: trailing.start()].rstrip()
    if source is None and following is not None:
        cited = re.fullmatch(r"\s*[—–-]*\s*\(?([^()]*?)\)?\s*[.]?\s*", following)
        if cited:
            source, problem = _resolve(cited.group(1), corpus)
            citation = cited.group(1).strip() if source else None
    text = re.sub(r"\s*[—–]\s*$", "", text)
    return Quotation(text, line, "block", citation, source, None if source else problem)


def _next_inline(tokens: list[Token], index: int) -> str | None:
    """The text of the paragraph right after a block quotation, when it directly follows it."""
    block_end = _block_end(tokens, index)
    for later in tokens[index + 1 :]:
        if later.type == "inline" and later.map is not None:
            # the next line, or the one after a single blank line
            return _plain_text(later) if later.map[0] <= block_end + 1 else None
        if later.type != "paragraph_open":
            return None
    return None


def _block_end(tokens: list[Token], close_index: int) -> int:
    """The line just after a block quotation (the blockquote_open token's map holds its lines)."""
    depth = 0
    for token in reversed(tokens[: close_index + 1]):
        if token.type == "blockquote_close":
            depth += 1
        elif token.type == "blockquote_open":
            depth -= 1
            if depth == 0 and token.map is not None:
                return token.map[1]
    return -1


def _is_citation_line(text: str, tokens: list[Token], index: int) -> bool:
    """A paragraph that only cites the block quotation just above it."""
    return bool(
        re.fullmatch(r"\s*[—–-]*\s*\([^()]*\)\s*[.]?\s*", text)
        and index >= 2
        and tokens[index - 2].type == "blockquote_close"
    )
