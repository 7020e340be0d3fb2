"""How long verifying 1,000 quotations takes.

The quotations are drawn (seeded) from the corpus itself: exact spans under tolerated variations,
elided spans, spans with one changed word (near-misses), spans attributed to the wrong source, and
shuffled words (fabrications). Each is verified with ``filmkit.evidence.verify`` against its
attributed source. The baseline is the floor of any checker: one case-folded, punctuation-blind
substring search per quotation, which finds exact occurrences only (no elisions, brackets,
near-misses or offsets).

Usage: uv run python benchmarks/evidence.py [--count N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from filmkit.corpus import load_corpus
from filmkit.evidence import verify
from filmkit.provenance import WORD_PATTERN


def make_quotations(count: int, seed: int) -> list[tuple[str, str]]:
    corpus = load_corpus()
    rng = random.Random(seed)
    words = {s: [m for m in WORD_PATTERN.finditer(corpus.text(s))] for s in corpus.ids}
    vocabulary = sorted({m.group() for ms in words.values() for m in ms})
    quotations: list[tuple[str, str]] = []
    for _ in range(count):
        source = rng.choice(corpus.ids)
        ms = words[source]
        n = rng.randint(4, 30)
        first = rng.randrange(0, len(ms) - n)
        span = corpus.text(source)[ms[first].start() : ms[first + n - 1].end()]
        kind = rng.random()
        if kind < 0.55:  # exact, with typographic variation
            quote = (
                span.replace("’", "'").replace("—", " - ").lower() if rng.random() < 0.5 else span
            )
        elif kind < 0.70 and n >= 8:  # elided
            cut = rng.randint(2, n - 4)
            a, b = ms[first + cut].start(), ms[first + cut + 2].end()
            quote = (
                corpus.text(source)[ms[first].start() : a]
                + "…"
                + corpus.text(source)[b : ms[first + n - 1].end()]
            )
        elif kind < 0.85:  # one word changed
            i = rng.randrange(first, first + n)
            quote = corpus.text(source)[ms[first].start() : ms[i].start()] + rng.choice(vocabulary)
            quote += corpus.text(source)[ms[i].end() : ms[first + n - 1].end()]
        elif kind < 0.95:  # attributed elsewhere
            quote, source = span, rng.choice([s for s in corpus.ids if s != source])
        else:  # fabricated
            quote = " ".join(rng.sample(vocabulary, n))
        quotations.append((quote, source))
    return quotations


def naive(quotations: list[tuple[str, str]]) -> int:
    corpus = load_corpus()

    def flat(text: str) -> str:
        return " ".join(w.casefold() for w in WORD_PATTERN.findall(text.replace("’", "'")))

    texts = {s: flat(corpus.text(s)) for s in corpus.ids}
    return sum(flat(q) in texts[s] for q, s in quotations)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()

    t0 = time.perf_counter()
    corpus = load_corpus()
    verify("warm up the index", corpus=corpus)
    t_load = time.perf_counter() - t0
    quotations = make_quotations(args.count, args.seed)

    t0 = time.perf_counter()
    verdicts = [verify(q, s, corpus=corpus) for q, s in quotations]
    t_verify = time.perf_counter() - t0

    t0 = time.perf_counter()
    naive_hits = naive(quotations)
    t_naive = time.perf_counter() - t0

    statuses = Counter(str(v.status) for v in verdicts)
    print(f"corpus load + index (first call): {t_load * 1000:.0f} ms")
    print(
        f"verified {len(quotations)} quotations in {t_verify:.2f} s "
        f"({t_verify / len(quotations) * 1000:.2f} ms each, {len(quotations) / t_verify:.0f}/s)"
    )
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(
        f"baseline (exact substring search only): {t_naive:.3f} s, {naive_hits} exact hits; "
        f"filmkit.evidence takes {t_verify / t_naive:.0f}x as long and also resolves elisions, "
        "brackets, near-misses and offsets"
    )


if __name__ == "__main__":
    main()
