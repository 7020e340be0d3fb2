"""The grading engine behind ``filmkit grade``: the code that orchestrates, never beside student code.

Three trust zones, three packages:

- :mod:`filmkit.sandbox` runs *beside student code*: the fork server started once per worker
  inside bubblewrap, and the executor that runs a notebook's student cells in a forked child.
  Nothing it says is believed; it only ever hands plain data back.
- :mod:`filmkit.judge` *judges*: a separate process that has never run student code and never
  shares memory with one that did. It runs the instructor's test cells (hidden tests included)
  and the essay checks, on the plain data of the names a test reads.
- this package *orchestrates*: :mod:`~filmkit.grading.grade` (the command),
  :mod:`~filmkit.grading.settings` (nbgrader autograde's command line and configuration),
  :mod:`~filmkit.grading.screen` (unreadable or tampered submissions),
  :mod:`~filmkit.grading.fastgrade` (nbgrader's ``Autograde`` with the cells run by the workers),
  :mod:`~filmkit.grading.pool` (the workers, and the router between sandbox and judge),
  :mod:`~filmkit.grading.bwrap` (the sandbox's command line), :mod:`~filmkit.grading.staging`
  (whole commits), :mod:`~filmkit.grading.outcome` (statuses).

:mod:`filmkit.protocol` is the one module all three share: the typed records the processes send
each other, their framing, and the codec for plain data.
"""
