"""The instructor annotations: documented, well-formed, and every row backed by verified evidence."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from filmkit.analysis import GENRE_TERMS, spelling_table
from filmkit.annotations import (
    CHAPTERS,
    SCHEMAS,
    AnnotationError,
    annotations_dir,
    documented_columns,
    load_annotation,
    verify_annotations,
)
from filmkit.corpus import Corpus
from filmkit.quotations import extract_quotations


@pytest.fixture(scope="module")
def verification() -> pd.DataFrame:
    return verify_annotations()


def csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def test_the_readme_documents_exactly_the_columns_of_every_table() -> None:
    documented = documented_columns()
    assert set(documented) == set(SCHEMAS), "README.md documents a table per annotation"
    files = {p.stem for p in annotations_dir().glob("*.csv")}
    assert files == set(SCHEMAS), "every CSV in annotations/ has a schema, and every schema a file"
    for name, schema in SCHEMAS.items():
        header = csv_header(annotations_dir() / schema.filename)
        assert header == schema.column_names == documented[name], name


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_table_loads_and_has_rows(name: str, corpus: Corpus) -> None:
    table = load_annotation(name, corpus=corpus)
    assert len(table) >= 5
    assert list(table.columns) == SCHEMAS[name].column_names


def test_every_evidence_quotation_is_verified_in_the_source_it_cites(
    verification: pd.DataFrame, corpus: Corpus
) -> None:
    problems = verification[verification["status"] != "verified"]
    assert problems.empty, "\n".join(
        f"{r.annotation} row {r.row} ({r.key}): {r.status}: {r.quotation!r} {r.message}"
        for r in problems.itertuples()
    )
    for r in verification.itertuples():
        located = corpus.text(r.source)[r.start : r.end]
        assert located and corpus.paragraph_of(r.source, r.start) == r.paragraph
        # the located passage holds the quotation's words (it may differ in quotation marks)
        first_word = re.findall(r"\w+", r.quotation)[0]
        assert first_word.casefold() in located.casefold()


def test_every_row_carries_at_least_one_quotation(
    verification: pd.DataFrame, corpus: Corpus
) -> None:
    for name in SCHEMAS:
        table = load_annotation(name, corpus=corpus)
        for index, evidence in enumerate(table["evidence"], 1):
            assert extract_quotations(str(evidence), corpus), f"{name} row {index}"
        rows = set(verification.loc[verification["annotation"] == name, "row"])
        assert rows == set(range(1, len(table) + 1)), name


def test_a_row_about_a_source_is_evidenced_from_that_source(
    verification: pd.DataFrame, corpus: Corpus
) -> None:
    for name, schema in SCHEMAS.items():
        if "source" not in schema.column_names:
            continue
        table = load_annotation(name, corpus=corpus)
        checked = verification[verification["annotation"] == name]
        for r in checked.itertuples():
            assert r.source == table["source"].iloc[r.row - 1], f"{name} row {r.row}"


def test_reception_praises_and_criticisms_are_those_of_the_aspects_table(corpus: Corpus) -> None:
    reception = load_annotation("reception", corpus=corpus).set_index("source")
    aspects = load_annotation("reception_aspects", corpus=corpus)
    assert sorted(reception.index) == sorted(corpus.ids), "one reception row per source"
    for source, row in reception.iterrows():
        for column, stance in (("praises", "praise"), ("criticisms", "criticism")):
            wanted = aspects[(aspects["source"] == source) & (aspects["stance"] == stance)]
            assert sorted(row[column]) == sorted(set(wanted["aspect"])), (source, column)


def test_a_score_is_recorded_exactly_where_a_text_gives_one(corpus: Corpus) -> None:
    reception = load_annotation("reception", corpus=corpus).set_index("source")
    score_like = re.compile(r"\d+\s?%|\b\d+(?:\.\d)?\s?/\s?(?:5|10|100)\b|★")
    scored_texts = {s for s in corpus.ids if score_like.search(corpus.text(s))}
    assert set(reception.index[reception["score"] != ""]) == scored_texts
    for source, row in reception.iterrows():
        if row["score"]:
            assert row["score"] in corpus.text(source)
            percent = re.search(r"(\d+)\s?%", row["score"])
            assert percent and int(percent.group(1)) == row["score_percent"]
        else:
            assert pd.isna(row["score_percent"])


def test_chapters_are_in_order_and_named_placements_quote_the_chapter(corpus: Corpus) -> None:
    chapters = load_annotation("genre_by_chapter", corpus=corpus)
    for r in chapters.itertuples():
        assert r.chapter_order == CHAPTERS.index(r.chapter) + 1
        assert r.genre in GENRE_TERMS
    assert set(chapters["chapter"]) == set(CHAPTERS), "every chapter is annotated"
    named = chapters[chapters["placement"] == "named"]
    assert not named.empty
    for r in named.itertuples():
        quoted = " ".join(q.text for q in extract_quotations(r.evidence, corpus))
        assert re.search(rf"\b{r.chapter}\b", quoted), "a named placement quotes its chapter"


def test_claimed_spellings_are_the_sources_own(corpus: Corpus) -> None:
    claims = load_annotation("factual_claims", corpus=corpus)
    names = claims[claims["topic"].isin(["Anton's actor", "director"])]
    for r in names.itertuples():
        assert r.value in corpus.text(r.source), (r.source, r.value)
    full_names = spelling_table(corpus=corpus)
    full_names = full_names[full_names["spelling"].str.contains(" ")]
    assert set(zip(names["source"], names["value"], strict=True)) == set(
        zip(full_names["source"], full_names["spelling"], strict=True)
    ), "the claims table records every full-name spelling the corpus uses, and only those"


# ---------------------------------------------------------------------------------------------
# Malformed annotations fail loudly, naming the file, the row and the column


def rewrite(root: Path, name: str, edit: dict[str, str], row: int = 0) -> None:
    path = root / "source_texts" / "annotations" / f"{name}.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column, value in edit.items():
        table.loc[row, column] = value
    table.to_csv(path, index=False)


def test_a_missing_or_undocumented_column_is_named(corpus_copy: Path) -> None:
    path = corpus_copy / "source_texts" / "annotations" / "reception.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.drop(columns=["verdict"]).assign(extra="x").to_csv(path, index=False)
    with pytest.raises(AnnotationError, match=r"reception\.csv: missing column\(s\) verdict"):
        load_annotation("reception", root=corpus_copy)
    with pytest.raises(AnnotationError, match="undocumented column"):
        load_annotation("reception", root=corpus_copy)


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("reception", {"evidence": ""}, r"reception\.csv row 1, column 'evidence' is empty"),
        ("reception", {"source": "imdb"}, r"row 1, column 'source': 'imdb' is not a source id"),
        ("reception", {"stance": "great"}, r"column 'stance' must be one of positive"),
        ("reception", {"score_percent": "sixty"}, r"'score_percent' must be an integer"),
        ("reception", {"praises": "acting; cinematography"}, r"'cinematography' not among"),
        ("genre_by_chapter", {"salience": "5"}, r"'salience' must be one of 1, 2, 3"),
        ("framing", {"note": "she is “devious”"}, r"'note' contains quotation marks"),
    ],
)
def test_a_malformed_cell_is_named(
    corpus_copy: Path, name: str, edit: dict[str, str], message: str
) -> None:
    rewrite(corpus_copy, name, edit)
    with pytest.raises(AnnotationError, match=message):
        load_annotation(name, root=corpus_copy)


@pytest.mark.parametrize(
    ("evidence", "status"),
    [
        ("“a surprisingly great thriller” (worth-watching)", "near-miss"),
        ("“a film that changed my life” (worth-watching)", "not-found"),
        ("“Most of the acting is quite good.”", "unattributed"),
        ("“Browning, who is terrific” (nothing-perfect)", "other-source"),
        ("the review likes the acting", "no-evidence"),
    ],
)
def test_unverifiable_evidence_is_reported(corpus_copy: Path, evidence: str, status: str) -> None:
    table = load_annotation("reception", root=corpus_copy)
    row = int(table.index[table["source"] == "worth-watching"][0])
    rewrite(corpus_copy, "reception", {"evidence": evidence}, row=row)
    checked = verify_annotations(["reception"], root=corpus_copy)
    flagged = checked[checked["row"] == row + 1]
    assert list(flagged["status"]) == [status]
    assert flagged["message"].iloc[0]


def test_an_unknown_annotation_lists_the_known_ones() -> None:
    with pytest.raises(AnnotationError, match="reception, reception_aspects"):
        load_annotation("reviews")
