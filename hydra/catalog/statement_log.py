"""The workspace's statement log (the ``history`` table): what was run, when, by whom, how it ended.

REPORT lists these statements among the run's facts. Kept: every statement that changes the
workspace or moves data — Hydra's statements and DuckDB's non-query statements. Left out: queries
(they change nothing, and an investigation runs thousands; a plain ``SELECT`` also stays off this
path for start-up time) and dot commands (shell settings). The text is masked exactly as the
REPL's history file masks it (``secrets.mask_sql``); text that cannot be tokenized keeps only its
first word, since we cannot tell where its secrets are.
"""

from __future__ import annotations

import getpass
import socket
from datetime import datetime
from functools import cache

from hydra.core.statement import QUERIES, Statement


def worth_logging(stmt: Statement) -> bool:
    return not stmt.dot and stmt.keyword not in QUERIES


def masked_text(stmt: Statement) -> str:
    from hydra.core.secrets import mask_sql

    masked = mask_sql(stmt.text)
    return masked.strip() if masked is not None else stmt.text.split(None, 1)[0] + " …"


@cache
def who() -> tuple[str | None, str | None]:
    """(user, host) of this process, None where the system cannot say."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no such user in the password database (a container's uid)
        user = None
    return user, socket.gethostname() or None


def record(ws, stmt: Statement, origin: str, started_at: datetime, seconds: float, status: str,
           error: str | None) -> None:
    """Append one row to ``history``. A read-only workspace keeps none; a failure to write the
    log never hides the statement's own outcome."""
    import duckdb

    import hydra

    if ws.read_only or not worth_logging(stmt):
        return
    user, host = who()
    try:
        ws.con.execute(
            "INSERT INTO history (started_at, seconds, origin, line, statement, status, error, user_name, "
            "host, hydra_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [started_at, round(seconds, 3), origin, stmt.line, masked_text(stmt), status, error, user, host,
             hydra.__version__])
    except duckdb.Error:  # an aborted transaction, a closed connection: the statement's outcome matters more
        pass
