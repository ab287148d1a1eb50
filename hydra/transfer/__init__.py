"""Transfer: PROFILE, EXTRACT and RECONCILE — bulk transfer with a chain of custody.

Modules: ``common`` (items, scans, the row hash), ``figures`` (aggregates), ``profile``,
``targets`` (local folder / S3), ``writers`` (Parquet, CSV, JSON Lines parts), ``extract``,
``manifest``, ``progress``, ``reconcile``.
"""

import importlib

for _module in ("profile", "extract", "reconcile"):  # each registers its statement
    try:
        importlib.import_module(f"hydra.transfer.{_module}")
    except ModuleNotFoundError as _err:  # pragma: no cover - while being built
        if _err.name != f"hydra.transfer.{_module}":
            raise
