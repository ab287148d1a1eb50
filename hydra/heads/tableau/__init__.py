"""Tableau Server: the protocol layer of the ``tableau`` head.

- ``rest``: the REST API through tableauserverclient (sign-in, the site walk, the inventory as
  virtual-table rows, streamed content downloads, a view's data);
- ``repository``: the same rows from the repository database (``workgroup`` on port 8060),
  preferred for history (background jobs, historical events);
- ``extracts``: a downloaded .twbx/.tdsx opened with the Hyper API: its tables, their columns as
  DuckDB types, bounded Arrow batches, and figures computed by Hyper itself;
- ``rows``: the virtual tables' columns (their DDL is ``tables/*.sql``).

Drivers are imported inside functions: importing this package costs nothing at start-up.
"""
