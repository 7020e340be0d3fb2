"""Quotation checks: does a quotation occur in the source it is attributed to, and where?

:func:`verify` compares a quotation with the corpus word by word and returns a :class:`Verdict`.

Statuses
    ``verified``       the quotation occurs in the named source (or anywhere, when none is named);
    ``misattributed``  it occurs, but only in sources other than the one named;
    ``near-miss``      it does not occur, but a passage is close: the verdict gives that passage,
                       its similarity (0–1) and the words that differ, in the source's own spelling;
    ``not-found``      nothing in the corpus is close.

What a quotation may differ in (quoting conventions allow these)
    - capitalisation;
    - curly or straight quotation marks and apostrophes (’ ‘ ' ʼ);
    - en and em dashes or hyphens (– — -), and the spaces around them;
    - white space: runs of spaces, non-breaking spaces, tabs and line breaks;
    - punctuation between words (a writer may end a quotation on a comma the source has, or
      drop it); matching is by words, and a word keeps its inner apostrophes (``it’s`` ≠ ``its``);
    - an elision written ``...``, ``…`` or ``[…]``: the pieces on either side must each occur, in
      order, in one source, the next piece starting at most :data:`ELISION_MAX_GAP_WORDS` words
      after the previous one ends;
    - a short editorial insertion in square brackets that stands for up to
      :data:`BRACKET_MAX_WORDS` source words (``[Charlotte] was bestowed`` for ``She was
      bestowed``), or that adds a word (``he [Anton] said``); brackets inside a word only mark
      changed letters, so ``[T]he`` is read as ``The``. A bracket at the very start or end of a
      quotation adds context and is not located in the source.

What it may not differ in
    any changed, added or dropped word outside brackets and elisions; pieces out of order, too far
    apart, or from different sources. A misspelt or "corrected" word is a near-miss, and the
    message shows the source's exact wording (``Weber`` where the source has ``Webber``).

Every match gives the source id, the paragraph index and a character span such that
``corpus.text(source)[start:end]`` is the exact source wording, from the first quoted word to the
last (an elided passage's span covers what the elision leaves out; ``pieces`` gives each piece's
own span).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from rapidfuzz import fuzz

from filmkit.corpus import Corpus, UnknownSourceError, load_corpus
from filmkit.provenance import WORD_PATTERN

ELISION_MAX_GAP_WORDS: Final = 60
BRACKET_MAX_WORDS: Final = 4
NEAR_MISS_THRESHOLD: Final = 0.8
# A guard against elided quotations of common words ("the ... of") multiplying places; far above
# the count of any real quotation (the corpus's commonest word occurs a few hundred times).
MAX_MATCHES: Final = 20_000

_ELISION = re.compile(r"\[\s*(?:\.\s*){3,}\]|\[\s*…\s*\]|\.(?:\s?\.){2,}|…")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})


class Status(StrEnum):
    VERIFIED = "verified"
    MISATTRIBUTED = "misattributed"
    NEAR_MISS = "near-miss"
    NOT_FOUND = "not-found"


@dataclass(frozen=True)
class Match:
    """One place a quotation occurs: ``text == corpus.text(source)[start:end]``."""

    source: str
    paragraph: int
    start: int
    end: int
    text: str
    pieces: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Closest:
    """The passage nearest to a quotation that does not occur as written."""

    source: str
    paragraph: int
    start: int
    end: int
    text: str
    similarity: float
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    quote: str
    status: Status
    attributed_to: str | None
    matches: tuple[Match, ...] = ()
    closest: Closest | None = None
    message: str = ""

    @property
    def verified(self) -> bool:
        return self.status is Status.VERIFIED

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``filmkit quote --json``."""
        return {
            "quote": self.quote,
            "status": str(self.status),
            "attributed_to": self.attributed_to,
            "matches": [
                {k: v for k, v in asdict(m).items() if k != "pieces"} for m in self.matches
            ],
            "closest": None
            if self.closest is None
            else {
                "source": self.closest.source,
                "paragraph": self.closest.paragraph,
                "start": self.closest.start,
                "end": self.closest.end,
                "text": self.closest.text,
                "similarity": round(self.closest.similarity, 3),
            },
            "message": self.message,
        }


# ---------------------------------------------------------------------------------------------
# Words


def normalise_word(word: str) -> str:
    return unicodedata.normalize("NFKC", word).translate(_APOSTROPHES).casefold()


@dataclass(frozen=True)
class _Document:
    source: str
    text: str
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    positions: dict[str, tuple[int, ...]]
    joined: str  # the words joined by single spaces, for fuzzy search
    joined_word_at: tuple[int, ...]  # for each character of ``joined``, its word's index


def _index_document(source: str, text: str) -> _Document:
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    positions: dict[str, list[int]] = {}
    for i, m in enumerate(WORD_PATTERN.finditer(text)):
        word = normalise_word(m.group())
        words.append(word)
        spans.append(m.span())
        positions.setdefault(word, []).append(i)
    word_at: list[int] = []
    for i, word in enumerate(words):
        word_at.extend([i] * (len(word) + 1))
    return _Document(
        source=source,
        text=text,
        words=tuple(words),
        spans=tuple(spans),
        positions={w: tuple(p) for w, p in positions.items()},
        joined=" ".join(words),
        joined_word_at=tuple(word_at),
    )


@cache
def _indexed(corpus: Corpus) -> tuple[_Document, ...]:
    return tuple(_index_document(s, corpus.text(s)) for s in corpus.ids)


# ---------------------------------------------------------------------------------------------
# Parsing a quotation


@dataclass(frozen=True)
class _Gap:
    """A bracketed insertion: stands for 0..BRACKET_MAX_WORDS source words."""

    text: str


_Item = str | _Gap


@dataclass(frozen=True)
class _Piece:
    items: tuple[_Item, ...]
    text: str

    @property
    def words(self) -> list[str]:
        return [i for i in self.items if isinstance(i, str)]


def parse_quotation(quote: str) -> list[_Piece]:
    """Split a quotation at elisions into pieces of words and bracketed gaps."""
    pieces: list[_Piece] = []
    for chunk in _ELISION.split(quote):
        items: list[_Item] = []
        cursor = 0
        for bracket in _BRACKET.finditer(chunk):
            before, after = (
                chunk[bracket.start() - 1 : bracket.start()],
                chunk[bracket.end() : bracket.end() + 1],
            )
            inside_word = bool(re.match(r"\w", before) or re.match(r"\w", after))
            if inside_word:
                continue  # "[T]he": keep the letters, drop the brackets below
            items.extend(_words(chunk[cursor : bracket.start()]))
            items.append(_Gap(bracket.group(1)))
            cursor = bracket.end()
        items.extend(_words(chunk[cursor:]))
        # trim gaps at the edges: they add context and are not located in the source
        while items and isinstance(items[0], _Gap):
            items.pop(0)
        while items and isinstance(items[-1], _Gap):
            items.pop()
        if items:
            pieces.append(_Piece(tuple(items), chunk.strip()))
    return pieces


def _words(text: str) -> list[str]:
    unbracketed = text.replace("[", "").replace("]", "")
    return [normalise_word(w) for w in WORD_PATTERN.findall(unbracketed)]


# ---------------------------------------------------------------------------------------------
# Exact matching


def _piece_matches(doc: _Document, piece: _Piece) -> Iterator[tuple[int, int]]:
    """Every (first word, last word + 1) where ``piece`` occurs in ``doc``."""
    first = piece.items[0]
    assert isinstance(first, str)
    for start in doc.positions.get(first, ()):
        yield from ((start, end) for end in _match_from(doc, piece.items, 1, start + 1))


def _match_from(doc: _Document, items: Sequence[_Item], i: int, pos: int) -> Iterator[int]:
    if i == len(items):
        yield pos
        return
    item = items[i]
    if isinstance(item, _Gap):
        for skip in range(BRACKET_MAX_WORDS + 1):
            if pos + skip <= len(doc.words):
                yield from _match_from(doc, items, i + 1, pos + skip)
        return
    if pos < len(doc.words) and doc.words[pos] == item:
        yield from _match_from(doc, items, i + 1, pos + 1)


def _chain_matches(doc: _Document, pieces: Sequence[_Piece]) -> list[tuple[tuple[int, int], ...]]:
    """Every way the pieces occur in order, each close after the one before."""
    per_piece = [sorted(set(_piece_matches(doc, p))) for p in pieces]
    chains: list[tuple[tuple[int, int], ...]] = []

    def extend(i: int, chain: tuple[tuple[int, int], ...]) -> None:
        if len(chains) >= MAX_MATCHES:
            return
        if i == len(pieces):
            chains.append(chain)
            return
        for start, end in per_piece[i]:
            if chain:
                previous_end = chain[-1][1]
                if start < previous_end or start - previous_end > ELISION_MAX_GAP_WORDS:
                    continue
            extend(i + 1, (*chain, (start, end)))

    extend(0, ())
    return chains


def find_matches(quote: str, corpus: Corpus | None = None) -> list[Match]:
    """Every place in the corpus where ``quote`` occurs, under the rules above."""
    corpus = corpus or load_corpus()
    pieces = parse_quotation(quote)
    if not pieces:
        return []
    matches: list[Match] = []
    for doc in _indexed(corpus):
        for chain in _chain_matches(doc, pieces):
            spans = tuple((doc.spans[a][0], doc.spans[b - 1][1]) for a, b in chain)
            start, end = spans[0][0], spans[-1][1]
            matches.append(
                Match(
                    doc.source,
                    corpus.paragraph_of(doc.source, start),
                    start,
                    end,
                    doc.text[start:end],
                    spans,
                )
            )
    return matches


# ---------------------------------------------------------------------------------------------
# Near misses


def _closest_in(doc: _Document, words: Sequence[str]) -> tuple[float, int, int]:
    """(similarity, first word, last word + 1) of the passage of ``doc`` nearest to ``words``."""
    query = " ".join(words)
    if not query or not doc.words:
        return 0.0, 0, 0
    alignment = fuzz.partial_ratio_alignment(query, doc.joined)
    if alignment is None:
        return 0.0, 0, 0
    last_char = max(alignment.dest_start, alignment.dest_end - 1)
    a = doc.joined_word_at[min(alignment.dest_start, len(doc.joined_word_at) - 1)]
    b = doc.joined_word_at[min(last_char, len(doc.joined_word_at) - 1)] + 1
    # The alignment is by characters; settle on whole words, trying one word either way.
    best = (-1.0, a, b)
    for da in (-1, 0, 1):
        for db in (-1, 0, 1):
            lo, hi = max(0, a + da), min(len(doc.words), b + db)
            if lo < hi:
                score = fuzz.ratio(query, " ".join(doc.words[lo:hi])) / 100
                if score > best[0]:
                    best = (score, lo, hi)
    return best


def closest_passage(
    quote: str, corpus: Corpus | None = None, *, sources: Sequence[str] | None = None
) -> Closest | None:
    """The passage most like ``quote`` (in ``sources``, default all), whatever its similarity."""
    corpus = corpus or load_corpus()
    pieces = parse_quotation(quote)
    words = [w for p in pieces for w in p.words]
    best: tuple[float, _Document, int, int] | None = None
    for doc in _indexed(corpus):
        if sources is not None and doc.source not in sources:
            continue
        score, a, b = _closest_in(doc, words)
        if b > a and (best is None or score > best[0]):
            best = (score, doc, a, b)
    if best is None:
        return None
    score, doc, a, b = best
    start, end = doc.spans[a][0], doc.spans[b - 1][1]
    return Closest(
        source=doc.source,
        paragraph=corpus.paragraph_of(doc.source, start),
        start=start,
        end=end,
        text=doc.text[start:end],
        similarity=score,
        differences=tuple(_differences(quote, doc, a, b)),
    )


def _differences(quote: str, doc: _Document, a: int, b: int) -> list[str]:
    """The words that differ, each side in its writer's own spelling."""
    mine = [m.group() for m in WORD_PATTERN.finditer(quote.replace("[", "").replace("]", ""))]
    theirs = [doc.text[s:e] for s, e in doc.spans[a:b]]
    matcher = difflib.SequenceMatcher(
        None, [normalise_word(w) for w in mine], list(doc.words[a:b]), autojunk=False
    )
    notes: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        yours, source = " ".join(mine[i1:i2]), " ".join(theirs[j1:j2])
        if op == "replace":
            notes.append(f"you wrote “{yours}” where the source has “{source}”")
        elif op == "delete":
            notes.append(f"“{yours}” is not in the source")
        elif op == "insert":
            notes.append(f"the source has “{source}” here, which the quotation leaves out")
    return notes


# ---------------------------------------------------------------------------------------------
# The verdict


def verify(quote: str, source: str | None = None, *, corpus: Corpus | None = None) -> Verdict:
    """Check ``quote`` against the corpus, attributed to ``source`` (an id, an author's surname
    or words of a title) or to no source. Raises :class:`UnknownSourceError` for a ``source``
    that names no source of the corpus."""
    corpus = corpus or load_corpus()
    attributed = corpus.resolve(source) if source is not None else None
    pieces = parse_quotation(quote)
    if not pieces:
        return Verdict(
            quote, Status.NOT_FOUND, attributed, message="The quotation has no words to check."
        )
    matches = tuple(find_matches(quote, corpus))
    where = f" in {attributed}" if attributed else ""
    if matches and (attributed is None or any(m.source == attributed for m in matches)):
        own = [m for m in matches if attributed is None or m.source == attributed]
        places = ", ".join(f"{m.source} ¶{m.paragraph}" for m in own[:3])
        more = f" and {len(own) - 3} more places" if len(own) > 3 else ""
        return Verdict(
            quote, Status.VERIFIED, attributed, matches, None, f"Verified{where}: {places}{more}."
        )
    if matches:
        found_in = sorted({m.source for m in matches})
        closest = closest_passage(quote, corpus, sources=[attributed] if attributed else None)
        near = ""
        if closest is not None and closest.similarity >= NEAR_MISS_THRESHOLD:
            near = f" The closest wording in {attributed} is “{closest.text}”."
        else:
            closest = None
        return Verdict(
            quote,
            Status.MISATTRIBUTED,
            attributed,
            matches,
            closest,
            f"Not in {attributed}: this wording is from {', '.join(found_in)}.{near}",
        )
    unmatched = _unmatched_piece(pieces, corpus)
    # With an elision, the piece that fails is what to compare: the others are fine as written.
    compared = unmatched.text if unmatched is not None and len(pieces) > 1 else quote
    closest = closest_passage(compared, corpus)
    if closest is not None and closest.similarity >= NEAR_MISS_THRESHOLD:
        if attributed and closest.source != attributed:
            in_named = closest_passage(compared, corpus, sources=[attributed])
            if in_named is not None and in_named.similarity >= closest.similarity - 0.02:
                closest = in_named
        detail = "; ".join(closest.differences) or "the words match but not as one passage"
        return Verdict(
            quote,
            Status.NEAR_MISS,
            attributed,
            (),
            closest,
            f"Not in the sources as written. Closest: {closest.source} ¶{closest.paragraph}, "
            f"“{closest.text}” (similarity {closest.similarity:.2f}): {detail}.",
        )
    if unmatched is None and len(pieces) > 1:
        message = (
            "Each piece occurs in the corpus, but not in order, close together, in one "
            "source: an elision must join pieces of one passage."
        )
    elif unmatched is not None and len(pieces) > 1:
        message = f"The piece “{unmatched.text}” is not in the sources{where or ''}."
    else:
        message = "Not in the sources: no passage is close to this wording."
    return Verdict(quote, Status.NOT_FOUND, attributed, (), None, message)


def _unmatched_piece(pieces: Sequence[_Piece], corpus: Corpus) -> _Piece | None:
    for piece in pieces:
        if not any(next(_piece_matches(doc, piece), None) for doc in _indexed(corpus)):
            return piece
    return None


__all__ = [
    "BRACKET_MAX_WORDS",
    "ELISION_MAX_GAP_WORDS",
    "NEAR_MISS_THRESHOLD",
    "Closest",
    "Match",
    "Status",
    "UnknownSourceError",
    "Verdict",
    "closest_passage",
    "find_matches",
    "normalise_word",
    "parse_quotation",
    "verify",
]
