"""Keep hidden tests out of students' feedback: a preprocessor for nbgrader's GenerateFeedback.

Why it is needed (nbgrader issue #917, open in 0.9.6): autograde puts the *source* version of
every locked cell back into ``autograded/`` (its checksum differs from the released one, so
``OverwriteCells`` restores it from the gradebook), and feedback is rendered from there. Stock
feedback therefore shows the hidden tests and their ``### BEGIN HIDDEN TESTS`` lines, and a
failing hidden test's traceback quotes the hidden code (IPython prints the lines around the
failing one, so even a failure on a visible line can show the hidden block).

:class:`ClearHiddenTestsAndTracebacks` is nbgrader's ``ClearHiddenTests`` plus: in every code
cell whose hidden region it removed, each error output's traceback is replaced by one line,
:attr:`traceback_template`. Visible tests' tracebacks and printed reports are left as they are.
``assignments/nbgrader_config.py`` names it by its import path, so stock ``nbgrader
generate_feedback`` uses it too::

    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",
        "nbgrader.preprocessors.ClearMarkScheme",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]

It touches only the rendered copy: ``autograded/`` and formgrader keep everything for the marker.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool, Unicode

FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "filmkit.course.feedback_scrub.ClearHiddenTestsAndTracebacks",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)


class ClearHiddenTestsAndTracebacks(ClearHiddenTests):  # type: ignore[misc]  # nbgrader is untyped
    """``ClearHiddenTests``, and one-line tracebacks in the cells that had hidden tests."""

    scrub_tracebacks = Bool(
        True, help="Replace the tracebacks of cells that contained hidden tests."
    ).tag(config=True)

    traceback_template = Unicode(
        "{ename}: a hidden test failed. {evalue}",
        help="The replacement traceback; fields: ename, evalue. The marking helpers of "
        "filmkit.kernel.marking raise messages that say what is wrong without the expected "
        "values; use '{ename}' alone if other tests' messages could give answers away.",
    ).tag(config=True)

    def preprocess_cell(
        self, cell: Any, resources: dict[str, Any], cell_index: int
    ) -> tuple[Any, dict[str, Any]]:
        before = cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if self.scrub_tracebacks and cell.cell_type == "code" and cell.source != before:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [
                        self.traceback_template.format(
                            ename=output.get("ename", "Error"), evalue=output.get("evalue", "")
                        ).strip()
                    ]
        return cell, resources
