"""The corpus: five source texts about *The Perfection* (2019), verified and split for analysis.

``load_corpus()`` reads ``source_texts/manifest.csv`` and the cleaned texts, checks every text's
sha256 against the manifest (on every call: an altered or missing text raises
:class:`CorpusIntegrityError` naming the file and the first line that differs), and returns a
:class:`Corpus` with three pandas DataFrames:

- ``documents``: one row per source: the manifest's columns plus ``text``;
- ``paragraphs``: ``source, paragraph, start, end, text``: blocks separated by blank lines;
- ``sentences``: ``source, paragraph, sentence, start, end, text``: split offline by pysbd's rules.

Offsets are character offsets into the stored text: ``documents.text[source][start:end] == text``.
Indices count from 0 within a source. The splitting is cached, keyed by the texts' checksums, so
repeated calls in a notebook cost one read and one hash of each file.

Sources are named by their id (``perfection-explained``), and in citations also by the author's
surname or words of the title: :meth:`Corpus.resolve` does that lookup.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from filmkit.paths import source_texts_dir
from filmkit.provenance import (
    apply_removals,
    count_words,
    read_cleaning_log,
    sha256_file,
    sha256_text,
    split_lines,
)

MANIFEST_COLUMNS: Final = (
    "id",
    "title",
    "author",
    "outlet",
    "published",
    "kind",
    "original_file",
    "original_sha256",
    "sha256",
    "words",
    "notes",
)
KINDS: Final = ("review", "explainer", "feature")
# Columns derived from the files; everything else in the manifest is entered by hand from the text.
DERIVED_COLUMNS: Final = ("original_sha256", "sha256", "words")

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n")
_TITLE_WORD = re.compile(r"\w+")
# Words too common to name a source on their own inside a citation.
_CITATION_STOPWORDS: Final = frozenset(
    {"the", "a", "an", "of", "and", "is", "it", "in", "on", "to", "perfection", "netflix", "s"}
)


class CorpusError(Exception):
    """The corpus cannot be loaded as it stands."""


class CorpusIntegrityError(CorpusError):
    """A stored text is missing or differs from the checksum the manifest records."""


class UnknownSourceError(LookupError):
    """A citation names no source of the corpus."""


class AmbiguousSourceError(UnknownSourceError):
    """A citation could name more than one source."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per load
class Corpus:
    """The verified corpus. DataFrame properties return copies, so callers may modify them."""

    root: Path
    _documents: pd.DataFrame = field(repr=False)
    _paragraphs: pd.DataFrame = field(repr=False)
    _sentences: pd.DataFrame = field(repr=False)

    @property
    def documents(self) -> pd.DataFrame:
        return self._documents.copy()

    @property
    def paragraphs(self) -> pd.DataFrame:
        return self._paragraphs.copy()

    @property
    def sentences(self) -> pd.DataFrame:
        return self._sentences.copy()

    @property
    def ids(self) -> list[str]:
        return list(self._documents["id"])

    def text(self, source: str) -> str:
        """The stored text of a source, by id."""
        found = self._texts().get(source)
        if found is None:
            raise UnknownSourceError(f"no source with id {source!r}; the ids are {self.ids}")
        return found

    @functools.cache  # noqa: B019 - one Corpus per verified load, kept alive by load_corpus's cache
    def _texts(self) -> dict[str, str]:
        return {
            str(i): str(t)
            for i, t in zip(self._documents["id"], self._documents["text"], strict=True)
        }

    def record(self, source: str) -> dict[str, object]:
        """The manifest row of a source, without its text."""
        rows = self._documents.loc[self._documents["id"] == source]
        if rows.empty:
            raise UnknownSourceError(f"no source with id {source!r}; the ids are {self.ids}")
        return {str(k): v for k, v in rows.iloc[0].to_dict().items() if k != "text"}

    def paragraph_of(self, source: str, offset: int) -> int:
        """Index of the paragraph of ``source`` that contains (or follows) character ``offset``."""
        ends = self._paragraph_ends()[source]
        return min(bisect.bisect_right(ends, offset), len(ends) - 1)

    @functools.cache  # noqa: B019 - one Corpus per verified load, kept alive by load_corpus's cache
    def _paragraph_ends(self) -> dict[str, list[int]]:
        return {
            str(source): [int(e) for e in group["end"]]
            for source, group in self._paragraphs.groupby("source", sort=False)
        }

    def resolve(self, citation: str) -> str:
        """The id of the one source a citation names: its id, its author's name or surname, or
        words of its title in order (``Perfection, Explained``).

        Raises :class:`UnknownSourceError` when the citation names none or several sources.
        """
        wanted = citation.strip().casefold()
        if wanted in self.ids:
            return wanted
        words = _citation_words(citation)
        if not words:
            raise UnknownSourceError(f"{citation!r} does not name a source")
        candidates: list[str] = []
        for row in self._documents.itertuples():
            author = _citation_words(str(row.author))
            title = _citation_words(str(row.title))
            by_author = bool(author) and (words == author or words == author[-1:])
            if by_author or _contains_run(title, words):
                candidates.append(str(row.id))
        if candidates and set(words) <= _CITATION_STOPWORDS:
            raise AmbiguousSourceError(
                f"{citation!r} is too general to name one source: cite the source's id"
            )
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise UnknownSourceError(
                f"{citation!r} names no source: cite an id ({', '.join(self.ids)}), "
                "an author's surname or words of a title"
            )
        raise AmbiguousSourceError(
            f"{citation!r} could be any of {', '.join(candidates)}: cite the source's id"
        )


def _citation_words(text: str) -> list[str]:
    return [w.casefold() for w in _TITLE_WORD.findall(text.replace("’", "'"))]


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


# ---------------------------------------------------------------------------------------------
# Loading and verifying


_cache_lock = threading.Lock()
_cache: dict[tuple[Path, tuple[str, ...]], Corpus] = {}


def load_corpus(root: Path | None = None) -> Corpus:
    """Load and verify the corpus under ``root/source_texts`` (default: this checkout).

    Every call re-reads the manifest and checks every text against its checksum: a text is
    re-hashed unless its file is provably the one this process last verified (see
    :func:`_read_verified`). The paragraph and sentence splitting is reused from an earlier
    call when the checksums are unchanged.
    """
    texts_dir = source_texts_dir(root)
    manifest, texts = _verified_texts(texts_dir)
    ids = list(texts)
    key = (texts_dir.resolve(), tuple(manifest["sha256"]))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached.ids == ids:
            return cached
        corpus = _build(texts_dir.parent, manifest.copy(), texts)
        _cache[key] = corpus
        return corpus


def verify_corpus(root: Path | None = None) -> list[str]:
    """Check every text under ``root/source_texts`` against the manifest, as :func:`load_corpus`
    does, without splitting them (for a process that needs the guarantee, not the corpus: the
    grader, before it records a grade). Returns the source ids; raises as ``load_corpus``."""
    return list(_verified_texts(source_texts_dir(root))[1])


def _verified_texts(texts_dir: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The manifest (the parsed copy shared by every call: not to be changed) and every text,
    each checked against it."""
    path = texts_dir / "manifest.csv"
    if not path.is_file():
        read_manifest(path)  # raises the error that names the file
    manifest = _parse_manifest(str(path), path.read_bytes(), True)
    ids, shas = list(manifest["id"]), list(manifest["sha256"])
    return manifest, {
        i: _read_verified(texts_dir, i, sha) for i, sha in zip(ids, shas, strict=True)
    }


def read_manifest(path: Path, *, derived: bool = True) -> pd.DataFrame:
    """The manifest as strings, ``words`` as int; ``derived=False`` skips the derived columns'
    checks (for re-deriving a text before its checksums exist)."""
    if not path.is_file():
        raise CorpusError(f"{path} is missing: the corpus needs its manifest (see source_texts/)")
    # re-read on every call; parsed again only when its bytes changed (a test that loads the
    # corpus in every check would otherwise spend most of its time in read_csv)
    return _parse_manifest(str(path), path.read_bytes(), derived).copy()


@functools.lru_cache(maxsize=8)
def _parse_manifest(path: str, data: bytes, derived: bool) -> pd.DataFrame:
    manifest = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    missing = [c for c in MANIFEST_COLUMNS if c not in manifest.columns]
    if missing:
        raise CorpusError(f"{path} lacks the column(s) {', '.join(missing)}")
    bad_kinds = sorted(set(manifest["kind"]) - set(KINDS))
    if bad_kinds:
        raise CorpusError(f"{path}: kind must be one of {', '.join(KINDS)}, found {bad_kinds}")
    if manifest["id"].duplicated().any():
        raise CorpusError(
            f"{path}: duplicate ids {sorted(manifest['id'][manifest['id'].duplicated()])}"
        )
    if derived:
        unset = manifest.loc[(manifest["sha256"] == "") | (manifest["words"] == ""), "id"]
        if not unset.empty:
            raise CorpusError(
                f"{path}: no checksum for {', '.join(unset)}: run `filmkit corpus --rebuild`"
            )
        manifest["words"] = manifest["words"].astype(int)
    return manifest


# path → (the file's status when verified, its checksum, its text)
_verified: dict[Path, tuple[tuple[int, ...], str, str]] = {}
# A file changed this recently may change again within one tick of the file system's clock
# without its times moving ("racy git"): it is verified but not remembered.
_SETTLED_NS: Final = 2_000_000_000


def _read_verified(texts_dir: Path, source: str, expected_sha: str) -> str:
    """The text of ``source``, checked against ``expected_sha``.

    The file is read and hashed unless this process already verified it and its status is
    unchanged since: same device, inode, size, modification time and change time. A file's
    contents cannot change without its change time (ctime) moving, and no user call can set
    ctime, so an unchanged status means unchanged bytes; a file changed within the last two
    seconds is never remembered, so a second change within one clock tick is still seen."""
    path = texts_dir / f"{source}.txt"
    try:
        st = path.stat()
    except OSError:
        st = None
    if st is not None:
        status = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        kept = _verified.get(path)
        if kept is not None and kept[0] == status and kept[1] == expected_sha:
            return kept[2]
    text = _read_and_check(texts_dir, source, expected_sha)
    if st is not None and time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS:
        _verified[path] = (status, expected_sha, text)
    return text


def _read_and_check(texts_dir: Path, source: str, expected_sha: str) -> str:
    path = texts_dir / f"{source}.txt"
    if not path.is_file():
        raise CorpusIntegrityError(
            f"{path} is missing (manifest.csv lists source {source!r}). Restore it with "
            f"`git checkout -- {path.relative_to(texts_dir.parent)}` "
            "or re-derive it with `filmkit corpus --rebuild`."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorpusIntegrityError(
            f"{path} is not valid UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    actual = sha256_text(text)
    if actual != expected_sha:
        raise CorpusIntegrityError(
            f"{path} differs from the text the manifest records: sha256 {actual[:12]}… "
            f"instead of {expected_sha[:12]}…; {_describe_difference(texts_dir, source, text)}. "
            "Restore it with `git checkout`, or re-derive it from its original and the cleaning "
            "log with `filmkit corpus --rebuild`."
        )
    return text


def _describe_difference(texts_dir: Path, source: str, text: str) -> str:
    """Say where ``text`` departs from what the original and the cleaning log derive."""
    try:
        expected = derive_text(texts_dir, source)
    except (CorpusError, OSError, ValueError):
        return "its original could not be re-derived to show where"
    got, want = split_lines(text), split_lines(expected)
    for number, (g, w) in enumerate(zip(got, want, strict=False), 1):
        if g != w:
            column = next(
                (i for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b),
                min(len(g), len(w)),
            )
            return (
                f"first difference at line {number}, column {column + 1}: "
                f"expected {_around(w, column)!r}, found {_around(g, column)!r}"
            )
    if len(got) != len(want):
        return f"it has {len(got)} lines where {len(want)} are expected"
    return "the difference is in the manifest's checksum, not the text"


def _around(line: str, column: int, width: int = 30) -> str:
    line = line.rstrip("\n")
    start = max(0, column - width)
    return (
        ("…" if start else "")
        + line[start : column + width]
        + ("…" if column + width < len(line) else "")
    )


def derive_text(texts_dir: Path, source: str) -> str:
    """Re-derive a cleaned text: its original (checksum-verified) minus the lines the log removes."""
    manifest = read_manifest(texts_dir / "manifest.csv", derived=False)
    row = manifest.loc[manifest["id"] == source]
    if row.empty:
        raise CorpusError(f"manifest.csv has no source {source!r}")
    original_file = str(row["original_file"].iloc[0])
    original = texts_dir / "originals" / original_file
    if sha256_file(original) != row["original_sha256"].iloc[0]:
        raise CorpusIntegrityError(
            f"{original} differs from the original the manifest records (original_sha256): "
            f"restore it from ../shared/seeds/{original_file} or with `git checkout`"
        )
    removals = [
        r
        for r in read_cleaning_log(texts_dir / "cleaning_log.csv")
        if r.original_file == original_file
    ]
    return apply_removals(
        original.read_text(encoding="utf-8"), removals, original_name=original_file
    )


def rebuild(root: Path | None = None) -> pd.DataFrame:
    """Re-derive every cleaned text from its original and the cleaning log, and refresh the
    manifest's derived columns (checksums, word counts). Hand-entered columns are kept.

    The originals' checksums are taken as recorded when present: an altered original is an error
    here, not a new baseline. A new source gets its ``original_sha256`` on its first rebuild.
    """
    texts_dir = source_texts_dir(root)
    manifest_path = texts_dir / "manifest.csv"
    manifest = pd.read_csv(manifest_path, dtype=str, keep_default_na=False)
    for column in MANIFEST_COLUMNS:
        if column not in manifest.columns:
            manifest[column] = ""
    for index, row in manifest.iterrows():
        original = texts_dir / "originals" / str(row["original_file"])
        if not row["original_sha256"]:
            manifest.at[index, "original_sha256"] = sha256_file(original)
    _write_manifest(manifest_path, manifest)
    for index, row in manifest.iterrows():
        text = derive_text(texts_dir, str(row["id"]))
        (texts_dir / f"{row['id']}.txt").write_text(text, encoding="utf-8", newline="")
        manifest.at[index, "sha256"] = sha256_text(text)
        manifest.at[index, "words"] = str(count_words(text))
    _write_manifest(manifest_path, manifest)
    return read_manifest(manifest_path)


def _write_manifest(path: Path, manifest: pd.DataFrame) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for row in manifest[list(MANIFEST_COLUMNS)].itertuples(index=False):
            writer.writerow(row)


# ---------------------------------------------------------------------------------------------
# Splitting


def _build(root: Path, manifest: pd.DataFrame, texts: dict[str, str]) -> Corpus:
    documents = manifest.copy()
    documents["text"] = [texts[str(i)] for i in documents["id"]]
    paragraph_rows: list[dict[str, object]] = []
    sentence_rows: list[dict[str, object]] = []
    for source, text in texts.items():
        for p_index, (p_start, p_end) in enumerate(paragraph_spans(text)):
            paragraph_rows.append(
                {
                    "source": source,
                    "paragraph": p_index,
                    "start": p_start,
                    "end": p_end,
                    "text": text[p_start:p_end],
                }
            )
            for s_index, (s_start, s_end) in enumerate(sentence_spans(text, p_start, p_end)):
                sentence_rows.append(
                    {
                        "source": source,
                        "paragraph": p_index,
                        "sentence": s_index,
                        "start": s_start,
                        "end": s_end,
                        "text": text[s_start:s_end],
                    }
                )
    paragraphs = pd.DataFrame(
        paragraph_rows, columns=["source", "paragraph", "start", "end", "text"]
    )
    sentences = pd.DataFrame(
        sentence_rows, columns=["source", "paragraph", "sentence", "start", "end", "text"]
    )
    return Corpus(root=root, _documents=documents, _paragraphs=paragraphs, _sentences=sentences)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the blocks between blank lines, trimmed of surrounding white space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for brk in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        block = text[start:end]
        stripped = block.strip()
        if stripped:
            lead = len(block) - len(block.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
        if brk:
            start = brk.end()
    return spans


_segmenter_lock = threading.Lock()


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within ``text[start:end]``; each line of a block (a list item, a heading
    above its text) is split on its own, since a line break there ends a sentence."""
    with _segmenter_lock:
        segmenter = _segmenter()
        spans: list[tuple[int, int]] = []
        offset = start
        for line in text[start:end].split("\n"):
            cursor = 0
            for piece in segmenter.segment(line) if line.strip() else []:
                sentence = piece.strip()
                if not sentence:
                    continue
                found = line.find(sentence, cursor)
                if found < 0:  # pysbd changed the text; fall back to the rest of the line
                    found, sentence = cursor, line[cursor:].strip()
                spans.append((offset + found, offset + found + len(sentence)))
                cursor = found + len(sentence)
            offset += len(line) + 1
        return spans


@functools.cache
def _segmenter() -> Any:
    # pysbd writes its regexes as plain strings, so Python warns when it first compiles pysbd's
    # modules; that is pysbd's business, not the caller's (notebooks run with warnings as errors).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid escape sequence", DeprecationWarning)
        warnings.filterwarnings("ignore", "invalid escape sequence", SyntaxWarning)
        import pysbd

    return pysbd.Segmenter(language="en", clean=False)
