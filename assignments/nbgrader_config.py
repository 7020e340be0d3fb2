"""nbgrader configuration of the filmkit course (The Perfection, 2019).

Read by stock ``nbgrader …`` commands run in this folder, by JupyterLab's formgrader started here
(``filmkit lab --instructor``) and by ``filmkit.grading`` (which loads this file wherever the
course folder is, so a copy of the folder grades where it is).
"""

import importlib.resources
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

# What one notebook may use when `filmkit grade` runs it (filmkit.grading.limits.GradingLimits;
# the defaults live there: uncomment a line only to change it). `filmkit grade` prints which of
# them this machine enforces for the whole notebook (control groups: as root, or in a delegated
# cgroup v2 subtree) and which only per process (rlimits).
# c.GradingLimits.memory_bytes = 2 << 30  # ALL the notebook's processes + the files it writes
#                                         # into its RAM-backed folders (per process without
#                                         # control groups, then up to pids × this in all)
# c.GradingLimits.pids = 64  # processes (threads count) at once: a fork bomb stops here
# c.GradingLimits.disk_bytes = 256 << 20  # each RAM-backed folder (/tmp, working folder, copy)
# c.GradingLimits.file_bytes = 64 << 20  # the largest file it may write
# c.GradingLimits.cell_output_bytes = 5 << 20  # output of one cell; the rest is cut
# c.GradingLimits.notebook_output_bytes = 20 << 20  # output of the notebook; then the run ends
# c.GradingLimits.cell_timeout = 60  # seconds per cell; default: c.Execute.timeout above
# c.GradingLimits.nb_timeout = 300  # seconds for the whole notebook
# c.GradingLimits.grace = 2  # seconds a cell that ignores its timeout gets before the kill
# c.GradingLimits.cgroups = "auto"  # "require": refuse to grade without control groups;
#                                   # "off": rlimits only

# Where `filmkit grade` runs the notebooks: this machine, unless a Dask scheduler is named
# (filmkit.grading.cluster.GradingCluster; `filmkit grade --cluster ADDRESS` overrides it). Off
# this machine only TLS with the course's certificates is accepted (`filmkit cluster certs DIR`;
# deploy/dask.md).
# c.GradingCluster.scheduler = "tls://grading.example.edu:8786"
# c.GradingCluster.tls_ca_file = "/etc/filmkit-dask/ca.pem"
# c.GradingCluster.tls_cert_file = "/etc/filmkit-dask/client.pem"  # with its key inside

# Feedback must not show hidden tests (nbgrader issue #917: autograde restores them into
# autograded/, which feedback is rendered from), and must say what it knows
# (filmkit.course.feedback_scrub). QuestionsAndMarking names each grade cell's question and flags
# the written answers no one has marked yet; ClearHiddenTestsAndTracebacks removes the hidden
# tests and replaces each test cell's traceback by a message saying whether the visible check or
# a hidden test failed, or the answer was never defined; ClearMarkScheme removes mark schemes.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "filmkit.course.feedback_scrub.QuestionsAndMarking",
    "filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# The feedback page is nbgrader's feedback template extended by filmkit's feedback.html.j2: the
# questions' names in the summary and the headings, "awaiting marking" for answers not marked
# yet, and their points left out of the total. Set for GenerateFeedback's exporter only
# (formgrader's keeps its own template).
c.GenerateFeedback.HTMLExporter.template_file = str(
    importlib.resources.files("filmkit.course") / "feedback.html.j2"
)

# Notebooks are rendered to HTML for the student's feedback and for the instructor in formgrader,
# both by nbconvert's HTMLExporter, which reads these settings (formgrader builds its exporter
# from this file too). Student code's outputs and students' markdown are untrusted: as nbconvert
# renders them by default, a <script>, an onerror= or a <style> in them runs in, or restyles, the
# page of whoever reads it. sanitize_html leaves out JavaScript and widget outputs and passes
# HTML and markdown outputs through clean_html; nbconvert's own clean_html escapes a DataFrame's
# table into text, and nbgrader's templates render markdown cells with markdown2html only, so
# filmkit's versions replace both (filmkit.grading.sanitize says what they keep).
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {
    "clean_html": "filmkit.grading.sanitize.clean_html",
    "markdown2html": "filmkit.grading.sanitize.markdown2html",
}
