"""Quotation checks: does a quotation occur in the source it is attributed to, and where?

:func:`verify` compares a quotation with the corpus word by word and returns a :class:`Verdict`.

Statuses
    ``verified``       the quotation occurs in the named source (or anywhere, when none is named);
    ``misattributed``  it occurs, but only in sources other than the one named;
    ``near-miss``      it does not occur, but a passage is close: the verdict gives that passage,
                       its similarity (0–1) and the words that differ, in the source's own spelling;
                       or its words occur but a bracket or an elision breaks the rules below: the
                       verdict gives the passage, and its differences name each bracket or
                       elision and what is wrong;
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
      after the previous one ends, under the rules of elisions below;
    - a short editorial insertion in square brackets, under the rules of brackets below.

Brackets
    Brackets inside a word only mark changed letters, so ``[T]he`` is read as ``The`` and must
    spell the source's word. A bracket between words is the writer's own: it *stands for* up to
    :data:`BRACKET_MAX_WORDS` of the source's words (``[Charlotte] was bestowed`` for ``She was
    bestowed``), or for none, when it *adds* words (``he [Anton] said``). A bracket at the very
    start or end of a quotation (or of a piece of an elided one) adds context and is not located
    in the source: it stands for nothing. Scholarly convention lets a bracket name whom or what
    the source means and fit the source's words to the writer's sentence (a tense, a capital, a
    missing article); it may not put a claim in the source's mouth. So a bracket is reported
    (:func:`bracket_problems`) when

    - it holds more than :data:`BRACKET_MAX_WORDS` words, or stands for more than
      :data:`BRACKET_MAX_WORDS` of the source's words (a bracket standing for a whole clause is a
      paraphrase: quote the words, or cut them with an elision);
    - it adds a word of one of these classes that the source's words it stands for do not have:
      a negation (:data:`NEGATIONS`: VADER's negation words, ``no`` and any ``-n't``); a modal or
      a word of certainty (:data:`MODALS`; ``[would]`` for ``will`` keeps the modal, ``[will]``
      for ``might`` does not); a connective that asserts a relation (:data:`CONNECTIVES`:
      ``because``, ``but`` …); a word of degree or comparison (:data:`DEGREE_WORDS`: VADER's
      intensifiers and ``more``, ``only``, ``even`` …); or a word of judgement, which is any word
      VADER's lexicon rates (the sentiment vocabulary lesson 03 uses). The same word in another
      inflection (``[loved]`` for ``loves``) is not an addition. Two kinds of word VADER rates
      are not judgements here: a word written with a capital that the sources also write with a
      capital inside a line (a name or a title: ``[The Perfection]``), and a word of the labels
      of the course's vocabularies of genre, roles and power (:data:`filmkit.analysis.GENRE_TERMS`
      and its siblings: ``[the horror film]``, ``[the abuse]``);
    - it stands for source words that hold a negation or a modal and drops it (``[is]`` for
      ``isn’t``, ``[is]`` for ``might be``);
    - the brackets together hold more words than the quotation has of the source's own: the
      source's words must carry a quotation.

    A quotation whose words occur only with a reported bracket is a near-miss: its ``closest`` is
    the passage, its ``differences`` the problems, and its message names each bracket and says
    what to do (quote the source's words, or put your own outside the quotation marks). When no
    place fits with brackets standing for at most :data:`BRACKET_MAX_WORDS` words, a place where
    one bracket stands for up to :data:`ELISION_MAX_GAP_WORDS` is looked for (in the named
    source), so that the verdict can say which bracket stands for too much, and for what.

    The rules are about classes of word, so they can be stated and checked; a bracket that adds a
    claim in words outside these classes (a new verb, a genre label) is not caught and remains
    the marker's to judge, and a word VADER rates without its being a judgement (``play``) is
    reported: put it outside the quotation marks.

Elisions
    An elision may leave out what the writer does not need, but the words it keeps must still say
    what the source says. So an elision *inside one sentence* (the last word before it and the
    first after it in one of the corpus's sentences, :attr:`Corpus.sentences`) may not cut a word
    that reverses or qualifies what the kept words say. The classes are the bracket rules',
    where cutting one changes the claim (:func:`elision_problems`):

    - a negation (:data:`NEGATIONS` and any ``-n't``): ``The Perfection ... merely background``
      for "The music in The Perfection isn’t merely background";
    - a modal or a hedge (:data:`MODALS`): ``Charlotte ... continued with her education`` for
      "Charlotte could have continued with her education" asserts what the source only
      supposes. A word of certainty (``certainly``, ``clearly``) may be cut: without it the
      quotation claims less than the source, not something else;
    - a word of degree that reverses (:data:`APPROXIMATORS`: what "nearly take you down" says
      does not take you down), or one that limits a negation the quotation keeps
      (:data:`LIMITERS`: ``isn’t ... background`` for "isn’t merely background").

    Connectives (``but``, ``because``, ``if`` …) do not count. A connective joins the kept words
    to the words cut, and cutting a clause with its connective is what an elision is for; whether
    a cut clause was a condition of the kept one ("if you like gore") cannot be told from the
    word ("if anything", "even if", "see if"). Nor do intensifiers or judgements (``very``,
    ``brilliant``): cut, they leave a weaker claim, not a false one.

    Two cuts of a negation or modal keep the source's sense and are allowed:

    - a part of the sentence set off by punctuation (between commas, dashes, brackets or
      quotation marks, or after a semicolon or colon) cut whole, with words of its own besides
      the negation or modal: the negation is the cut part's, not the kept words' (``The film
      ... works`` for "The film, which is not subtle, works"). A part that is nothing but the
      qualifier (", perhaps,") qualifies the sentence around it, and is reported;
    - ``not A, but B`` cut to ``... B``, the cut ending on the ``but`` with no clause break
      between: B is what the source asserts (``The Perfection is ... surviving through art``).

    An elision across sentences, or at the start or end of a quotation, is not affected. A
    quotation whose words occur only with a reported elision is a near-miss, as with brackets:
    its message names the elision by the quotation's words around it, each word it cuts and what
    the word is, and says what to do (quote the words it cuts, or keep the negation).

    The limits. The parts of a sentence are told by punctuation, not by grammar: a negation or a
    modal in a clause that no punctuation closes is reported even when it belongs to the words
    cut ("Lizzie, who may be better than Charlotte ever was and is deeply established" cut to
    "who ... is deeply established"): cut at the punctuation, or quote around the clause. A
    condition set off by commas and cut whole (", if you like gore,") is allowed, and so is a
    negation set off by commas whose sense is the sentence's ("It was, by no means, a success"
    cut to "It was ... a success"): these remain the marker's to judge. Words are classed by
    their spelling, so the ``nowhere`` of "out of nowhere" is a negation. And a quotation is
    verified at any place its pieces fit: a short piece that also occurs in an earlier sentence
    (``they``) can fit a cut across sentences, which the rules allow; the match's span then shows
    what the elision stands for.

What it may not differ in
    any changed, added or dropped word outside brackets and elisions; a bracket or an elision
    the rules above report; pieces out of order, too far apart, or from different sources. A
    misspelt or "corrected" word is a near-miss, and the message shows the source's exact wording
    (``Weber`` where the source has ``Webber``).

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
from functools import cache, lru_cache
from typing import Final

from rapidfuzz import fuzz
from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE

from filmkit.analysis import GENRE_TERMS, POWER_TERMS, ROLE_TERMS
from filmkit.corpus import Corpus, UnknownSourceError, load_corpus
from filmkit.provenance import WORD_PATTERN

ELISION_MAX_GAP_WORDS: Final = 60
# A bracket holds at most this many words, and stands for at most this many of the source's.
BRACKET_MAX_WORDS: Final = 4
NEAR_MISS_THRESHOLD: Final = 0.8
# A guard against elided quotations of common words ("the ... of") multiplying places; far above
# the count of any real quotation (the corpus's commonest word occurs a few hundred times).
MAX_MATCHES: Final = 20_000

_ELISION = re.compile(r"\[\s*(?:\.\s*){3,}\]|\[\s*…\s*\]|\.(?:\s?\.){2,}|…")
_ELISION_SPLIT = re.compile(f"({_ELISION.pattern})")  # keeps the marks, to name them
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
# How words are counted for the bracket rules: a hyphenated word is one (as the marking counts).
_COUNTED_WORD = re.compile(r"\w+(?:['’ʼ\-‐‑]\w+)*")


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
# The bracket rules: classes of word a bracket may not add (see the module docstring)


def _listing(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# VADER's negation words (the list its scorer uses), with the ones it leaves out. A word ending in
# "n't" is a negation too.
NEGATIONS: Final = frozenset(
    normalise_word(w) for w in (*NEGATE, *_listing("no nobody non neither nor nothing"))
)
# Modal verbs and words of certainty, each with its family: ``[would]`` for ``will`` and
# ``[could]`` for ``can`` keep the source's modality; another family changes it.
MODALS: Final[dict[str, str]] = {
    **dict.fromkeys(_listing("can could cannot can't couldn't"), "can"),
    **dict.fromkeys(_listing("will would won't wouldn't"), "will"),
    **dict.fromkeys(_listing("may might mightn't"), "may"),
    **dict.fromkeys(_listing("shall should shan't shouldn't"), "shall"),
    **dict.fromkeys(_listing("must mustn't"), "must"),
    **dict.fromkeys(_listing("ought oughtn't"), "ought"),
    **{
        w: w
        for w in _listing(
            "perhaps maybe possibly probably likely unlikely apparently seemingly supposedly "
            "allegedly arguably reportedly presumably certainly definitely surely clearly "
            "obviously undoubtedly evidently"
        )
    },
}
# Connectives that assert a relation between what they join (cause, concession, condition).
CONNECTIVES: Final = frozenset(
    _listing(
        "because since therefore thus hence consequently accordingly although though but yet "
        "however nevertheless nonetheless whereas unless if instead"
    )
)
# Words of degree or comparison: VADER's intensifiers and dampeners (single words), with the
# comparatives and focusing words that change how much or of whom a sentence claims something.
DEGREE_WORDS: Final = frozenset(
    {w for w in BOOSTER_DICT if " " not in w}
    | set(
        _listing(
            "than more most less least fewer fewest better best worse worst rather only even "
            "just merely simply also too almost nearly"
        )
    )
)
# The labels of the course's vocabularies (filmkit.analysis): they name what a passage is about
# (a genre, a role, a kind of power), so VADER's rating of them is no judgement in a bracket.
_VOCABULARY_LABELS: Final = frozenset(
    normalise_word(w)
    for terms in (GENRE_TERMS, ROLE_TERMS, POWER_TERMS)
    for label in terms
    for w in WORD_PATTERN.findall(label)
)


@cache
def _lexicon() -> dict[str, float]:
    """VADER's lexicon: word → valence (−4 to 4), the course's vocabulary of judgement."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon: dict[str, float] = SentimentIntensityAnalyzer().lexicon
    return {w: float(v) for w, v in lexicon.items() if v and re.fullmatch(r"[a-z']+", w)}


@cache
def _names(corpus: Corpus) -> frozenset[str]:
    """Words the sources write with a capital inside a line, not after a sentence's end: the
    words of names and titles (``The Perfection``, ``Lizzie’s Revenge``)."""
    names: set[str] = set()
    for doc in _indexed(corpus):
        for i in range(1, len(doc.words)):
            start, previous_end = doc.spans[i][0], doc.spans[i - 1][1]
            between = doc.text[previous_end:start]
            if doc.text[start].isupper() and not re.search(r"[.!?:\n]", between):
                names.add(doc.words[i])
    return frozenset(names)


def _negates(word: str) -> bool:
    return word in NEGATIONS or word.endswith("n't")


def _modal(word: str) -> str | None:
    if word.endswith("'ll"):
        return "will"
    return MODALS.get(word)


def _same_word(word: str, others: Sequence[str]) -> bool:
    """``word`` is one of ``others``, or the same word inflected otherwise (``loved``/``loves``:
    they share all but at most three letters of the longer, and at least four)."""
    for other in others:
        if word == other:
            return True
        shared = len(_common_prefix(word, other))
        if shared >= 4 and max(len(word), len(other)) - shared <= 3:
            return True
    return False


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_CLAIMED: Final = "the source does not"  # in every note of a bracket that adds a claim


def bracket_problems(
    bracket: str, replaced: Sequence[str] = (), *, corpus: Corpus | None = None
) -> list[str]:
    """What is wrong with one bracket (empty: nothing), under the rules of the module docstring.

    ``bracket`` is the text inside the brackets; ``replaced`` the source's words it stands for,
    in the source's spelling (none for a bracket that adds words). Each problem is a sentence
    (without its full stop) that names the bracket: ``The bracket [not] adds a negation (“not”),
    which the source does not say``."""
    corpus = corpus or load_corpus()
    return list(_bracket_notes(bracket, tuple(replaced), corpus))


@cache
def _bracket_notes(bracket: str, replaced: tuple[str, ...], corpus: Corpus) -> tuple[str, ...]:
    name = f"[{' '.join(bracket.split())}]"
    notes: list[str] = []
    held = len(_COUNTED_WORD.findall(bracket))
    if held > BRACKET_MAX_WORDS:
        notes.append(
            f"The bracket {name} holds {held} words; a bracket may hold at most {BRACKET_MAX_WORDS}"
        )
    if len(replaced) > BRACKET_MAX_WORDS:
        notes.append(
            f"The bracket {name} stands for {len(replaced)} of the source's words "
            f"(“{_shorten(' '.join(replaced))}”); a bracket may stand for at most "
            f"{BRACKET_MAX_WORDS}: quote those words, or cut them with an elision (...)"
        )
    pairs = [(t, normalise_word(t)) for t in WORD_PATTERN.findall(bracket)]
    theirs = [normalise_word(w) for w in replaced]
    their_modals = {f for f in map(_modal, theirs) if f}
    our_modals = {f for _, w in pairs if (f := _modal(w))}
    lexicon, names = _lexicon(), _names(corpus)
    added: list[str] = []
    for token, word in pairs:
        if _negates(word) or _modal(word):
            if _negates(word) and not any(map(_negates, theirs)):
                added.append(f"a negation (“{token}”)")
            if (family := _modal(word)) and family not in their_modals:
                added.append(f"a modal (“{token}”)")
        elif _same_word(word, theirs):
            continue
        elif word in CONNECTIVES:
            added.append(f"a connective (“{token}”)")
        elif word in DEGREE_WORDS:
            added.append(f"a word of degree or comparison (“{token}”)")
        elif word in lexicon and not (
            word in _VOCABULARY_LABELS or (token[0].isupper() and word in names)
        ):
            added.append(f"a word of judgement (“{token}”, VADER {lexicon[word]:+.1f})")
    if added:
        notes.append(f"The bracket {name} adds {_listed(added)}, which {_CLAIMED} say")
    dropped = (
        ["negation"]
        if any(map(_negates, theirs)) and not any(_negates(w) for _, w in pairs)
        else []
    )
    dropped.extend(
        f"“{w}”"
        for w, n in zip(replaced, theirs, strict=True)
        if (f := _modal(n)) and f not in our_modals
    )
    if dropped:
        notes.append(
            f"The bracket {name} stands for “{' '.join(replaced)}” and drops its "
            f"{_listed(dropped)}, so the quotation says what {_CLAIMED}"
        )
    return tuple(notes)


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------------------------
# The elision rules: what an elision inside one sentence may not cut (see the module docstring)

# Words of certainty. A bracket may not add one (MODALS holds them), but an elision may cut one:
# without it the quotation claims less than the source, not more.
_CERTAINTY: Final = frozenset(
    _listing("certainly definitely surely clearly obviously undoubtedly evidently")
)
# Words of degree that, cut, reverse what the words around them say: "the imperfections that
# nearly take you down" do not take you down.
APPROXIMATORS: Final = frozenset(_listing("almost nearly hardly barely scarcely"))
# Words of degree that limit a claim. Cut from under a negation the quotation keeps, they reverse
# it: what "isn't merely background" is background, and more; what "isn't background" is not.
LIMITERS: Final = frozenset(_listing("only merely just simply"))
# Punctuation that sets a part of a sentence off from the rest (a clause or phrase between
# commas, dashes, brackets or quotation marks, or after a semicolon or colon). A hyphen inside a
# word ("well-deserved") is no such mark; a spaced one is a dash.
_CLAUSE_MARK = re.compile(r"[,;:()\[\]{}–—“”\"‘!?…]|(?:^|\s)[-‐‑]+(?:\s|$)")
# What may not stand between a negation and a "but" that ends the cut ("not A, but B"): a mark
# that ends a clause or opens another (a comma or a quotation mark may).
_CLAUSE_BREAK = re.compile(r"[;:()\[\]{}–—!?…]|(?:^|\s)[-‐‑]+(?:\s|$)")
_ELISION_NOTE: Final = "The elision in "  # how every note of an elision begins


@dataclass(frozen=True)
class _Sentences:
    """How a document's words fall into sentences (the corpus's, ``Corpus.sentences``) and into
    parts of sentences set off by punctuation."""

    number: tuple[int, ...]  # each word's sentence (a word in none: a number of its own, < 0)
    opens: tuple[bool, ...]  # whether a part of a sentence starts at the word


@cache
def _sentences(corpus: Corpus) -> dict[str, _Sentences]:
    table = corpus.sentences
    found: dict[str, _Sentences] = {}
    for doc in _indexed(corpus):
        rows = table[table["source"] == doc.source].sort_values("start")
        bounds = list(zip(rows["start"].tolist(), rows["end"].tolist(), strict=True))
        number: list[int] = []
        k = 0
        for i, (start, _) in enumerate(doc.spans):
            while k < len(bounds) and bounds[k][1] <= start:
                k += 1
            inside = k < len(bounds) and bounds[k][0] <= start
            number.append(k if inside else -1 - i)
        opens = [
            i == 0
            or number[i] != number[i - 1]
            or bool(_CLAUSE_MARK.search(doc.text[doc.spans[i - 1][1] : doc.spans[i][0]]))
            for i in range(len(doc.words))
        ]
        found[doc.source] = _Sentences(tuple(number), tuple(opens))
    return found


def _document(corpus: Corpus, source: str) -> _Document:
    return next(d for d in _indexed(corpus) if d.source == source)


_WHAT: Final = {"negation": "a negation", "modal": "a modal", "degree": "a word of degree"}


def _claim_kinds(word: str) -> list[str]:
    """The classes of word an elision may not cut that ``word`` is of (before the exceptions)."""
    kinds = []
    if _negates(word):
        kinds.append("negation")
    if _modal(word) and word not in _CERTAINTY:
        kinds.append("modal")
    if word in APPROXIMATORS:
        kinds.append("degree")
    return kinds


@lru_cache(maxsize=1 << 16)  # bounded: a quotation of common words ("the ... of") has many places
def _elision_cuts(
    corpus: Corpus, source: str, first: int, last: int
) -> tuple[tuple[str, str], ...]:
    """What an elision that leaves out words ``first``..``last - 1`` of ``source`` (keeping word
    ``first - 1`` and word ``last``) cuts that it may not: (the word as the source spells it,
    what it is), such as ("isn’t", "a negation"). Empty for a cut across sentences."""
    doc, parts = _document(corpus, source), _sentences(corpus)[source]
    if not 0 < first < last < len(doc.words) or parts.number[first - 1] != parts.number[last]:
        return ()

    def part(i: int) -> tuple[int, int]:
        start = next(j for j in range(i, -1, -1) if parts.opens[j])
        end = next((j for j in range(i + 1, len(doc.words)) if parts.opens[j]), len(doc.words))
        return start, end

    def spelt(i: int) -> str:
        return doc.text[doc.spans[i][0] : doc.spans[i][1]]

    cuts: list[tuple[str, str]] = []
    for i in range(first, last):
        word = doc.words[i]
        start, end = part(i)
        kinds = _claim_kinds(word)
        # A part of the sentence set off by punctuation and cut whole, with words of its own
        # besides the negation or modal ("The film, which is not subtle, works"): the negation
        # is the cut part's, not the kept words'. A part that is nothing but the qualifier
        # (", perhaps,") qualifies the sentence around it.
        if (
            kinds
            and first <= start
            and end <= last
            and any(not _claim_kinds(doc.words[j]) for j in range(start, end))
        ):
            continue
        if "negation" in kinds and doc.words[last - 1] == "but" and i < last - 1:
            between = doc.text[doc.spans[i][1] : doc.spans[last - 1][0]]
            if not _CLAUSE_BREAK.search(between):
                kinds.remove("negation")  # "not A, but B" cut to "... B": B is what it says
        cuts.extend((spelt(i), _WHAT[kind]) for kind in kinds)
        if word in LIMITERS:
            negation = next((j for j in range(start, first) if _negates(doc.words[j])), None)
            if negation is not None:
                cuts.append((spelt(i), f"a word of degree, under the kept “{spelt(negation)}”"))
    return tuple(cuts)


def _elision_note(context: str, cuts: Sequence[tuple[str, str]]) -> str:
    words = list(dict.fromkeys(word for word, _ in cuts))
    kinds = [" and ".join(what for w, what in cuts if w == word) for word in words]
    cut = _listed([f"“{word}” ({kind})" for word, kind in zip(words, kinds, strict=True)])
    kept = _listed([f"“{word}”" for word in words])
    return (
        f"{_ELISION_NOTE}“{context}” cuts {cut} from the sentence it quotes, so the quotation "
        f"says what {_CLAIMED}: quote the words it cuts, or keep {kept}"
    )


def elision_problems(
    source: str, start: int, end: int, *, corpus: Corpus | None = None
) -> list[str]:
    """What is wrong with leaving ``corpus.text(source)[start:end]`` out of a quotation with an
    elision (empty: nothing), under the rules of the module docstring. ``start`` is where the
    last word kept before the elision ends, ``end`` where the first word kept after it begins.
    Each problem is a sentence (without its full stop) that names the elision by the source's
    words around it: ``The elision in “The Perfection ... merely background” cuts “isn’t” (a
    negation) from the sentence it quotes, …``."""
    corpus = corpus or load_corpus()
    doc = _document(corpus, corpus.resolve(source))
    first = next((i for i, (a, _) in enumerate(doc.spans) if a >= start), len(doc.words))
    last = next((i for i, (a, _) in enumerate(doc.spans) if a >= end), len(doc.words))
    cuts = _elision_cuts(corpus, doc.source, first, last)
    if not cuts:
        return []
    before = doc.text[doc.spans[max(0, first - 2)][0] : doc.spans[first - 1][1]]
    after = doc.text[doc.spans[last][0] : doc.spans[min(len(doc.words), last + 2) - 1][1]]
    return [_elision_note(f"{before} ... {after}", cuts)]


# ---------------------------------------------------------------------------------------------
# Parsing a quotation


@dataclass(frozen=True)
class _Gap:
    """A bracketed insertion between words: stands for 0..BRACKET_MAX_WORDS source words."""

    text: str


_Item = str | _Gap


@dataclass(frozen=True)
class _Piece:
    items: tuple[_Item, ...]
    text: str
    mark: str = ""  # the elision before the piece, as written (none before the first)

    @property
    def words(self) -> list[str]:
        return [i for i in self.items if isinstance(i, str)]


@dataclass(frozen=True)
class _Parsed:
    pieces: tuple[_Piece, ...]
    loose: tuple[_Gap, ...]  # brackets not located: at a piece's start or end, or in no piece
    own_words: int  # the quotation's words that are not in brackets (hyphenated = one)
    bracket_words: int  # the words its brackets hold


def parse_quotation(quote: str) -> list[_Piece]:
    """Split a quotation at elisions into pieces of words and bracketed gaps."""
    return list(_parse(quote).pieces)


def _parse(quote: str) -> _Parsed:
    pieces: list[_Piece] = []
    loose: list[_Gap] = []
    own = held = 0
    parts = _ELISION_SPLIT.split(quote)
    for n, chunk in enumerate(parts[0::2]):
        mark = parts[2 * n - 1].strip() if n else ""
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
            own += len(_COUNTED_WORD.findall(_unbracket(chunk[cursor : bracket.start()])))
            items.append(_Gap(bracket.group(1)))
            held += len(_COUNTED_WORD.findall(bracket.group(1)))
            cursor = bracket.end()
        items.extend(_words(chunk[cursor:]))
        own += len(_COUNTED_WORD.findall(_unbracket(chunk[cursor:])))
        # gaps at the edges add context and are not located in the source
        while items and isinstance(edge := items[0], _Gap):
            loose.append(edge)
            items.pop(0)
        while items and isinstance(edge := items[-1], _Gap):
            loose.append(edge)
            items.pop()
        if items:
            pieces.append(_Piece(tuple(items), chunk.strip(), mark if pieces else ""))
    return _Parsed(tuple(pieces), tuple(loose), own, held)


def _unbracket(text: str) -> str:
    return text.replace("[", "").replace("]", "")


def _words(text: str) -> list[str]:
    return [normalise_word(w) for w in WORD_PATTERN.findall(_unbracket(text))]


# ---------------------------------------------------------------------------------------------
# Exact matching

# One way a piece occurs: (first word, last word + 1) and, for each of its gaps, how many of the
# source's words it stands for.
_PieceMatch = tuple[int, int, tuple[int, ...]]


def _piece_matches(doc: _Document, piece: _Piece, wide: int | None = None) -> Iterator[_PieceMatch]:
    """Every (first word, last word + 1, gap sizes) where ``piece`` occurs in ``doc``. The gap
    at item ``wide``, if any, may stand for up to ELISION_MAX_GAP_WORDS words (to say so)."""
    first = piece.items[0]
    assert isinstance(first, str)
    for start in doc.positions.get(first, ()):
        for end, skips in _match_from(doc, piece.items, 1, start + 1, wide):
            yield start, end, skips


def _match_from(
    doc: _Document, items: Sequence[_Item], i: int, pos: int, wide: int | None
) -> Iterator[tuple[int, tuple[int, ...]]]:
    if i == len(items):
        yield pos, ()
        return
    item = items[i]
    if isinstance(item, _Gap):
        most = ELISION_MAX_GAP_WORDS if i == wide else BRACKET_MAX_WORDS
        for skip in range(most + 1):
            if pos + skip <= len(doc.words):
                for end, skips in _match_from(doc, items, i + 1, pos + skip, wide):
                    yield end, (skip, *skips)
        return
    if pos < len(doc.words) and doc.words[pos] == item:
        yield from _match_from(doc, items, i + 1, pos + 1, wide)


# A piece's place with what its brackets stand for there: (first word, last word + 1, gap
# sizes, the bracket problems of the gaps at those sizes).
_Placed = tuple[int, int, tuple[int, ...], tuple[str, ...]]


def _chain_matches(
    doc: _Document,
    pieces: Sequence[_Piece],
    corpus: Corpus,
    wide: tuple[int, int] | None = None,
) -> list[tuple[_Placed, ...]]:
    """Every way the pieces occur in order, each close after the one before. Where the gaps can
    fill a span in several ways, the way with the fewest bracket problems is taken, then the one
    with the fewest source words in brackets."""
    per_piece: list[list[_Placed]] = []
    for number, piece in enumerate(pieces):
        widened = wide[1] if wide is not None and wide[0] == number else None
        best: dict[tuple[int, int], _Placed] = {}
        for start, end, skips in _piece_matches(doc, piece, widened):
            problems = tuple(_gap_problems(doc, piece, start, skips, corpus)) if skips else ()
            known = best.get((start, end))
            if known is None or (len(problems), sum(skips)) < (len(known[3]), sum(known[2])):
                best[(start, end)] = (start, end, skips, problems)
        per_piece.append(sorted(best.values()))
    chains: list[tuple[_Placed, ...]] = []

    def extend(i: int, chain: tuple[_Placed, ...]) -> None:
        if len(chains) >= MAX_MATCHES:
            return
        if i == len(pieces):
            chains.append(chain)
            return
        for placed in per_piece[i]:
            if chain:
                previous_end = chain[-1][1]
                if placed[0] < previous_end or placed[0] - previous_end > ELISION_MAX_GAP_WORDS:
                    continue
            extend(i + 1, (*chain, placed))

    extend(0, ())
    return chains


@dataclass(frozen=True)
class _Located:
    match: Match
    problems: tuple[str, ...]  # the bracket rules this place of the quotation breaks
    bracketed: int  # the source's words its brackets stand for


def _locate(
    parsed: _Parsed,
    corpus: Corpus,
    *,
    wide: tuple[int, int] | None = None,
    source: str | None = None,
) -> list[_Located]:
    """Every place the quotation's words occur (in ``source``, if given), each with the bracket
    problems it has there. ``wide`` is (piece, item) of a gap that may stand for up to
    ELISION_MAX_GAP_WORDS words, to find where a bracket stands for too many."""
    if not parsed.pieces:
        return []
    loose = [n for gap in parsed.loose for n in _bracket_notes(gap.text, (), corpus)]
    overall = []
    if parsed.bracket_words > parsed.own_words:
        overall.append(
            f"Your bracketed words ({parsed.bracket_words}) outnumber the source's own "
            f"({parsed.own_words}); the source's words must carry a quotation"
        )
    found: list[_Located] = []
    for doc in _indexed(corpus):
        if source is not None and doc.source != source:
            continue
        for chain in _chain_matches(doc, parsed.pieces, corpus, wide):
            problems = [
                *loose,
                *(problem for placed in chain for problem in placed[3]),
                *_elided_problems(doc, parsed.pieces, chain, corpus),
                *overall,
            ]
            spans = tuple((doc.spans[a][0], doc.spans[b - 1][1]) for a, b, _, _ in chain)
            start, end = spans[0][0], spans[-1][1]
            match = Match(
                doc.source,
                corpus.paragraph_of(doc.source, start),
                start,
                end,
                doc.text[start:end],
                spans,
            )
            found.append(
                _Located(match, tuple(dict.fromkeys(problems)), sum(sum(c[2]) for c in chain))
            )
    return found


def _elided_problems(
    doc: _Document, pieces: Sequence[_Piece], chain: Sequence[_Placed], corpus: Corpus
) -> Iterator[str]:
    """The elision rules this place of the quotation breaks: one note for each elision inside one
    sentence that cuts a negation, a modal or a word of degree of the words it keeps."""
    for number in range(1, len(chain)):
        cuts = _elision_cuts(corpus, doc.source, chain[number - 1][1], chain[number][0])
        if cuts:
            before, after = pieces[number - 1].text.split(), pieces[number].text.split()
            context = " ".join([*before[-3:], pieces[number].mark or "...", *after[:3]])
            yield _elision_note(context, cuts)


def _gap_problems(
    doc: _Document, piece: _Piece, start: int, skips: tuple[int, ...], corpus: Corpus
) -> list[str]:
    problems: list[str] = []
    pos, gap = start, 0
    for item in piece.items:
        if isinstance(item, str):
            pos += 1
            continue
        skip = skips[gap]
        replaced = tuple(doc.text[a:b] for a, b in doc.spans[pos : pos + skip])
        problems.extend(_bracket_notes(item.text, replaced, corpus))
        pos, gap = pos + skip, gap + 1
    return problems


def find_matches(quote: str, corpus: Corpus | None = None) -> list[Match]:
    """Every place in the corpus where ``quote`` occurs, under the rules above (brackets
    included: a place where a bracket breaks them is not one)."""
    corpus = corpus or load_corpus()
    return [found.match for found in _locate(_parse(quote), corpus) if not found.problems]


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
    parsed = _parse(quote)
    pieces = list(parsed.pieces)
    if not pieces:
        return Verdict(
            quote, Status.NOT_FOUND, attributed, message="The quotation has no words to check."
        )
    # the vocabulary of the bracket rules and the sentences of the elision rules, with the index
    _lexicon(), _names(corpus), _sentences(corpus)
    located = _locate(parsed, corpus)
    matches = tuple(found.match for found in located if not found.problems)
    where = f" in {attributed}" if attributed else ""
    if not matches:
        flawed = [found for found in located if found.problems]
        if not located:
            # a bracket may stand for more source words than it may: find which, to say so
            for number, piece in enumerate(pieces):
                for item, gap in enumerate(piece.items):
                    if isinstance(gap, _Gap):
                        wide = (number, item)
                        flawed += _locate(parsed, corpus, wide=wide, source=attributed)
        flawed = [f for f in flawed if attributed is None or f.match.source == attributed]
        if flawed:
            return _flawed_verdict(quote, attributed, parsed, flawed, corpus)
    if matches and (attributed is None or any(m.source == attributed for m in matches)):
        own = [m for m in matches if attributed is None or m.source == attributed]
        more = f" and {len(own) - 3} more places" if len(own) > 3 else ""
        if attributed:  # the source is named once: "Verified in nothing-perfect ¶1, ¶4."
            paragraphs = ", ".join(f"¶{m.paragraph}" for m in own[:3])
            message = f"Verified{where} {paragraphs}{more}."
        else:
            places = ", ".join(f"{m.source} ¶{m.paragraph}" for m in own[:3])
            message = f"Verified: {places}{more}."
        return Verdict(quote, Status.VERIFIED, attributed, matches, None, message)
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


def _flawed_verdict(
    quote: str, attributed: str | None, parsed: _Parsed, flawed: Sequence[_Located], corpus: Corpus
) -> Verdict:
    """The near-miss of a quotation whose words occur only with a bracket or an elision the rules
    report."""
    best = min(flawed, key=lambda f: (len(f.problems), f.bracketed, f.match.source, f.match.start))
    match = best.match
    doc = next(d for d in _indexed(corpus) if d.source == match.source)
    a = next(i for i, (s, _) in enumerate(doc.spans) if s == match.start)
    b = next(i for i, (_, e) in enumerate(doc.spans) if e == match.end) + 1
    quoted = " ".join(w for piece in parsed.pieces for w in _words(piece.text))
    similarity = fuzz.ratio(quoted, " ".join(doc.words[a:b])) / 100
    closest = Closest(
        match.source,
        match.paragraph,
        match.start,
        match.end,
        match.text,
        similarity,
        best.problems,
    )
    elided = [problem for problem in best.problems if problem.startswith(_ELISION_NOTE)]
    bracketed = [problem for problem in best.problems if problem not in elided]
    rules = []
    if any(_CLAIMED in problem for problem in bracketed):
        rules.append(
            "A bracket may say whom or what the source means, or fit its words to your "
            "sentence; it may not add a claim."
        )
    if elided:
        rules.append(
            "An elision may leave words out of a sentence, but not a word that reverses or "
            "qualifies what the words it keeps say."
        )
    if bracketed:
        rules.append("Quote the source's words, or put your own outside the quotation marks:")
    where = f"{match.source} ¶{match.paragraph} has “{_shorten(match.text, 200)}”."
    return Verdict(
        quote,
        Status.NEAR_MISS,
        attributed,
        (),
        closest,
        f"Not as the source has it. {'. '.join(best.problems)}. {' '.join([*rules, where])}",
    )


def _unmatched_piece(pieces: Sequence[_Piece], corpus: Corpus) -> _Piece | None:
    for piece in pieces:
        if not any(next(_piece_matches(doc, piece), None) for doc in _indexed(corpus)):
            return piece
    return None


__all__ = [
    "APPROXIMATORS",
    "BRACKET_MAX_WORDS",
    "CONNECTIVES",
    "DEGREE_WORDS",
    "ELISION_MAX_GAP_WORDS",
    "LIMITERS",
    "MODALS",
    "NEAR_MISS_THRESHOLD",
    "NEGATIONS",
    "Closest",
    "Match",
    "Status",
    "UnknownSourceError",
    "Verdict",
    "bracket_problems",
    "closest_passage",
    "elision_problems",
    "find_matches",
    "normalise_word",
    "parse_quotation",
    "verify",
]
