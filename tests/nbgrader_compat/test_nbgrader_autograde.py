"""nbgrader's autograde test class, collected here as installed (``nbgrader.tests.apps``).

Its warnings policy is nbgrader's, not this project's ``error``: the stock commands the tests
run (``nbgrader validate``, ``generate_assignment``) leave ZeroMQ sockets for the collector,
which pytest would otherwise turn into failures that have nothing to do with grading.
"""

from __future__ import annotations

import pytest
from nbgrader.tests.apps.test_nbgrader_autograde import TestNbGraderAutograde

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("default"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
]

__all__ = ["TestNbGraderAutograde"]
