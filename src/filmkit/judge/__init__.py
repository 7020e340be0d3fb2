"""The judge: where the instructor's tests run, in a process that never ran student code.

A student's cells run in the sandbox (:mod:`filmkit.sandbox`), whose process the student
controls entirely: any test run there can be edited by the code it tests (a function of
``filmkit.analysis`` replaced, a method of pandas patched, the cached corpus changed, an audit
hook, ctypes). So no test runs there. For every **judged cell** of a notebook (every nbgrader
test cell, i.e. a grade cell that is not a solution, hidden tests included; and every read-only
cell marked ``{"filmkit": {"judge": true}}`` in the source notebook, such as an essay's evidence
report) the grading run is:

1. the sandbox reaches the cell and sends the **data** of the names the cell reads (the grader
   works those out from the cell's source, :func:`~filmkit.judge.names.free_names`), encoded by
   :func:`filmkit.plaindata.encode`: DataFrames, Series, arrays, strings, numbers, booleans, None
   and containers of these, dtypes, index and NaN exactly, nothing pickled;
2. the judge (:mod:`~filmkit.judge.runner`, forked per notebook from a fork server that has only
   ever imported modules) decodes them into genuine pandas and Python objects, puts them in its own
   namespace and runs the instructor's cell with IPython, as a kernel would; the expected values
   are computed there, by the judge's own ``filmkit``, from the judge's own verified corpus;
3. a name that holds a function becomes a proxy: calling it runs the student's function in the
   sandbox, on data, and only data (or the exception's name and message) comes back; a module
   is imported by its name in the judge; anything else fails the test with a message naming the
   answer and the kinds of value an answer may be;
4. the outputs the judge recorded are put into the notebook where nbgrader reads them, so
   nbgrader's own autograde scores them as it would have scored the kernel's.

The essay checks run in the judge too, in a working folder that holds only the notebook as
handed in (written there by the grader): nothing the sandbox wrote can reach them.
"""
