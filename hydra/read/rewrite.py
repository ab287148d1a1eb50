"""The statement rewrite (federation): plain SQL runs in DuckDB, with element refs served by their heads.

sqlglot finds the refs in a statement (tables whose first identifier names an attached source).
For each, Hydra works out what can be pushed down — the columns used, the WHERE conjuncts that
touch only that table, a LIMIT when nothing else stands in the way — asks the head for a scan, and
replaces only the ref's span of the user's text with it. The rest of the statement reaches DuckDB
exactly as written, and DuckDB re-applies all of it, so pushdown only ever narrows the reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from hydra.core.errors import HydraError, ReadOnlyError, StatementError, one_line
from hydra.core.refs import written_names
from hydra.core.sqltext import quote_ident
from hydra.core.statement import Result, Statement, split_statements
from hydra.read.scan import Scan, stream_failure, table_expr

WRITES = ("Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "TruncateTable", "Comment")
# nodes that make the table below them a write target whatever the statement (CREATE INDEX … ON t)
WRITTEN_BY = ("Index", "UserDefinedFunction")
# first words of statements that write: one that names a source is refused even when sqlglot
# cannot parse it
WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE",
                         "COMMENT"})
# parents where a scan must be a subquery rather than a table function
SUBQUERY_PARENTS = ("Summarize", "Describe", "Copy", "Pivot", "Unpivot")


@dataclass
class Read:
    """One ref found in a statement, and how it will be read."""

    table: object  # the sqlglot Table node
    source: str
    element: object
    start: int
    end: int  # exclusive
    columns: list[str] | None = None
    predicates: list | None = None
    limit: int | None = None


def run_sql(ws, stmt: Statement, con: duckdb.DuckDBPyConnection | None = None) -> Result:
    """Run a DuckDB statement, serving the element refs in it. The result streams: the Arrow
    views the statement reads stay registered until its rows have been read."""
    con = con or ws.con
    text, views = rewrite(ws, stmt, con)

    def unregister():
        for view in views:
            con.unregister(view)

    def error(err: duckdb.Error) -> HydraError:
        """DuckDB's first line; or, when a head's reader failed, the head's own line."""
        return stream_failure(ws, views) or HydraError(one_line(err))

    return Result.from_sql(con, text, stmt.keyword, on_close=unregister, on_error=error)


def mentions_source(ws, stmt: Statement) -> bool:
    """Cheap test on tokens: does any ``name.`` in the statement name an attached source?"""
    names = {n.lower() for n in ws.source_names()}
    if not names:
        return False
    tokens = stmt.tokens
    return any(
        tok.token_type.name in ("VAR", "IDENTIFIER") and tok.text.lower() in names
        and i + 1 < len(tokens) and tokens[i + 1].token_type.name == "DOT"
        for i, tok in enumerate(tokens))


def rewrite(ws, stmt: Statement, con=None) -> tuple[str, list[str]]:
    """The statement's text with every ref replaced by its scan, and the Arrow views registered."""
    if not mentions_source(ws, stmt):
        return stmt.text, []
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(stmt.text, read="duckdb")
    except sqlglot.errors.ParseError as err:
        _refuse_write(ws, stmt)
        raise StatementError(f"cannot read a statement that uses an element ref: {str(err).splitlines()[0]}") from None
    reads = find_reads(ws, tree)
    if isinstance(tree, exp.Command):
        _refuse_write(ws, stmt)
        raise StatementError(f"{stmt.keyword} is not supported on element refs")
    for read in reads:
        plan_pushdown(ws, tree, read)
    text, views = stmt.text, []
    try:
        for read in sorted(reads, key=lambda r: r.start, reverse=True):
            scan, view = table_expr(ws, read.source, read.element, read.columns, read.predicates, read.limit, con=con)
            if view:
                views.append(view)
            text = text[: read.start] + replacement(read, scan) + text[read.end:]
    except BaseException:
        for view in views:
            (con or ws.con).unregister(view)
        raise
    return text, views


def find_reads(ws, tree) -> list[Read]:
    from sqlglot import exp

    reads = []
    for table in tree.find_all(exp.Table):
        if table.this is not None and not isinstance(table.this, exp.Identifier):
            continue  # a table function such as read_csv('…'); no ``this``: a schema (crm.sales)
        parts = table.parts
        written = written_names(parts)
        source = ws.find_source(written[0]) if len(written) > 1 else None
        if source is None:
            continue
        if is_write_target(table):
            raise _read_only(ws, source, written, ".".join(p.sql(dialect="duckdb") for p in parts))
        source, element = ws.resolve(written)
        start = parts[0].meta.get("start")
        end = parts[-1].meta.get("end")
        if start is None or end is None:
            raise StatementError(f"cannot locate {table.sql(dialect='duckdb')} in the statement")
        reads.append(Read(table, source, element, start, end + 1))
    return reads


def _read_only(ws, source: str, written, ref: str) -> ReadOnlyError:
    """The refusal to write ``ref``; it suggests a copy only of an element that exists."""
    try:
        ws.resolve(written)
    except HydraError:
        return ReadOnlyError(f"cannot write {ref}: source {source} is read-only (Hydra never writes to a source)")
    return ReadOnlyError(f"{ref} belongs to source {source}: Hydra never writes to a source "
                         f"(copy it into a workspace table first: CREATE TABLE t AS FROM {ref})")


def _refuse_write(ws, stmt: Statement) -> None:
    """A writing statement sqlglot cannot parse that names a source is refused as a write."""
    if stmt.keyword not in WRITE_WORDS:
        return
    names = {n.lower() for n in ws.source_names()}
    tokens = stmt.tokens
    for i, tok in enumerate(tokens[:-1]):
        if tok.token_type.name in ("ALIAS", "SELECT", "FROM", "WITH", "L_PAREN"):
            return  # what follows is read, not written (CREATE … AS SELECT … FROM crm.…)
        if tok.token_type.name in ("VAR", "IDENTIFIER") and tok.text.lower() in names and tokens[i + 1].token_type.name == "DOT":
            raise ReadOnlyError(f"{stmt.keyword}: {tok.text} is a source, and Hydra never writes to a source")


def is_write_target(table) -> bool:
    from sqlglot import exp

    node, parent = table, table.parent
    while isinstance(parent, exp.Schema):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    name = type(parent).__name__
    if name in WRITTEN_BY:
        return True
    if name in WRITES and node.arg_key in ("this", "tables", "expressions"):
        return not (name == "Create" and node.arg_key != "this")
    if name == "Copy" and node.arg_key == "this":
        return bool(parent.args.get("kind"))  # COPY t FROM 'file' writes into t
    return False


def replacement(read: Read, scan: str) -> str:
    """The text that replaces a ref: the scan, named by the user's alias or the element's name."""
    parent = type(read.table.parent).__name__
    if parent in SUBQUERY_PARENTS:
        return f"(FROM {scan})"
    if read.table.alias:
        return scan  # the user's alias follows the ref in their text
    return f"{scan} AS {quote_ident(read.element.parts[-1])}"


# -- pushdown -----------------------------------------------------------------------------------


def plan_pushdown(ws, tree, read: Read) -> None:
    """Decide the columns, predicates and limit to push into one read (all conservative)."""
    read.columns = needed_columns(ws, tree, read)
    select = read.table.parent_select
    if select is None or not _is_direct_source(select, read.table):
        return
    head = ws.head(read.source)
    conjuncts = _where_conjuncts(select)
    if conjuncts and _filters_allowed(select, read.table):
        pushed = []
        for conjunct in conjuncts:
            candidate = _for_table(conjunct, read, _single_source(select))
            if candidate is not None and head.can_filter(read.element, candidate):
                pushed.append(candidate)
        read.predicates = pushed
        all_pushed = len(pushed) == len(conjuncts)
    else:
        all_pushed = not conjuncts
    read.limit = _limit(select) if all_pushed and _limit_allowed(select) else None


def needed_columns(ws, tree, read: Read) -> list[str] | None:
    """Columns the statement may use from this table; None (all) when in doubt.

    A superset is always safe: every column named anywhere in the statement that the element has.
    """
    from sqlglot import exp

    known = read.element.columns
    if not known:
        return None
    alias = (read.table.alias or read.element.parts[-1]).lower()
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return None  # SELECT *, t.*, COLUMNS(*) …
    used = set()
    for column in tree.find_all(exp.Column):
        if column.table:
            used.add(column.table.lower())  # `s.f` may be field f of a struct column s
            if column.table.lower() != alias:
                continue
        elif column.name.lower() == alias:
            return None  # the table used as a value (a row struct)
        used.add(column.name.lower())
    columns_expr = getattr(exp, "Columns", None)  # DuckDB's COLUMNS('regex') / COLUMNS(*)
    if columns_expr is not None and any(True for _ in tree.find_all(columns_expr)):
        return None
    for func in tree.find_all(exp.Anonymous):
        if func.name.lower() == "columns":
            return None
    for join in tree.find_all(exp.Join):
        if (join.args.get("method") or "").upper() == "NATURAL":
            return None  # joins on every shared column
        used.update(ident.name.lower() for ident in join.args.get("using") or ())
    picked = [c.name for c in known if c.name.lower() in used]
    # no column named (count(*), SELECT 1 …): read one column; rows are all that count
    return picked or [known[0].name]


def _is_direct_source(select, table) -> bool:
    from_ = select.args.get("from") or select.args.get("from_")
    direct = [from_.this] if from_ is not None else []
    direct += [j.this for j in select.args.get("joins") or []]
    return any(t is table for t in direct)


def _where_conjuncts(select) -> list:
    from sqlglot import exp

    where = select.args.get("where")
    if where is None:
        return []
    return list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]


def _filters_allowed(select, table) -> bool:
    """WHERE conjuncts may be pushed into a table unless an outer join could null-extend it."""
    joins = select.args.get("joins") or []
    for join in joins:
        side = (join.side or "").upper()
        if side in ("FULL",):
            return False
        if side == "RIGHT":
            return False
        if side == "LEFT" and join.this is table:
            return False
    return True


def _single_source(select) -> bool:
    return not select.args.get("joins")


def _for_table(conjunct, read: Read, only_source: bool):
    """The conjunct with table qualifiers removed, if it touches only this table; else None."""
    from sqlglot import exp

    if any(isinstance(n, (exp.Subquery, exp.Select, exp.Exists)) for n in conjunct.walk()):
        return None
    alias = (read.table.alias or read.element.parts[-1]).lower()
    known = {c.name.lower() for c in read.element.columns or ()}
    columns = list(conjunct.find_all(exp.Column))
    if not columns:
        return None
    for column in columns:
        if column.table:
            if column.table.lower() != alias:
                return None
        elif column.name.lower() not in known and (known or not only_source):
            return None  # maybe another table's column, or an outer query's
    copy = conjunct.copy()
    for column in copy.find_all(exp.Column):
        column.set("table", None)
    return copy


def _limit_allowed(select) -> bool:
    from sqlglot import exp

    if select.args.get("joins") or select.args.get("group") or select.args.get("having"):
        return False
    if select.args.get("distinct") or select.args.get("order") or select.args.get("qualify"):
        return False
    return not any(isinstance(n, (exp.AggFunc, exp.Window)) for e in select.expressions for n in e.walk())


def _limit(select) -> int | None:
    from sqlglot import exp

    limit = select.args.get("limit")
    if limit is None:
        return None
    value = limit.expression if isinstance(limit, exp.Limit) else None
    if not isinstance(value, exp.Literal) or not value.is_int:
        return None
    offset = select.args.get("offset")
    skip = 0
    if offset is not None:
        if not isinstance(offset.expression, exp.Literal) or not offset.expression.is_int:
            return None
        skip = int(offset.expression.this)
    return int(value.this) + skip


# -- a query as a scan ---------------------------------------------------------------------------


def scan_query(ws, query: str, con) -> Scan:
    """A scan of a query (``EXTRACT (SELECT …)``): its refs rewritten, as a subquery."""
    statements = split_statements(query)
    if len(statements) != 1:
        raise StatementError("EXTRACT (query) takes exactly one query")
    text, views = rewrite(ws, statements[0], con)
    return Scan(f"({text})", con, views)
