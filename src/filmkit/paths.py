"""Where the kit's folders are.

The corpus lives in the repository (``source_texts/``), not inside the installed package, so that
instructors review and version it like any course material. ``FILMKIT_ROOT`` points elsewhere
(a grading sandbox, a copy of the course) without changing code. On the course hub, each student's
copy of the lessons is in ``~/lessons`` (:data:`STUDENT_LESSONS_DIR`).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "FILMKIT_ROOT"
# A student's copy of the lessons on the course hub: ``~/lessons/NN-name.ipynb`` in their home
# folder (``filmkit hub`` copies ``course/`` there on their server's first start;
# ``filmkit publish --hub-url`` links each lesson page to it).
STUDENT_LESSONS_DIR = "lessons"


def project_root() -> Path:
    """The folder holding ``source_texts/``: ``$FILMKIT_ROOT`` if set, else this checkout."""
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).resolve()
    # src/filmkit/paths.py -> the checkout that contains src/
    return Path(__file__).resolve().parents[2]


def source_texts_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "source_texts"
