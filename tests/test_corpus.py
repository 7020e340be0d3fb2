"""Loading the corpus: verified on every load, split with exact offsets, cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmkit.corpus import (
    AmbiguousSourceError,
    Corpus,
    CorpusIntegrityError,
    UnknownSourceError,
    load_corpus,
    rebuild,
    verify_corpus,
)


def test_documents_carry_manifest_and_text(corpus: Corpus) -> None:
    docs = corpus.documents
    assert list(docs["id"]) == corpus.ids
    for row in docs.itertuples():
        assert len(str(row.text)) > 1000
        assert corpus.text(str(row.id)) == row.text


def test_paragraph_offsets_are_exact_and_in_order(corpus: Corpus) -> None:
    for source, group in corpus.paragraphs.groupby("source"):
        text = corpus.text(str(source))
        assert list(group["paragraph"]) == list(range(len(group)))
        for p in group.itertuples():
            assert text[p.start : p.end] == p.text
            assert p.text == p.text.strip() and "\n\n" not in p.text
        assert (group["start"].diff().dropna() > 0).all()


def test_sentences_lie_inside_their_paragraphs(corpus: Corpus) -> None:
    paragraphs = corpus.paragraphs.set_index(["source", "paragraph"])
    for s in corpus.sentences.itertuples():
        text = corpus.text(s.source)
        assert text[s.start : s.end] == s.text and s.text.strip() == s.text
        para = paragraphs.loc[(s.source, s.paragraph)]
        assert para["start"] <= s.start < s.end <= para["end"]


def test_sentence_splitting_separates_sentences(corpus: Corpus) -> None:
    """A paragraph of several sentences yields several rows, each ending in its punctuation."""
    sentences = corpus.sentences
    counts = sentences.groupby(["source", "paragraph"]).size()
    assert counts.max() > 5
    long_paragraphs = counts[counts > 3].index
    endings = sentences.set_index(["source", "paragraph"]).loc[long_paragraphs, "text"].str[-1]
    assert endings.isin(list('.?!”’"):')).mean() > 0.95


def test_paragraph_of_finds_the_containing_paragraph(corpus: Corpus) -> None:
    for p in corpus.paragraphs.itertuples():
        assert corpus.paragraph_of(p.source, p.start) == p.paragraph
        assert corpus.paragraph_of(p.source, p.end - 1) == p.paragraph


def test_repeated_loads_reuse_the_split(corpus: Corpus) -> None:
    assert load_corpus() is load_corpus()


def test_frames_are_copies_so_the_cache_cannot_be_corrupted(corpus: Corpus) -> None:
    docs = corpus.documents
    docs.loc[:, "text"] = "changed"
    assert load_corpus().documents["text"].str.len().min() > 1000


def test_altered_text_is_refused_with_file_and_line(corpus_copy: Path) -> None:
    path = corpus_copy / "source_texts" / "nothing-perfect.txt"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("Steven Webber", "Steven Weber"), encoding="utf-8")
    line = original[: original.index("Steven Webber")].count("\n") + 1
    with pytest.raises(CorpusIntegrityError) as error:
        load_corpus(corpus_copy)
    message = str(error.value)
    assert "nothing-perfect.txt" in message
    assert f"line {line}," in message
    assert "Steven Webber" in message and "Steven Weber)" in message
    assert "filmkit corpus --rebuild" in message


def test_verifying_without_loading_refuses_what_loading_refuses(corpus_copy: Path) -> None:
    assert verify_corpus(corpus_copy) == load_corpus(corpus_copy).ids
    path = corpus_copy / "source_texts" / "worth-watching.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn added line.", encoding="utf-8")
    with pytest.raises(CorpusIntegrityError, match=r"worth-watching\.txt differs"):
        verify_corpus(corpus_copy)


def test_missing_text_is_refused_by_name(corpus_copy: Path) -> None:
    (corpus_copy / "source_texts" / "worth-watching.txt").unlink()
    with pytest.raises(CorpusIntegrityError, match=r"worth-watching\.txt is missing"):
        load_corpus(corpus_copy)


def test_tampering_after_a_cached_load_is_still_caught(corpus_copy: Path) -> None:
    load_corpus(corpus_copy)
    path = corpus_copy / "source_texts" / "worth-watching.txt"
    path.write_text(
        path.read_text(encoding="utf-8") + "\nA sentence nobody wrote.", encoding="utf-8"
    )
    with pytest.raises(CorpusIntegrityError, match="worth-watching"):
        load_corpus(corpus_copy)


def test_a_remembered_text_changed_in_place_is_hashed_again(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text verified once is not re-hashed while its file is unchanged; a change of the same
    size, in place, still moves the file's change time and is caught."""
    import filmkit.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "_SETTLED_NS", 0)  # remember even a file just copied
    path = corpus_copy / "source_texts" / "worth-watching.txt"
    load_corpus(corpus_copy)
    assert path in corpus_module._verified
    text = path.read_text(encoding="utf-8")
    swapped = text.replace("e", "a", 1)
    assert len(swapped.encode()) == len(text.encode()) and swapped != text
    path.write_text(swapped, encoding="utf-8")
    with pytest.raises(CorpusIntegrityError, match="worth-watching"):
        load_corpus(corpus_copy)


def test_a_text_changed_just_now_is_not_remembered(corpus_copy: Path) -> None:
    """Within a clock tick a second change may leave the file's times as they were: a file
    changed in the last two seconds is verified on every load, never remembered."""
    import filmkit.corpus as corpus_module

    load_corpus(corpus_copy)
    assert not any(p.is_relative_to(corpus_copy) for p in corpus_module._verified)


def test_rebuild_restores_an_altered_text_from_its_original(corpus_copy: Path) -> None:
    path = corpus_copy / "source_texts" / "perfection-explained.txt"
    pristine = path.read_bytes()
    path.write_text("vandalised", encoding="utf-8")
    rebuild(corpus_copy)
    assert path.read_bytes() == pristine
    assert load_corpus(corpus_copy).text("perfection-explained") == pristine.decode("utf-8")


def test_rebuild_refuses_an_altered_original(corpus_copy: Path) -> None:
    original = next((corpus_copy / "source_texts" / "originals").glob("004_*.txt"))
    original.write_text(original.read_text(encoding="utf-8").upper(), encoding="utf-8")
    with pytest.raises(CorpusIntegrityError, match=r"004_.*differs from the original"):
        rebuild(corpus_copy)


@pytest.mark.parametrize(
    ("citation", "field"),
    [("id", "id"), ("author's surname", "author"), ("author's full name", "author")],
)
def test_resolve_by_id_and_author(corpus: Corpus, citation: str, field: str) -> None:
    for record in corpus.documents.itertuples():
        value = str(getattr(record, field))
        if not value:
            continue
        name = value.split()[-1] if citation == "author's surname" else value
        assert corpus.resolve(name) == record.id
        assert corpus.resolve(name.upper()) == record.id


def test_resolve_by_distinctive_title_words(corpus: Corpus) -> None:
    for record in corpus.documents.itertuples():
        title = str(record.title)
        if not title:
            continue
        assert corpus.resolve(title) == record.id
        # the title's last two words (e.g. "Perfection, Explained") name it as well, when unique
        tail = " ".join(title.replace(",", "").split()[-2:])
        others = [str(t) for t in corpus.documents["title"] if t != title]
        if not any(tail.casefold() in o.replace(",", "").casefold() for o in others):
            assert corpus.resolve(tail) == record.id


def test_resolve_refuses_what_names_no_single_source(corpus: Corpus) -> None:
    with pytest.raises(AmbiguousSourceError, match="too general"):
        corpus.resolve("The Perfection")
    with pytest.raises(UnknownSourceError, match="names no source"):
        corpus.resolve("Roger Ebert")
