"""Reading a submission before nbgrader does, so one broken file can't stop a class's grading.

``screen()`` reads ``submitted/<student>/<assignment>/`` and returns what nbgrader should see
(:class:`Screened`), never changing the student's folder:

- a notebook that can't be read (empty, truncated, not JSON, not UTF-8, too large, an
  unknown nbformat) is left out, so nbgrader scores it 0 as a missing notebook; the reason says
  which and how the student can fix it;
- an nbformat v3 notebook is converted to v4;
- the instructor's cells are put back as released: a deleted, duplicated, moved, edited,
  retyped or metadata-stripped test or read-only cell, and nbgrader metadata with a schema version this
  nbgrader doesn't know (which would stop ``nbgrader autograde`` for everybody). nbgrader's own
  ``OverwriteCells`` then restores the hidden tests, as for any submission. An nbgrader cell
  whose id the assignment does not have (another assignment's notebook, a forged grade cell) is
  left for nbgrader, which fails that notebook as stock autograde does; the reason names it;
- one missing notebook and one unexpected one are taken to be a renamed notebook; other
  unexpected notebooks are ignored (and named in the reason);
- a student id nbgrader cannot glob (``*?[]``, a path separator, a leading dot) is rejected;
- so is a ``timestamp.txt`` nbgrader cannot read as a time (``nbgrader.utils.parse_utc``), which
  would stop ``nbgrader autograde`` for everybody; an empty one is no timestamp, as for nbgrader.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

MAX_NOTEBOOK_BYTES: Final = 20 << 20
_BAD_ID: Final = re.compile(r"[*?\[\]/\\\x00-\x1f]|^\.|^$")


@dataclass
class Screened:
    student: str
    files: dict[str, bytes] = field(default_factory=dict)  # what to hand nbgrader
    notes: list[str] = field(default_factory=list)  # one clause per thing found
    status: str = "graded"  # graded | repaired | unreadable | missing | rejected

    def flag(self, status: str, note: str) -> None:
        order = ("graded", "repaired", "unreadable", "missing", "rejected")
        if order.index(status) > order.index(self.status):
            self.status = status
        self.notes.append(note)

    @property
    def has_notebook(self) -> bool:
        return any(name.endswith(".ipynb") for name in self.files)

    @property
    def reason(self) -> str:
        return "; ".join(self.notes)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n} bytes"


def read_notebook(data: bytes, *, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict[str, Any] | str:
    """The notebook as nbformat v4 JSON, or why it can't be read."""
    import nbformat

    if len(data) > max_bytes:
        return (
            f"is {_size(len(data))}, over the {_size(max_bytes)} limit (clear its outputs with "
            "Kernel › Restart Kernel and Clear Outputs, save, and hand it in again)"
        )
    if not data.strip():
        return "is empty"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
    try:
        raw = json.loads(text)
    except ValueError as error:
        ending = "; it looks truncated" if _cut_short(text, error) else ""
        return f"is not valid notebook JSON ({error}){ending}"
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        return "is JSON but not a notebook (no nbformat version)"
    if raw["nbformat"] not in (3, 4):
        return f"uses nbformat {raw['nbformat']}, which this grader cannot read"
    try:
        with warnings.catch_warnings():  # e.g. DuplicateCellId: nbformat fixes those itself
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
            written = nbformat.writes(notebook, version=4)
    except Exception as error:
        return f"could not be read as a notebook ({type(error).__name__}: {error})"
    converted: dict[str, Any] = json.loads(written)
    if raw["nbformat"] == 3:
        converted.setdefault("metadata", {})["filmkit_converted_from"] = 3
    return converted


def _cut_short(text: str, error: ValueError) -> bool:
    """Whether ``text`` is JSON that stops before its end (not, say, a text file)."""
    if not isinstance(error, json.JSONDecodeError) or not text.lstrip().startswith("{"):
        return False
    if error.msg.startswith("Extra data"):  # complete JSON, then more
        return False
    return error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip()) - 40


def _meta(cell: Mapping[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata")
    found = meta.get("nbgrader") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _is_nbgrader_cell(meta: Mapping[str, Any]) -> bool:
    return any(bool(meta.get(flag)) for flag in ("grade", "solution", "locked", "task"))


def foreign_cells(student_nb: Mapping[str, Any], released_nb: Mapping[str, Any]) -> list[str]:
    """The grade ids of the nbgrader cells in ``student_nb`` that the released notebook does not
    have (nbgrader fails a notebook that holds one)."""
    released = {
        _meta(c).get("grade_id") for c in released_nb.get("cells", []) if isinstance(c, dict)
    }
    found = []
    for cell in student_nb.get("cells", []):
        meta = _meta(cell) if isinstance(cell, dict) else {}
        if meta and _is_nbgrader_cell(meta) and meta.get("grade_id") not in released:
            found.append(str(meta.get("grade_id") or "(no id)"))
    return found


def _is_locked(meta: Mapping[str, Any]) -> bool:
    return bool(meta) and not meta.get("solution") and bool(meta.get("grade") or meta.get("locked"))


def restore_instructor_cells(
    student_nb: dict[str, Any], released_nb: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Put the released version of every instructor cell back in its place and order.

    Cells are identified by nbgrader ``grade_id``; a cell whose metadata was stripped is
    recognised by its unchanged source. Student cells without an id stay next to the
    identified cell they preceded. Returns the notebook and what was repaired.
    """
    from nbgrader.nbgraderformat import SCHEMA_VERSION

    released = [c for c in released_nb.get("cells", []) if isinstance(c, dict)]
    by_id = {_meta(c)["grade_id"]: c for c in released if _meta(c).get("grade_id")}
    locked_sources = {
        _source(c).strip(): g
        for g, c in by_id.items()
        if _is_locked(_meta(c)) and _source(c).strip()
    }
    repairs: list[tuple[str, str]] = []  # (what was done to "{}", grade_id); see _grouped
    groups: dict[str, list[dict[str, Any]]] = {}  # grade_id → free cells just before it
    chosen: dict[str, dict[str, Any]] = {}
    pending: list[dict[str, Any]] = []
    seen_order: list[str] = []
    for cell in student_nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        meta = _meta(cell)
        grade_id = str(meta.get("grade_id", ""))
        if grade_id not in by_id:
            stripped = _source(cell).strip()
            if not meta and stripped in locked_sources and locked_sources[stripped] not in chosen:
                grade_id = locked_sources[stripped]
                repairs.append(("restored the metadata of {}", grade_id))
            else:
                # nbgrader metadata with an id the assignment doesn't have: an nbgrader cell
                # (graded, a solution, locked, a task) stays as it is, and nbgrader fails the
                # notebook on it, as stock autograde does (another assignment's notebook, a
                # forged grade cell); mere leftover metadata is dropped
                if meta and not _is_nbgrader_cell(meta):
                    cell.get("metadata", {}).pop("nbgrader", None)
                pending.append(cell)
                continue
        if grade_id in chosen:
            repairs.append(("dropped a duplicate of {}", grade_id))
            if not _is_locked(_meta(by_id[grade_id])):
                cell.get("metadata", {}).pop("nbgrader", None)
                pending.append(cell)  # the student's work stays, as an ordinary cell
            continue
        if meta.get("schema_version") not in (None, SCHEMA_VERSION):
            repairs.append(
                (
                    f"reset the nbgrader metadata (schema {repr(meta['schema_version'])[:20]}) "
                    "of {}",
                    grade_id,
                )
            )
        chosen[grade_id] = cell
        groups[grade_id] = pending
        pending = []
        seen_order.append(grade_id)
    cells: list[dict[str, Any]] = []
    for released_cell in released:
        grade_id = str(_meta(released_cell).get("grade_id", ""))
        if not grade_id:
            continue  # unlabelled cells come from the student's copy, in its place
        cells.extend(groups.get(grade_id, []))
        mine = chosen.get(grade_id)
        if mine is None:
            repairs.append(("put back the missing cell {}", grade_id))
        elif mine.get("cell_type") != released_cell.get("cell_type"):
            repairs.append(
                (f"turned {{}} back into a {released_cell.get('cell_type')} cell", grade_id)
            )
        elif (
            _is_locked(_meta(released_cell))
            and _source(mine).strip() != _source(released_cell).strip()
        ):
            repairs.append(("restored {} as released (edited)", grade_id))
        if _is_locked(_meta(released_cell)) or mine is None:
            # as released; nbgrader's OverwriteCells then restores hidden tests from the gradebook
            cells.append(json.loads(json.dumps(released_cell)))
        else:
            mine.setdefault("metadata", {})["nbgrader"] = dict(_meta(released_cell))
            mine["cell_type"] = released_cell.get("cell_type", mine.get("cell_type"))
            if mine["cell_type"] == "markdown":
                mine.pop("outputs", None)
                mine.pop("execution_count", None)
            else:
                mine.setdefault("outputs", [])
                mine.setdefault("execution_count", None)
            cells.append(mine)
    cells.extend(pending)
    released_order = [g for g in (_meta(c).get("grade_id") for c in released) if g in chosen]
    if seen_order != released_order:
        repairs.append(("put the instructor's cells back in their released order", ""))
    result = dict(student_nb)
    result["cells"] = cells
    return result, _grouped(repairs)


def _grouped(repairs: Sequence[tuple[str, str]], shown: int = 4) -> list[str]:
    """One clause per kind of repair, naming a few of the cells: the reason stays one short line."""
    ids: dict[str, list[str]] = {}
    for what, grade_id in repairs:
        found = ids.setdefault(what, [])
        if grade_id and grade_id not in found:
            found.append(grade_id)
    clauses = []
    for what, names in ids.items():
        listed = ", ".join(names[:shown]) + (
            f" and {len(names) - shown} more" if len(names) > shown else ""
        )
        clauses.append(what.replace("{}", listed, 1))  # never str.format: student text inside
    return clauses


def screen(
    student: str,
    submission: Path,
    released: Mapping[str, Mapping[str, Any]],
    *,
    max_bytes: int = MAX_NOTEBOOK_BYTES,
) -> Screened:
    """What nbgrader should grade of ``submission`` (``released``: notebook name → JSON)."""
    found = Screened(student)
    if _BAD_ID.search(student):
        found.flag(
            "rejected",
            f"the student id {student!r} has characters nbgrader cannot match "
            "(* ? [ ] / \\, control characters or a leading dot): rename the folder "
            f"submitted/{student} and grade again",
        )
        return found
    notebooks = {p.stem: p for p in sorted(submission.glob("*.ipynb")) if p.is_file()}
    for path in sorted(submission.rglob("*")):
        if path.is_file() and path.suffix != ".ipynb" and ".ipynb_checkpoints" not in path.parts:
            found.files[str(path.relative_to(submission))] = path.read_bytes()
    stamp = found.files.get("timestamp.txt")
    problem = timestamp_problem(stamp) if stamp is not None else ""
    if problem:
        found.flag(
            "rejected",
            f"timestamp.txt {problem}: write the submission time in it (as nbgrader does, "
            "e.g. 2025-02-02 14:58:23 UTC) or empty it, and grade again",
        )
        return found
    missing = sorted(set(released) - set(notebooks))
    extra = sorted(set(notebooks) - set(released))
    if len(missing) == 1 and len(extra) == 1:
        notebooks[missing[0]] = notebooks.pop(extra[0])
        found.flag("repaired", f"graded {extra[0]}.ipynb as {missing[0]}.ipynb (renamed)")
        missing, extra = [], []
    if extra:
        found.notes.append("ignored unexpected " + ", ".join(f"{e}.ipynb" for e in extra))
    for name in missing:
        found.flag("missing", f"no {name}.ipynb handed in (scored 0)")
    for name in sorted(released):
        if name not in notebooks:
            continue
        path = notebooks[name]
        read = read_notebook(path.read_bytes(), max_bytes=max_bytes)
        if isinstance(read, str):
            found.flag("unreadable", f"{path.name} {read}; scored 0")
            continue
        if read.get("metadata", {}).pop("filmkit_converted_from", None):
            found.flag("repaired", f"converted {path.name} from nbformat v3")
        foreign = foreign_cells(read, released[name])
        if foreign:
            shown = ", ".join(foreign[:4]) + (
                f" and {len(foreign) - 4} more" if len(foreign) > 4 else ""
            )
            found.notes.append(
                f"{path.name} has nbgrader cells this assignment does not have ({shown}): "
                "another assignment's notebook?"
            )
        restored, repairs = restore_instructor_cells(read, released[name])
        if repairs:
            found.flag("repaired", f"{path.name}: " + ", ".join(repairs))
        found.files[f"{name}.ipynb"] = json.dumps(restored, ensure_ascii=False, indent=1).encode()
    return found


def timestamp_problem(data: bytes) -> str:
    """Why nbgrader cannot read ``data`` (a ``timestamp.txt``) as a time; "" when it can, or
    when it is empty (no timestamp)."""
    from nbgrader.utils import parse_utc

    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    if not text:
        return ""
    try:
        parse_utc(text)
    except (ValueError, OverflowError, TypeError):
        return f"holds {text[:60]!r}, which is not a time"
    return ""


def released_notebooks(release_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(release_dir.glob("*.ipynb"))
    }


__all__: Sequence[str] = [
    "Screened",
    "read_notebook",
    "restore_instructor_cells",
    "screen",
    "timestamp_problem",
]
