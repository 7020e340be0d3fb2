"""The term's nbgrader cycle for the filmkit course, through nbgrader's Python API.

One module per verb, each with a ``main(..., *, keyword_only)`` that returns data (the ``filmkit``
command prints it):

- :mod:`~filmkit.grading.course`: finding the course folder, its ``nbgrader_config.py``, the
  nbgrader API object and the gradebook;
- :mod:`~filmkit.grading.release`: student versions of the assignments, checked for leaks;
- :mod:`~filmkit.grading.grade`: autograding what is under ``submitted/``;
- :mod:`~filmkit.grading.feedback`: feedback HTML (hidden tests scrubbed by
  :mod:`~filmkit.grading.feedback_scrub`);
- :mod:`~filmkit.grading.export`: grades CSV and per-question CSV;
- :mod:`~filmkit.grading.lab`: JupyterLab for students or the instructor (formgrader);
- :mod:`~filmkit.grading.term`: one term in miniature (``filmkit demo``).

:mod:`~filmkit.grading.marking` holds the functions the assignments' test cells call (evidence
marking, essay evidence reports, answer checks); :mod:`~filmkit.grading.authoring` builds the
source notebooks from their Python descriptions in ``assignments/authoring/``;
:mod:`~filmkit.grading.leaks` finds solutions, hidden tests and model answers where students would
see them; :mod:`~filmkit.grading.specimens` hands in the specimen submissions of
``tests/fixtures/specimens/``; :mod:`~filmkit.grading.report` draws the commands' tables.
"""
