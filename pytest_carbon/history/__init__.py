"""History across runs: a store of every run's tests and phases, trends, and a gate against it.

* :mod:`.store`: the store (SQLite through the standard library, or PostgreSQL through
  psycopg), its versioned schema and migrations, one transaction per run.
* :mod:`.stats`: pure statistics: thresholds (percent, z-score, IQR), trends, sparklines.
* :mod:`.gate`: a run's tests judged against their history on the same testbed and branch.
"""
