"""Transfer: PROFILE, EXTRACT and RECONCILE — bulk transfer with a chain of custody.

Modules: ``common`` (items, the row hash), ``figures`` (aggregates), ``profile``, ``targets``
(local folder / S3), ``writers`` (Parquet, CSV, JSON Lines parts), ``extract``, ``manifest``,
``progress``, ``reconcile``, ``bisect``, ``layout`` (folders at the target), ``small`` (many small
elements at once), ``direct`` (a copy that skips DuckDB). Their grammar is ``hydra.statements.transfer``.
"""
