"""The two sides of ``RECONCILE … AGAINST …``: where each side's SQL runs.

A side answers SELECTs over one element (``table``) in one dialect (``hydra.core.digest``):

* ``SqlSide`` — the head's own ``sql_session`` (PostgreSQL, MySQL/MariaDB): figures and
  per-key-range digests computed by the source engine in one consistent snapshot; only the rows
  of the ranges that differ leave the database (``rows_read``).
* ``DuckSide`` — any other element (files, S3, Notes…): the element is read once through its
  scan (the head's native scan or its Arrow reader) into a DuckDB temporary table, over which
  the same SQL runs in DuckDB's dialect. One read is one moment; every row is read.

``filters``: predicates in DuckDB's SQL (the statement's WHERE, the left side's mark), applied to
every question; a SqlSide writes them in its dialect with sqlglot, after renaming columns (MAP).
"""

from __future__ import annotations

import uuid

from hydra.core.errors import HydraError
from hydra.core.sqltext import q
from hydra.transfer.common import Item, open_scan, where_sql


class Side:
    dialect: str
    table: str
    snapshot: str
    method: str
    rows_read: int = 0

    def quote(self, name: str) -> str:
        return q(name)

    def where(self, *more: str | None) -> str:
        return where_sql(*self.filters, *more)

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SqlSide(Side):
    def __init__(self, session, filters: list[str], renames: dict[str, str]):
        self.session = session
        self.dialect, self.table = session.dialect, session.table
        self.snapshot = session.snapshot
        self.method = f"{session.dialect} SQL, pushed down"
        self.filters = [translate(f, session.dialect, renames) for f in filters]

    def quote(self, name: str) -> str:
        return self.session.quote(name)

    def rows(self, sql: str) -> list[tuple]:
        return self.session.rows(sql)

    def close(self) -> None:
        self.session.close()


class DuckSide(Side):
    def __init__(self, ws, item: Item, columns: list[str], filters: list[str], renames: dict[str, str]):
        self.dialect, self.filters = "duckdb", []
        filters = [translate(f, "duckdb", renames) for f in filters]
        self.con = ws.con.cursor()
        self.con.execute("SET TimeZone = 'UTC'")  # text timestamps without an offset are UTC, as in SQL sessions
        self.table = f"__hydra_against_{uuid.uuid4().hex[:8]}"
        scan = open_scan(ws, item, self.con, filters or None)
        try:
            projection = ", ".join(q(c) for c in columns)
            self.con.execute(f"CREATE TEMP TABLE {self.table} AS SELECT {projection} FROM {scan.expr} AS __src"
                             f"{where_sql(*filters)}")
        finally:
            scan.close()
        (self.rows_read,), = self.con.execute(f"SELECT count(*) FROM {self.table}").fetchall()
        self.snapshot = "one read of the element (the rows as that read saw them)"
        self.method = "DuckDB over the element's read stream"

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        try:
            self.con.execute(f"DROP TABLE IF EXISTS {self.table}")
        finally:
            self.con.close()


def open_side(ws, item: Item, columns: list[str], filters: list[str], renames: dict[str, str]) -> Side:
    """The element's SqlSide when its head has SQL sessions, else its DuckSide."""
    if not item.is_query and item.element is not None:
        session = ws.head(item.source).sql_session(item.element)
        if session is not None:
            return SqlSide(session, filters, renames)
    return DuckSide(ws, item, columns, filters, renames)


def translate(predicate: str, dialect: str, renames: dict[str, str]) -> str:
    """A DuckDB predicate in ``dialect``, with its columns renamed (left name → right name)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(predicate, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise HydraError(f"RECONCILE: cannot read the predicate {predicate!r}: {str(err).splitlines()[0]}") from None
    lowered = {k.lower(): v for k, v in renames.items()}
    for column in tree.find_all(exp.Column):
        new = lowered.get(column.name.lower())
        if new:
            column.set("this", exp.to_identifier(new, quoted=True))
    write = {"postgresql": "postgres", "mysql": "mysql", "duckdb": "duckdb"}[dialect]
    return tree.sql(dialect=write)
