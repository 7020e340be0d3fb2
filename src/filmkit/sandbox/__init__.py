"""Code that runs beside student code, inside the grading sandbox.

- :mod:`~filmkit.sandbox.forkserver`: the template process, started once per worker inside
  bubblewrap, that has imported pandas, plotly and filmkit and forks one fresh, isolated child per
  notebook (own user, mount, pid, IPC and UTS namespaces; rlimits; no capabilities). It never
  reads a job: each child receives its own channel as a file descriptor and reads its job itself.
- :mod:`~filmkit.sandbox.executor`: what runs in that child: the notebook's student cells, with
  outputs recorded the way ipykernel records them. At each instructor test cell it sends the plain
  data of the names the test reads (:mod:`filmkit.protocol`) and waits while the judge
  (:mod:`filmkit.judge`) runs the test; the hidden tests never enter this process.

Everything here may be tampered with by the submission it runs: the grader believes nothing it
says beyond "this cell printed this" and "this name holds this data".
"""
