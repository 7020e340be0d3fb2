"""Shared fixtures: the real corpus, and a throwaway copy of it for tampering."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from filmkit.corpus import Corpus, load_corpus
from filmkit.lessons import ExecutedLesson, execute_lessons
from filmkit.paths import project_root

REPO = project_root()
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A project root holding a copy of source_texts/, safe to alter."""
    shutil.copytree(REPO / "source_texts", tmp_path / "source_texts")
    return tmp_path


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory: pytest.TempPathFactory) -> list[ExecutedLesson]:
    """Every lesson executed once per test session (fresh kernels, warnings as errors)."""
    return execute_lessons(tmp_path_factory.mktemp("executed-lessons"), jobs=2)
