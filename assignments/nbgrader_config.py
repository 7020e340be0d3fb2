"""nbgrader configuration of the filmkit course (The Perfection, 2019).

Read by stock ``nbgrader …`` commands run in this folder, by JupyterLab's formgrader started here
(``filmkit lab --instructor``) and by ``filmkit.grading`` (which loads this file wherever the
course folder is, so a copy of the folder grades where it is).
"""

import os

c = get_config()  # noqa: F821  (traitlets defines get_config while it reads this file)

# The course is the folder holding this file: source/ is committed; release/, submitted/,
# autograded/, feedback/ and gradebook.db are made by nbgrader and ignored by git.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "perfection"

# A limit per cell, in seconds, when nbgrader runs a notebook (autograde and validate). The
# slowest cell of the assignments loads the corpus and takes a few seconds.
c.Execute.timeout = 60
# The kernels that run notebooks log errors only: otherwise each prints ipykernel's warning that
# it talks to nbgrader over loopback TCP without encryption, once per notebook graded.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]

# Feedback must not show hidden tests (nbgrader issue #917: autograde restores them into
# autograded/, which feedback is rendered from). The filmkit preprocessor removes them and
# replaces the tracebacks of the cells that had them; ClearMarkScheme removes mark schemes.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
