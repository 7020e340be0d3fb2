"""The corpus is the originals minus logged whole lines, and the manifest says only what the texts say."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from filmkit.corpus import KINDS, derive_text, read_manifest
from filmkit.provenance import (
    CleaningLogError,
    Removal,
    apply_removals,
    count_words,
    read_cleaning_log,
    sha256_file,
    sha256_text,
    split_lines,
)

from .conftest import REPO, SEEDS

TEXTS = REPO / "source_texts"
MANIFEST = read_manifest(TEXTS / "manifest.csv")
LOG = read_cleaning_log(TEXTS / "cleaning_log.csv")
IDS = list(MANIFEST["id"])


def row(source: str) -> dict[str, str]:
    return {k: str(v) for k, v in MANIFEST.set_index("id").loc[source].items()}


def test_five_sources_one_per_seed() -> None:
    originals = sorted(p.name for p in (TEXTS / "originals").iterdir())
    assert sorted(MANIFEST["original_file"]) == originals
    assert len(IDS) == len(originals) == 5


@pytest.mark.parametrize("source", IDS)
def test_cleaned_text_rederives_from_original_and_log(source: str) -> None:
    original_file = row(source)["original_file"]
    original = (TEXTS / "originals" / original_file).read_text(encoding="utf-8")
    removals = [r for r in LOG if r.original_file == original_file]
    stored = (TEXTS / f"{source}.txt").read_text(encoding="utf-8")
    assert apply_removals(original, removals, original_name=original_file) == stored
    assert derive_text(TEXTS, source) == stored


@pytest.mark.parametrize("source", IDS)
def test_manifest_checksums_and_word_counts_match_the_files(source: str) -> None:
    record = row(source)
    stored = (TEXTS / f"{source}.txt").read_text(encoding="utf-8")
    assert sha256_text(stored) == record["sha256"]
    assert sha256_file(TEXTS / "originals" / record["original_file"]) == record["original_sha256"]
    assert count_words(stored) == int(record["words"])


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
@pytest.mark.parametrize("source", IDS)
def test_originals_are_the_seeds_as_received(source: str) -> None:
    name = row(source)["original_file"]
    assert (TEXTS / "originals" / name).read_bytes() == (SEEDS / name).read_bytes()


def test_every_log_entry_names_a_source_and_gives_a_reason() -> None:
    by_file = dict(zip(MANIFEST["original_file"], MANIFEST["id"], strict=True))
    assert LOG, "the originals carry site furniture; the log must record its removal"
    for removal in LOG:
        assert by_file[removal.original_file] == removal.id
        assert removal.reason.strip()


@pytest.mark.parametrize("source", IDS)
def test_cleaning_removes_whole_lines_and_keeps_typography(source: str) -> None:
    record = row(source)
    original = (TEXTS / "originals" / record["original_file"]).read_text(encoding="utf-8")
    stored = (TEXTS / f"{source}.txt").read_text(encoding="utf-8")
    kept = split_lines(stored)
    remaining = iter(split_lines(original))
    # every stored line is an original line, in order, unchanged
    assert all(any(line == candidate for candidate in remaining) for line in kept)
    removed_text = "".join(r.text for r in LOG if r.id == source)
    for mark in "’“”‘–—\u00a0":
        assert stored.count(mark) == original.count(mark) - removed_text.count(mark)


def test_a_log_that_misquotes_the_line_is_rejected() -> None:
    with pytest.raises(CleaningLogError, match=r"line 1 of x\.txt reads 'first'"):
        apply_removals(
            "first\nsecond\n", [Removal("x.txt", "x", 1, "other", "test")], original_name="x.txt"
        )
    with pytest.raises(CleaningLogError, match="has 2 lines"):
        apply_removals(
            "first\nsecond\n", [Removal("x.txt", "x", 9, "", "test")], original_name="x.txt"
        )


def test_ids_are_short_stable_slugs_and_kinds_known() -> None:
    for source in IDS:
        assert re.fullmatch(r"[a-z]+(?:-[a-z]+)*", source) and len(source) <= 30
    assert set(MANIFEST["kind"]) <= set(KINDS)


@pytest.mark.parametrize("source", IDS)
def test_manifest_invents_nothing(source: str) -> None:
    """Every title, author and outlet given is in the original; a date is one the text gives."""
    record = row(source)
    original = (TEXTS / "originals" / record["original_file"]).read_text(encoding="utf-8")
    for field in ("title", "author", "outlet"):
        if record[field]:
            assert record[field] in original, f"{field} {record[field]!r} is not in the text"
    if record["published"]:
        date = datetime.strptime(record["published"], "%Y-%m-%d")
        written = re.search(r"Published on: (\w+ \d{1,2}, \d{4})", original)
        assert written, "a publication date must come from the text"
        assert datetime.strptime(written.group(1), "%B %d, %Y") == date


def test_texts_without_byline_leave_author_empty() -> None:
    for source in IDS:
        original = (TEXTS / "originals" / row(source)["original_file"]).read_text(encoding="utf-8")
        if not re.search(r"\b(?:Reviewed by|Written by|By)\b", original):
            assert row(source)["author"] == ""
