"""Running submissions fast and contained: the pieces behind ``filmkit grade``.

- :mod:`~filmkit.grading.sandbox.bwrap`: the bubblewrap command line (no network; only the
  Python, the package and the source texts visible, read-only) and the fallback warning;
- :mod:`~filmkit.grading.sandbox.forkserver`: the template process, started once per worker
  inside bubblewrap, that has imported pandas, plotly and filmkit and forks one fresh, isolated
  child per notebook (own user, mount, pid, IPC and UTS namespaces; rlimits; no capabilities);
- :mod:`~filmkit.grading.sandbox.executor`: what runs in that child: the notebook's cells, with
  outputs recorded the way ipykernel records them, and the instructor's test cells run by
  machinery the submission cannot patch;
- :mod:`~filmkit.grading.sandbox.pool`: the grader's side: one template per ``--jobs``, results
  parsed as untrusted JSON, a run that dies turned into errors for every cell it did not finish.

Only the execution of cells happens here; nbgrader's own autograde code decides every score
(:mod:`filmkit.grading.fastgrade`).
"""
