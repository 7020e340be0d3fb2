"""The small code that runs inside a student's kernel (and the judge's, at grading time).

:mod:`~filmkit.kernel.marking` holds what the assignments' test cells call: answer checks,
evidence marking and the essays' evidence reports. It imports the library (corpus, evidence,
analysis) and nothing of the grader: a student's kernel never loads the grading engine.
"""
