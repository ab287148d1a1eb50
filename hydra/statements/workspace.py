"""A workspace that runs statements: the catalog's ``Workspace`` plus ``execute`` and ``run``.

The catalog layer knows nothing of statements; this is where the two meet, so statements call
the catalog and never the other way round.
"""

from __future__ import annotations

from hydra.catalog import workspace as catalog
from hydra.core.errors import StatementError
from hydra.core.statement import Result, Statement, split_statements
from hydra.statements.run import run_statement


class Workspace(catalog.Workspace):
    """An open workspace. Use ``Workspace.open(path)``; ``execute`` runs one statement."""

    def execute(self, sql: str) -> Result:
        """Run one statement (Hydra's or DuckDB's) and return its ``Result``."""
        statements = split_statements(sql)
        if len(statements) != 1:
            raise StatementError(f"expected one statement, got {len(statements)}")
        return self.run(statements[0])

    def run(self, statement: Statement, stream: bool = False) -> Result:
        """Run one parsed statement. ``stream=True`` returns a result whose rows are fetched as
        they are read (the shell's output does that); otherwise they are all fetched now, so the
        result stays valid whatever runs next."""
        result = run_statement(self, statement)
        if not stream:
            result.rows  # noqa: B018 - fetch now
        return result
