"""``filmkit demo``: show what the kit does, on the real corpus.

First the corpus table and the quotation checks of a sample essay; then one term in miniature
(:mod:`filmkit.course.term`): the three assignments released, the specimen submissions handed
in as students, autograded, given feedback and exported, and the lesson site built, in a scratch
folder that is rewritten on each run.
"""

from __future__ import annotations

import time
from pathlib import Path

from filmkit.check import check_path
from filmkit.corpus import load_corpus
from filmkit.paths import project_root
from filmkit.report import check_table, console, corpus_table

SAMPLE_ESSAY = Path("course") / "sample-essay.md"


def main(
    *, root: Path | None = None, scratch: Path | None = None, term: bool = True, site: bool = True
) -> int:
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
    if not term:
        return 0
    return run_term(scratch=scratch, site=site)


def run_term(*, scratch: Path | None = None, site: bool = True) -> int:
    """The term in miniature, printed: progress, the score table, where every output is."""
    from filmkit.course import term as term_module
    from filmkit.course.report import outputs_table, term_table

    out = console()
    target = (scratch or term_module.default_scratch()).resolve()
    out.print(f"\n[bold]One term in miniature[/bold], in {target} (rewritten on each run)")
    started = time.perf_counter()
    result = term_module.main(
        scratch=target, site=site, progress=lambda message: out.print(f"  {message}")
    )
    elapsed = time.perf_counter() - started
    out.print(term_table(result))
    out.print(
        "Each specimen is a student: full (every answer right), partial (typical mistakes), "
        "blank (the release unchanged), fabricated (invented and misattributed quotations), "
        "raises (code that fails). Written answers are marked by hand in formgrader "
        f"(uv run filmkit lab --instructor --course {result.course})."
    )
    out.print(outputs_table(result.outputs))
    out.print(f"Lesson site: {result.site}")
    timings = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in result.seconds.items())
    out.print(f"The term took {elapsed:.0f} s ({timings}).")
    return 1 if result.site.startswith("FAILED") else 0
