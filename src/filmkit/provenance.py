"""How each stored text derives from the file received: the original minus logged whole lines.

The cleaning log (``source_texts/cleaning_log.csv``) names every removed line of every original by
its 1-based line number, repeats the line's exact text and gives the reason. Nothing is rewritten:
a cleaned text is the original's remaining lines, byte for byte, so typographic quotes, dashes and
non-breaking spaces stay as the author wrote them. Lines are separated by ``\\n`` only; the
originals contain no other line terminator.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLEANING_LOG_COLUMNS = ("original_file", "id", "line", "text", "reason")

# A word, for the manifest's word count and for matching quotations: letters or digits, with
# apostrophes (straight or typographic) inside a word kept as part of it ("y’all", "Charlotte’s").
WORD_PATTERN = re.compile(r"\w+(?:['’ʼ]\w+)*")


@dataclass(frozen=True)
class Removal:
    original_file: str
    id: str
    line: int
    text: str
    reason: str


class CleaningLogError(ValueError):
    """The cleaning log does not describe the original it names."""


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` keeping each line's terminator, so joining the pieces gives the text back."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def apply_removals(original: str, removals: Iterable[Removal], *, original_name: str) -> str:
    """The original minus the logged lines; each logged text must equal the line it removes."""
    lines = split_lines(original)
    dropped: set[int] = set()
    for removal in removals:
        if not 1 <= removal.line <= len(lines):
            raise CleaningLogError(
                f"cleaning log: {original_name} has {len(lines)} lines, "
                f"but the log removes line {removal.line}"
            )
        actual = lines[removal.line - 1].rstrip("\n")
        if actual != removal.text:
            raise CleaningLogError(
                f"cleaning log: line {removal.line} of {original_name} reads {actual!r}, "
                f"but the log says it removed {removal.text!r}"
            )
        dropped.add(removal.line)
    return "".join(line for number, line in enumerate(lines, 1) if number not in dropped)


def read_cleaning_log(path: Path) -> list[Removal]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != CLEANING_LOG_COLUMNS:
            raise CleaningLogError(
                f"{path}: expected columns {', '.join(CLEANING_LOG_COLUMNS)}, "
                f"found {', '.join(reader.fieldnames or ())}"
            )
        return [
            Removal(row["original_file"], row["id"], int(row["line"]), row["text"], row["reason"])
            for row in reader
        ]


def write_cleaning_log(path: Path, removals: Sequence[Removal]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CLEANING_LOG_COLUMNS)
        for r in removals:
            writer.writerow([r.original_file, r.id, r.line, r.text, r.reason])


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count_words(text: str) -> int:
    return len(WORD_PATTERN.findall(text))
