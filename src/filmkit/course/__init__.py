"""The term's nbgrader cycle for the filmkit course, through nbgrader's Python API.

One module per verb, each with a ``main(..., *, keyword_only)`` that returns data (the ``filmkit``
command prints it):

- :mod:`~filmkit.course.folder`: finding the course folder, its ``nbgrader_config.py``, the
  nbgrader API object and the gradebook;
- :mod:`~filmkit.course.release`: student versions of the assignments, checked for leaks;
- :mod:`~filmkit.course.feedback`: feedback HTML (hidden tests scrubbed by
  :mod:`~filmkit.course.feedback_scrub`);
- :mod:`~filmkit.course.export`: grades CSV and per-question CSV;
- :mod:`~filmkit.course.lab`: JupyterLab for students or the instructor (formgrader);
- :mod:`~filmkit.course.term`: one term in miniature (``filmkit demo``).

Autograding itself is the grading engine's (:mod:`filmkit.grading`). :mod:`~filmkit.course.authoring`
builds the source notebooks from their Python descriptions in ``assignments/authoring/``;
:mod:`~filmkit.course.leaks` finds solutions, hidden tests and model answers where students would
see them; :mod:`~filmkit.course.specimens` hands in the specimen submissions of
``tests/fixtures/specimens/``; :mod:`~filmkit.course.report` draws the commands' tables;
:mod:`~filmkit.course.classreport` builds ``filmkit report``.
"""
