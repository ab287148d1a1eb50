"""Running one statement: a Hydra statement by its registered handler, anything else in DuckDB.

The same code runs a statement typed at the prompt, read from a ``-f`` script, passed with ``-c``
or piped on stdin.
"""

from __future__ import annotations

from hydra.core.errors import StatementError
from hydra.core.statement import Result, Statement
from hydra.statements.registry import registry


def run_statement(ws, stmt: Statement) -> Result:
    """Run one statement against the workspace: a Hydra statement, or DuckDB's own (which
    ``duckdb_guard`` checks first: nothing may reach a source behind Hydra's back)."""
    from hydra.catalog import duckdb_guard

    if stmt.dot:
        raise StatementError(f"{stmt.text.split()[0]} is a shell command; use it in hydra, not here")
    entry = registry().get(stmt.keyword)
    if entry is not None and not duckdb_guard.is_duckdb_statement(ws, stmt):
        return entry.run(ws, stmt)
    from hydra.read.rewrite import run_sql

    return run_sql(ws, duckdb_guard.check(ws, stmt))
