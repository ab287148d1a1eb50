"""The core virtual tables: their names, and where their DDL lives (``virtual_tables/*.sql``).

A head's own tables come from the head's package instead (``Head.table_ddl``).
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.errors import HydraError

CORE_TABLES = ("sources", "elements", "columns", "marks", "stats", "transfers", "reconciliations", "differences",
               "history",
               "rejects")
MEMORY = ":memory:"
# (table, column, type) added after the table's first release: added to older workspace files on open
ADDED_COLUMNS = (("stats", "error", "VARCHAR"), ("elements", "note", "VARCHAR"), ("stats", "lines", "BIGINT"),
                 ("stats", "lines_loaded", "BIGINT"), ("stats", "lines_rejected", "BIGINT"),
                 ("stats", "lines_skipped", "BIGINT"))


def ddl_folder() -> Path:
    """``virtual_tables/``: inside the installed package, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "virtual_tables", package.parent / "virtual_tables"):
        if folder.is_dir():
            return folder
    raise HydraError("virtual_tables/ not found: the installation is incomplete")
