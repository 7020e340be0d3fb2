"""What a grading engine grades with, so that a machine can prove it grades as the grader would.

A notebook's score depends on more than its cells: on the filmkit code that runs them (the
sandbox, the judge, the marking helpers a test calls), on the libraries those import, and on the
source texts a quotation check reads. When the notebooks are graded on other machines
(:mod:`filmkit.grading.cluster`), each of them must use the same, or a grade would depend on
which machine a notebook happened to land on. An :class:`EngineIdentity` says what one machine
has:

- ``filmkit``: the installed package's version and a digest of every file in it (a version
  number alone does not change when a checkout is edited);
- ``libraries``: the Python version and the versions of the libraries the notebooks and the
  judge use (:data:`LIBRARIES`);
- ``corpus``: a digest of the source texts' checksums, taken after verifying every text against
  the manifest (:func:`filmkit.corpus.verify_corpus`): an altered text raises instead.

:func:`sources_digest` identifies an assignment's source and release notebooks as the grader
read them; it travels with every notebook it sends, so an engine set up for another version of
the assignment (a re-grade after a test was fixed) refuses it. :meth:`EngineIdentity.differences`
lists, in words, what one identity has that another lacks.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

# What a notebook run imports or the judge relies on, beyond filmkit itself.
LIBRARIES: Final = (
    "ipykernel",
    "nbformat",
    "nbgrader",
    "numpy",
    "pandas",
    "plotly",
    "pysbd",
    "rapidfuzz",
    "vadersentiment",
)


@dataclass(frozen=True)
class EngineIdentity:
    """What one machine grades with (see the module's docstring). Plain data: it crosses
    between machines."""

    filmkit_version: str
    filmkit_digest: str
    libraries: tuple[tuple[str, str], ...]
    corpus_digest: str

    def differences(self, other: EngineIdentity) -> list[str]:
        """What ``self`` (a worker) has where ``other`` (the grader) has something else, one
        phrase each; empty when they grade alike."""
        found = []
        if self.filmkit_version != other.filmkit_version:
            found.append(f"filmkit {self.filmkit_version} (the grader has {other.filmkit_version})")
        elif self.filmkit_digest != other.filmkit_digest:
            found.append(
                f"filmkit {self.filmkit_version} with other files (digest "
                f"{self.filmkit_digest[:12]}…, the grader's {other.filmkit_digest[:12]}…)"
            )
        mine, theirs = dict(self.libraries), dict(other.libraries)
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                found.append(
                    f"{name} {mine.get(name, 'missing')} (the grader has "
                    f"{theirs.get(name, 'none')})"
                )
        if self.corpus_digest != other.corpus_digest:
            found.append(
                f"other source texts (corpus digest {self.corpus_digest[:12]}…, the grader's "
                f"{other.corpus_digest[:12]}…)"
            )
        return found

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> EngineIdentity:
        return cls(
            str(data["filmkit_version"]),
            str(data["filmkit_digest"]),
            tuple((str(k), str(v)) for k, v in data["libraries"]),
            str(data["corpus_digest"]),
        )


def this_machine(root: Path | None = None) -> EngineIdentity:
    """This machine's identity; ``root``: the folder holding ``source_texts/`` (default:
    :func:`filmkit.paths.project_root`). Raises :class:`filmkit.corpus.CorpusError` when a
    source text does not match the manifest."""
    import filmkit

    return EngineIdentity(
        _version("filmkit"),
        tree_digest(Path(filmkit.__path__[0])),
        (("python", platform.python_version()), *((n, _version(n)) for n in LIBRARIES)),
        corpus_digest(root),
    )


def corpus_digest(root: Path | None = None) -> str:
    """A digest of the verified corpus: every text's id and checksum, from the manifest, once
    each text has been checked against it."""
    from filmkit.corpus import read_manifest, verify_corpus
    from filmkit.paths import source_texts_dir

    ids = verify_corpus(root)
    manifest = read_manifest(source_texts_dir(root) / "manifest.csv")
    rows = dict(zip(manifest["id"], manifest["sha256"], strict=True))
    return _digest(f"{source}\0{rows[source]}" for source in sorted(ids))


def tree_digest(folder: Path) -> str:
    """A digest of every file below ``folder`` (its relative path and bytes), bytecode caches
    left out."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    hasher = hashlib.sha256()
    for path in files:
        hasher.update(path.relative_to(folder).as_posix().encode() + b"\0")
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


def sources_digest(folders: Iterable[Path]) -> str:
    """A digest of an assignment's notebooks and files as the grader reads them: every file
    below each of ``folders`` (its source and release folders), in order."""
    return _digest(tree_digest(folder) if folder.is_dir() else "absent" for folder in folders)


def _digest(parts: Iterable[str]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode() + b"\n")
    return hasher.hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "missing"
