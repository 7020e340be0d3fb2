"""``filmkit demo``: show what the kit does, on the real corpus."""

from __future__ import annotations

from pathlib import Path

from filmkit.check import check_path
from filmkit.corpus import load_corpus
from filmkit.paths import project_root
from filmkit.report import check_table, console, corpus_table

SAMPLE_ESSAY = Path("course") / "sample-essay.md"


def main(*, root: Path | None = None) -> int:
    root = root or project_root()
    out = console()
    corpus = load_corpus(root)
    out.print(corpus_table(corpus.documents))
    out.print(
        f"All {len(corpus.ids)} texts match their sha256 in the manifest; "
        f"{len(corpus.paragraphs)} paragraphs, {len(corpus.sentences)} sentences.\n"
    )
    essay = root / SAMPLE_ESSAY
    results = check_path(essay, corpus=corpus)
    out.print(check_table(results, f"Quotations in {SAMPLE_ESSAY} (filmkit check {SAMPLE_ESSAY})"))
    counts = {
        s: sum(1 for r in results if r.verdict.status == s)
        for s in {r.verdict.status for r in results}
    }
    out.print("Summary: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0
