"""nbgrader's own autograde tests, run with every ``nbgrader autograde`` routed through
``filmkit grade`` (see :mod:`tests.nbgrader_compat.conftest`)."""
