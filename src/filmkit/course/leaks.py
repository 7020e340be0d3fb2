"""What must never reach students, and where it has: solutions, hidden tests, answer keys.

:func:`secrets_of` reads a *source* notebook and returns its secret lines: the lines inside
``### BEGIN SOLUTION`` regions (code answers and the model answers of written questions), inside
``### BEGIN HIDDEN TESTS`` regions, and inside ``=== BEGIN MARK SCHEME ===`` regions, plus those
delimiters themselves. A line that also occurs in the notebook's public text (outside every
region) is not secret, nor is a line too short to identify anything (``]``, ``)``).

:func:`find_leaks` looks for those lines in files handed to students: released notebooks and
their other files, and feedback HTML (compared as the text a reader sees, tags removed, so code
split into ``<span>``\\ s by the syntax highlighter is still found). Text the student wrote in
their own submission is allowed: a student who writes the solution has not been given it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

MIN_SECRET_CHARS: Final = 8
DELIMITERS: Final = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden test": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
    "mark scheme": ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ==="),
}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TAG = re.compile(r"<[^>]+>")
_SCRIPT_STYLE = re.compile(r"<(style|script)\b.*?</\1>", re.S | re.I)
_SPACE = re.compile(r"\s+")
_MARKUP = str.maketrans("", "", "*`")  # markdown emphasis and code marks


@dataclass(frozen=True)
class Secret:
    """One line of a source notebook that students must not see."""

    notebook: Path
    grade_id: str
    kind: str  # solution | model answer | hidden test | mark scheme | delimiter
    text: str


@dataclass(frozen=True)
class Leak:
    path: Path
    secret: Secret

    def describe(self) -> str:
        return (
            f"{self.path}: {self.secret.kind} of {self.secret.grade_id!r} "
            f"({self.secret.notebook.name}): {self.secret.text[:80]!r}"
        )


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _split_regions(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, line) for every line inside a region, and the lines outside all regions."""
    inside: list[tuple[str, str]] = []
    outside: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        started = next((k for k, (b, _) in DELIMITERS.items() if b in stripped), None)
        if started is not None:
            current = started
            continue
        if current is not None and DELIMITERS[current][1] in stripped:
            current = None
            continue
        if current is None:
            outside.append(line)
        else:
            inside.append((current, line))
    return inside, outside


def secrets_of(notebook: Path) -> list[Secret]:
    """The secret lines of a source notebook (see the module's docstring)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    candidates: list[tuple[str, str, str]] = []  # grade_id, kind, line
    public: list[str] = []
    used_delimiters: set[str] = set()
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = str(meta.get("grade_id", ""))
        text = _source(cell)
        inside, outside = _split_regions(text)
        for kind, (begin, _) in DELIMITERS.items():
            if begin in text:
                used_delimiters.add(kind)
        is_markdown_answer = cell.get("cell_type") == "markdown" and meta.get("solution")
        if is_markdown_answer and not inside:
            # a markdown answer without delimiters is replaced whole on release
            candidates.extend((grade_id, "model answer", line) for line in text.splitlines())
            continue
        for kind, line in inside:
            label = "model answer" if (is_markdown_answer and kind == "solution") else kind
            candidates.append((grade_id, label, line))
        public.extend(outside)
    public_text = _normalise("\n".join(public))
    secrets: list[Secret] = []
    seen: set[tuple[str, str]] = set()
    for grade_id, kind, line in candidates:
        norm = _normalise(line)
        if len(norm.replace(" ", "")) < MIN_SECRET_CHARS or norm in public_text:
            continue
        if (grade_id, norm) in seen:
            continue
        seen.add((grade_id, norm))
        secrets.append(Secret(notebook, grade_id, kind, line.strip()))
    for kind in sorted(used_delimiters):
        secrets.extend(
            Secret(notebook, "(any)", "delimiter", delimiter) for delimiter in DELIMITERS[kind]
        )
    return secrets


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_MARKUP)).strip()


def reader_text(path: Path) -> str:
    """The text a reader of ``path`` sees: for HTML without tags, scripts and styles; for a
    notebook its cells' sources and outputs (text, HTML without tags, tracebacks); else the file.
    """
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".html", ".htm"):
        return _html_text(raw)
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(raw)
        except ValueError:
            return raw
        parts: list[str] = []
        for cell in nb.get("cells", []):
            parts.append(_source(cell))
            for output in cell.get("outputs", []):
                parts.extend(_output_text(output))
        return "\n".join(parts)
    return raw


def _html_text(raw: str) -> str:
    return html.unescape(_TAG.sub("", _SCRIPT_STYLE.sub("", raw)))


def _output_text(output: dict[str, Any]) -> Iterable[str]:
    def join(value: Any) -> str:
        return "".join(value) if isinstance(value, list) else str(value)

    if "text" in output:
        yield join(output["text"])
    for mime, value in output.get("data", {}).items():
        if mime == "text/html":
            yield _html_text(join(value))
        elif mime.startswith("text/") or mime.endswith("json"):
            yield join(value)
    if output.get("output_type") == "error":
        yield _ANSI.sub("", "\n".join(output.get("traceback", [])))
        yield str(output.get("evalue", ""))


def find_leaks(
    paths: Iterable[Path], secrets: Sequence[Secret], *, allowed: str = ""
) -> list[Leak]:
    """Every (file, secret) where a secret line occurs in a file and not in ``allowed``."""
    allowed_text = _normalise(allowed)
    leaks: list[Leak] = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            text = _normalise(reader_text(path))
        except OSError:
            continue
        for secret in secrets:
            needle = _normalise(secret.text)
            if needle in text and needle not in allowed_text:
                leaks.append(Leak(path, secret))
    return leaks


def describe_leaks(leaks: Sequence[Leak], limit: int = 10) -> str:
    lines = [leak.describe() for leak in leaks[:limit]]
    if len(leaks) > limit:
        lines.append(f"… and {len(leaks) - limit} more")
    return "\n".join(lines)


__all__ = ["Leak", "Secret", "describe_leaks", "find_leaks", "reader_text", "secrets_of"]
