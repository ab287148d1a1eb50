"""Tableau Server: the ``tableau`` head (``head.TableauHead``) and its protocol layer.

- ``head``: the head users attach, made of the repository's SQL head and ``rest_head``;
- ``rest_head``: the published content (extract tables, views' summary data) as an inner head;
- ``rest``: the REST API through tableauserverclient (sign-in, the site walk, the inventory as
  virtual-table rows, streamed content downloads, a view's data);
- ``repository``: the same rows from the repository database (``workgroup`` on port 8060),
  preferred for history (background jobs, historical events);
- ``merge``: one set of rows when both paths are attached;
- ``extracts``: a downloaded .twbx/.tdsx opened with the Hyper API: its tables, their columns as
  DuckDB types, bounded Arrow batches, and figures computed by Hyper itself;
- ``content``: how extract tables and view data are named and addressed;
- ``rows``: the virtual tables' columns (their DDL is ``tables/*.sql``).

Drivers are imported inside functions: importing this package costs nothing at start-up.
"""
