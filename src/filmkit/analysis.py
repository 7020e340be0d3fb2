"""Text analysis over the corpus, shared by the lessons, the assignments and their tests.

Every function takes an optional :class:`~filmkit.corpus.Corpus` (default: the verified corpus)
and returns a pandas DataFrame whose rows point back into the texts (source, paragraph, offsets),
so a figure or an answer can always be traced to the words behind it.

Terms are matched case-insensitively on word boundaries; a space in a term also matches a hyphen
or dash (``body horror`` finds ``body-horror``), and straight and curly apostrophes are the same.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Final

import pandas as pd

from filmkit.corpus import Corpus, load_corpus

# How the sources label the film's genre. Each label lists the spellings that count for it;
# lesson 01 and assignment 01 use this vocabulary, and instructors may pass their own.
GENRE_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "psychological drama": ("psychological drama",),
    "romance": ("romance", "romantic", "lovemaking"),
    "thriller": ("thriller", "thrillers", "horror-thriller"),
    "horror": ("horror", "horrifying", "horrific"),
    "body horror": ("body horror", "body-horror"),
    "revenge": ("revenge", "vengeance", "vengeful"),
    "B movie": ("B movie", "‘B’ movie"),
    "giallo": ("giallo",),
    "empowerment": ("empowerment",),
    "surrealism": ("surrealism", "surreal"),
}

# Names the sources spell differently (lesson 03's source-criticism exercise).
NAME_VARIANTS: Final[dict[str, tuple[str, ...]]] = {
    "Anton's actor": ("Steven Weber", "Steven Webber"),
    "the director": (
        "Richard Shepard",
        "Richard Shepherd",
        "Richard Shephard",
        "Shepard",
        "Shepherd",
        "Shephard",
    ),
}


# How the sources name the people and the institution of the film's music school (assignment 02).
ROLE_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "mentor": ("mentor", "mentors", "mentorship", "guru"),
    "teacher": ("teacher", "teachers", "trainer", "instructor", "headmaster"),
    "pupil": ("pupil", "student", "students", "prodigy", "starlet", "shishya"),
    "institution": ("academy", "Bachoff", "school", "conservatories", "institute", "institutions"),
}

# The vocabulary of abuse, power and its aftermath that the sources use (assignment 02). The
# labels group the sources' own words; counting them shows which texts name the abuse at all.
POWER_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "abuse": ("abuse", "abuser", "abusive"),
    "sexual abuse": ("molestation", "molest", "raped", "paedophiles", "pervert"),
    "punishment": ("punish", "punished", "punishment"),
    "power": ("power",),
    "control": ("control", "controlled"),
    "victim": ("victim", "victims"),
    "survival": ("survivor", "surviving", "survival", "survive"),
}


def _frozen(value: object) -> Hashable:
    """A hashable stand-in for an argument (raises TypeError for one that has none)."""
    if isinstance(value, Mapping):
        return ("mapping", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("sequence", tuple(_frozen(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_frozen(v) for v in value))
    if isinstance(value, str | int | float | bool) or value is None:
        return (type(value).__name__, value)
    raise TypeError(type(value).__name__)


def _per_corpus(function: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Keep a table computed from a corpus, per corpus object (one per verified load, so new
    texts mean a new key), handing out copies: a caller that changes its table changes nobody
    else's. Assignments' tests compute the same expected tables for every check and every
    student; the grader's workers compute each once and inherit them."""
    kept: dict[tuple[Corpus, Hashable], pd.DataFrame] = {}
    signature = inspect.signature(function)

    @functools.wraps(function)
    def kept_or_computed(*args: Any, **kwargs: Any) -> pd.DataFrame:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        corpus = bound.arguments.pop("corpus", None) or load_corpus()
        try:
            key = (corpus, _frozen(sorted(bound.arguments.items())))
        except TypeError:  # an argument of a kind that cannot be a key: just compute
            return function(**bound.arguments, corpus=corpus)
        if key not in kept:
            if len(kept) >= 256:
                kept.pop(next(iter(kept)))
            kept[key] = function(**bound.arguments, corpus=corpus)
        return kept[key].copy()

    return kept_or_computed


@functools.lru_cache(maxsize=1024)
def term_pattern(term: str) -> re.Pattern[str]:
    """A regex for ``term``: whole words, any case, space ~ hyphen/dash, ’ ~ '."""
    parts = [re.escape(p) for p in re.split(r"[\s\-–—]+", term.strip()) if p]
    body = r"[\s\-–—]+".join(parts)
    body = "".join("['‘’]" if ch in "'‘’" else ch for ch in body)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@_per_corpus
def find_terms(
    terms: Mapping[str, Sequence[str]] | Sequence[str], corpus: Corpus | None = None
) -> pd.DataFrame:
    """Every occurrence of every term: ``label, term, source, paragraph, start, end, text``.

    ``terms`` is either a list of terms (each its own label) or a mapping of label to spellings.
    Overlapping spellings of one label are counted once (``body horror`` is not also ``horror``
    when both are spellings of the same label).
    """
    corpus = corpus or load_corpus()
    vocabulary = {t: (t,) for t in terms} if not isinstance(terms, Mapping) else dict(terms)
    rows: list[dict[str, Any]] = []
    for source in corpus.ids:
        text = corpus.text(source)
        for label, spellings in vocabulary.items():
            taken: list[tuple[int, int]] = []
            # longest spelling first, so a longer phrase claims its words before a shorter one
            for spelling in sorted(spellings, key=len, reverse=True):
                for m in term_pattern(spelling).finditer(text):
                    if any(m.start() < e and s < m.end() for s, e in taken):
                        continue
                    taken.append(m.span())
                    rows.append(
                        {
                            "label": label,
                            "term": spelling,
                            "source": source,
                            "paragraph": corpus.paragraph_of(source, m.start()),
                            "start": m.start(),
                            "end": m.end(),
                            "text": m.group(),
                        }
                    )
    columns = ["label", "term", "source", "paragraph", "start", "end", "text"]
    found = pd.DataFrame(rows, columns=columns)
    return found.sort_values(["source", "start"], kind="stable").reset_index(drop=True)


def term_counts(
    terms: Mapping[str, Sequence[str]] | Sequence[str], corpus: Corpus | None = None
) -> pd.DataFrame:
    """A source × label table of occurrence counts (every source and label present, zeros kept)."""
    corpus = corpus or load_corpus()
    labels = list(terms)
    found = find_terms(terms, corpus)
    table = pd.crosstab(found["source"], found["label"]) if not found.empty else pd.DataFrame()
    table = table.reindex(index=corpus.ids, columns=labels, fill_value=0).astype(int)
    table.index.name, table.columns.name = "source", "label"
    return table


@_per_corpus
def concordance(
    keyword: str,
    corpus: Corpus | None = None,
    *,
    window: int = 6,
    sources: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Keyword in context: ``source, paragraph, start, end, left, keyword, right``.

    ``left`` and ``right`` hold up to ``window`` words of the same paragraph on either side, as
    written; ``keyword`` is the exact matched text, ``start:end`` its span in the source.
    """
    corpus = corpus or load_corpus()
    wanted = set(sources) if sources is not None else None
    pattern = term_pattern(keyword)
    paragraphs = corpus.paragraphs
    rows: list[dict[str, Any]] = []
    for source in corpus.ids:
        if wanted is not None and source not in wanted:
            continue
        text = corpus.text(source)
        for m in pattern.finditer(text):
            paragraph = corpus.paragraph_of(source, m.start())
            bounds = paragraphs[
                (paragraphs["source"] == source) & (paragraphs["paragraph"] == paragraph)
            ]
            p_start, p_end = int(bounds["start"].iloc[0]), int(bounds["end"].iloc[0])
            left_words = text[p_start : m.start()].split()
            right_words = text[m.end() : p_end].split()
            rows.append(
                {
                    "source": source,
                    "paragraph": paragraph,
                    "start": m.start(),
                    "end": m.end(),
                    "left": " ".join(left_words[-window:]) if window else "",
                    "keyword": m.group(),
                    "right": " ".join(right_words[:window]),
                }
            )
    return pd.DataFrame(
        rows, columns=["source", "paragraph", "start", "end", "left", "keyword", "right"]
    )


@functools.cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(text: str) -> dict[str, float]:
    """VADER's scores for a text: ``neg``, ``neu``, ``pos`` and ``compound`` (−1 to 1).

    VADER is a lexicon of everyday English. Horror criticism praises with words it reads as
    negative (“brutal”, “terrifying”, “disturbing”), which is the point lesson 03 makes.
    """
    return {k: float(v) for k, v in _analyzer().polarity_scores(text).items()}


@_per_corpus
def paragraph_sentiment(corpus: Corpus | None = None) -> pd.DataFrame:
    """Sentiment of every paragraph: ``source, paragraph, words, neg, neu, pos, compound, text``."""
    corpus = corpus or load_corpus()
    rows: list[dict[str, Any]] = []
    for p in corpus.paragraphs.itertuples():
        rows.append(
            {
                "source": p.source,
                "paragraph": p.paragraph,
                "words": len(str(p.text).split()),
                **sentiment(str(p.text)),
                "text": p.text,
            }
        )
    return pd.DataFrame(
        rows, columns=["source", "paragraph", "words", "neg", "neu", "pos", "compound", "text"]
    )


def word_sentiment(
    corpus: Corpus | None = None, *, sources: Iterable[str] | None = None
) -> pd.DataFrame:
    """The words of the texts that VADER's lexicon scores: ``source, word, valence, count``."""
    corpus = corpus or load_corpus()
    lexicon: dict[str, float] = _analyzer().lexicon
    wanted = set(sources) if sources is not None else None
    rows: list[dict[str, Any]] = []
    for source in corpus.ids:
        if wanted is not None and source not in wanted:
            continue
        counts = _lexicon_counts(corpus.text(source))
        rows.extend(
            {"source": source, "word": w, "valence": float(lexicon[w]), "count": n}
            for w, n in counts.items()
        )
    table = pd.DataFrame(rows, columns=["source", "word", "valence", "count"])
    return table.sort_values(
        ["source", "count", "word"], ascending=[True, False, True]
    ).reset_index(drop=True)


def lexicon_words(text: str) -> pd.DataFrame:
    """The words of ``text`` that VADER's lexicon scores: ``word, valence, count`` (by first use).

    Shows *why* a passage gets its sentiment score without displaying the passage itself.
    """
    lexicon: dict[str, float] = _analyzer().lexicon
    rows = [
        {"word": w, "valence": float(lexicon[w]), "count": n}
        for w, n in _lexicon_counts(text).items()
    ]
    return pd.DataFrame(rows, columns=["word", "valence", "count"])


def _lexicon_counts(text: str) -> dict[str, int]:
    """How often each word of ``text`` that VADER's lexicon rates occurs, in order of first use."""
    lexicon: dict[str, float] = _analyzer().lexicon
    counts: dict[str, int] = {}
    for word in re.findall(r"[a-z’']+", text.lower()):
        word = word.replace("’", "'")
        if word in lexicon:
            counts[word] = counts.get(word, 0) + 1
    return counts


def lexicon_valence(words: Iterable[str]) -> pd.Series:
    """Each word's valence in VADER's lexicon (−4 to 4), ``NaN`` for a word the lexicon lacks."""
    lexicon: dict[str, float] = _analyzer().lexicon
    wanted = list(dict.fromkeys(words))
    values = [float(lexicon[w.lower()]) if w.lower() in lexicon else float("nan") for w in wanted]
    return pd.Series(values, index=pd.Index(wanted, name="word"), name="valence", dtype=float)


def spelling_table(
    variants: Mapping[str, Sequence[str]] = NAME_VARIANTS, corpus: Corpus | None = None
) -> pd.DataFrame:
    """How each source spells each name: ``name, spelling, source, count`` for spellings used.

    Longer spellings claim their words first, so ``Richard Shepard`` is not also ``Shepard``.
    """
    found = find_terms(
        {f"{name}\x1f{s}": (s,) for name, spellings in variants.items() for s in spellings}, corpus
    )
    if found.empty:
        return pd.DataFrame(columns=["name", "spelling", "source", "count"])
    # the same span claimed by a long and a short spelling counts for the long one only
    found = found.assign(length=found["end"] - found["start"])
    found = found.sort_values("length", ascending=False).drop_duplicates(["source", "start"])
    found = found[~found.apply(lambda r: _inside_longer(r, found), axis=1)]
    found[["name", "spelling"]] = found["label"].str.split("\x1f", expand=True)
    table = found.groupby(["name", "spelling", "source"]).size().rename("count").reset_index()
    return table.sort_values(["name", "spelling", "source"]).reset_index(drop=True)


def _inside_longer(row: pd.Series, found: pd.DataFrame) -> bool:
    same = found[(found["source"] == row["source"]) & (found["length"] > row["length"])]
    return bool(((same["start"] <= row["start"]) & (same["end"] >= row["end"])).any())


__all__ = [
    "GENRE_TERMS",
    "NAME_VARIANTS",
    "POWER_TERMS",
    "ROLE_TERMS",
    "concordance",
    "find_terms",
    "lexicon_valence",
    "lexicon_words",
    "paragraph_sentiment",
    "sentiment",
    "spelling_table",
    "term_counts",
    "term_pattern",
    "word_sentiment",
]


def warm(corpus: Corpus | None = None) -> None:
    """Compute the tables of the course's own vocabularies once (a grading worker calls this
    before it forks: every notebook it runs inherits them instead of recomputing them)."""
    corpus = corpus or load_corpus()
    for terms in (GENRE_TERMS, ROLE_TERMS, POWER_TERMS):
        term_counts(terms, corpus)
    paragraph_sentiment(corpus)
